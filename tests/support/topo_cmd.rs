//! `TopoCmd`: runs the built `topo` binary the way a user would and asserts on its exit code,
//! stdout and stderr.

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};

/// A `topo` invocation. The environment variables topo reads (`OVN_NB_DB`, `OVN_SB_DB`) are
/// cleared so the host's settings never leak into a test; set them with [`env`](Self::env).
pub struct TopoCmd {
    cmd: Command,
}

impl TopoCmd {
    pub fn new<I, S>(args: I) -> TopoCmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_topo"));
        cmd.args(args)
            .env_remove("OVN_NB_DB")
            .env_remove("OVN_SB_DB")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        TopoCmd { cmd }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> TopoCmd {
        self.cmd.env(key, value);
        self
    }

    /// Runs in `dir` instead of the test's working directory.
    pub fn current_dir(mut self, dir: impl AsRef<std::path::Path>) -> TopoCmd {
        self.cmd.current_dir(dir);
        self
    }

    pub fn run(mut self) -> TopoOutput {
        let out = self.cmd.output().expect("run the topo binary");
        TopoOutput {
            command: format!("{:?}", self.cmd),
            out,
        }
    }
}

/// What `topo` printed and how it exited.
pub struct TopoOutput {
    command: String,
    out: Output,
}

impl TopoOutput {
    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// stderr with every run of whitespace (line wrapping, indentation) made one space, so an
    /// assertion does not depend on the terminal width the report was wrapped to.
    pub fn stderr_flat(&self) -> String {
        self.stderr()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Asserts the exit code, printing everything the command said if it differs.
    pub fn expect_code(self, code: i32) -> TopoOutput {
        assert_eq!(
            self.code(),
            Some(code),
            "{} exited {:?}, expected {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.out.status,
            self.stdout(),
            self.stderr()
        );
        self
    }

    pub fn success(self) -> TopoOutput {
        self.expect_code(0)
    }
}

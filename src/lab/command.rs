//! Running external tools (`ip`, `ovsdb-tool`, `ping`, `ovn-trace`, ...) from argv arrays,
//! never through a shell, with their stderr in the error when they fail.

use std::process::{Command, Output, Stdio};

use super::error::LabError;

/// Runs `argv` to completion; fails unless it exits 0. Returns its stdout.
pub(crate) fn run(argv: &[&str]) -> Result<String, LabError> {
    let out = output(argv)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(failure(argv, &out))
    }
}

/// Runs `argv` to completion and returns whatever it did, exit status included.
pub(crate) fn output(argv: &[&str]) -> Result<Output, LabError> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| LabError::Setup("empty command".into()))?;
    Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            argv: argv.join(" "),
            status: "not started".into(),
            stderr: e.to_string(),
        })
}

/// The error for a command that ran and failed.
pub(crate) fn failure(argv: &[&str], out: &Output) -> LabError {
    LabError::Command {
        argv: argv.join(" "),
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    }
}

/// `argv` run inside network namespace `ns` (`ip netns exec NS ...`).
pub(crate) fn in_netns<'a>(ns: &'a str, argv: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["ip", "netns", "exec", ns];
    v.extend_from_slice(argv);
    v
}

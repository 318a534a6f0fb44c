//! One daemon started by the harness, owned as a [`std::process::Child`] and stopped by its PID.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::try_wait_for;

/// How long a daemon gets to exit after SIGTERM before it is sent SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// A child process the harness started. Dropping it stops it: SIGTERM, a short wait, then
/// SIGKILL, always by the PID of this child (never by name). Until the child is reaped its PID
/// cannot be reused, so a signal can only reach this process.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Option<Child>,
    pid: u32,
    /// Where the child's stdout and stderr go (the daemons also keep their own `--log-file`).
    output: PathBuf,
}

impl Daemon {
    /// Spawns `cmd` with stdin closed and stdout/stderr appended to `output`.
    pub fn spawn(name: &str, mut cmd: Command, output: &Path) -> Daemon {
        let out = File::options()
            .create(true)
            .append(true)
            .open(output)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", output.display()));
        let err = out.try_clone().expect("dup output file");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Daemon {
            name: name.to_owned(),
            pid: child.id(),
            child: Some(child),
            output: output.to_owned(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn output_path(&self) -> &Path {
        &self.output
    }

    /// Whether the child is still running (reaps it if it has exited).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Panics with the daemon's output if it has exited: for readiness loops, so a daemon that
    /// died at start fails fast with its reason instead of timing out.
    pub fn assert_running(&mut self) {
        if !self.is_running() {
            let status = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            panic!(
                "{} (pid {}) exited ({status:?}); its output:\n{}",
                self.name,
                self.pid,
                super::tail(&self.output, 30)
            );
        }
    }

    /// Sends a signal (`"TERM"`, `"KILL"`, `"STOP"`, `"CONT"`) to this child, if it is still
    /// ours and unreaped. Returns whether the signal was sent.
    pub fn signal(&mut self, sig: &str) -> bool {
        if !self.is_running() {
            return false;
        }
        if sig == "KILL" {
            return self.child.as_mut().is_some_and(|c| c.kill().is_ok());
        }
        // std can only send SIGKILL; `kill(1)` sends the others to this exact PID.
        Command::new(super::bin("kill"))
            .arg(format!("-{sig}"))
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// SIGKILL, then reap. The daemon gets no chance to clean up (stale sockets and pidfiles
    /// stay), as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, wait up to a few seconds for the exit, then SIGKILL; always reaps.
    pub fn stop(&mut self) {
        if self.child.is_none() {
            return;
        }
        if self.signal("TERM") {
            // A daemon a test froze (SIGSTOP) only acts on SIGTERM once it runs again.
            self.signal("CONT");
            let exited = try_wait_for(TERM_GRACE, || (!self.is_running()).then_some(()));
            if exited.is_none() {
                eprintln!(
                    "{} (pid {}) ignored SIGTERM for {TERM_GRACE:?}; sending SIGKILL",
                    self.name, self.pid
                );
            }
        }
        self.kill();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

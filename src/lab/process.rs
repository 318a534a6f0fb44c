//! The lab's processes: started as children with their output in a file, recorded with
//! their PID and kernel start time, stopped by that PID only (SIGTERM, then SIGKILL after a
//! deadline). The start time guards against a recycled PID: a record only ever matches the
//! process it was taken from, so `down` after a crash or a reboot cannot hit a stranger.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use serde::{Deserialize, Serialize};

use super::error::LabError;

/// One process the lab started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// What it is, e.g. `nb`, `northd`, `ch1/ovs-vswitchd`.
    pub role: String,
    pub pid: i32,
    /// Field 22 of `/proc/PID/stat` (clock ticks since boot) when it was recorded.
    pub start_time: u64,
    /// Its namespace, if it runs in one.
    pub netns: Option<String>,
    /// Where its stdout and stderr go.
    pub output: PathBuf,
}

/// What to start.
pub(crate) struct Spawn<'a> {
    pub role: &'a str,
    pub netns: Option<&'a str>,
    pub argv: &'a [String],
    pub env: &'a [(&'a str, &'a Path)],
    pub output: &'a Path,
}

/// Starts a long-running process in its own process group (a terminal's Ctrl-C does not
/// reach it) with stdin closed. A thread reaps it when it exits, so a long-lived caller
/// (a test binary) keeps no zombies.
pub(crate) fn spawn(s: &Spawn<'_>) -> Result<ProcessRecord, LabError> {
    let (prog, args) = s
        .argv
        .split_first()
        .ok_or_else(|| LabError::Setup(format!("{}: empty command", s.role)))?;
    let mut cmd = match s.netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, prog]);
            c
        }
        None => Command::new(prog),
    };
    cmd.args(args);
    for (k, v) in s.env {
        cmd.env(k, v);
    }
    let out = File::create(s.output).map_err(|e| LabError::io(s.output, e))?;
    let err = out.try_clone().map_err(|e| LabError::io(s.output, e))?;
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| LabError::Command {
        argv: s.argv.join(" "),
        status: "not started".into(),
        stderr: e.to_string(),
    })?;
    let pid = i32::try_from(child.id()).map_err(|_| LabError::Setup("pid out of range".into()))?;
    let start_time = start_time(pid).unwrap_or(0);
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(ProcessRecord {
        role: s.role.to_owned(),
        pid,
        start_time,
        netns: s.netns.map(str::to_owned),
        output: s.output.to_owned(),
    })
}

/// The kernel start time of `pid`, if it exists and is not a zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); start time is field 22.
    let state = *fields.first()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.get(19)?.parse().ok()
}

impl ProcessRecord {
    /// Whether the recorded process is still running (same PID, same start time).
    pub fn alive(&self) -> bool {
        start_time(self.pid).is_some_and(|t| t == self.start_time)
    }
}

/// Stops the recorded process if it still runs: SIGTERM, then SIGKILL once `grace` has
/// passed. Returns once it is gone, or fails if even SIGKILL did not end it in time.
pub fn terminate(rec: &ProcessRecord, grace: Duration) -> Result<(), LabError> {
    for (signal, wait) in [
        (Signal::TERM, grace),
        (Signal::KILL, Duration::from_secs(3)),
    ] {
        if !rec.alive() {
            return Ok(());
        }
        if let Some(pid) = Pid::from_raw(rec.pid) {
            let _ = kill_process(pid, signal);
        }
        let start = Instant::now();
        while rec.alive() && start.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    if rec.alive() {
        Err(LabError::Setup(format!(
            "{} (pid {}) survived SIGKILL",
            rec.role, rec.pid
        )))
    } else {
        Ok(())
    }
}

/// The last `lines` lines of a process's output, for error messages.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_record_and_terminate_by_pid() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sleep.out");
        let argv = vec!["sleep".to_owned(), "30".to_owned()];
        let rec = spawn(&Spawn {
            role: "sleep",
            netns: None,
            argv: &argv,
            env: &[],
            output: &out,
        })
        .unwrap();
        assert!(rec.alive());
        // A record with another start time is a different process: never signalled.
        let stranger = ProcessRecord {
            start_time: rec.start_time + 1,
            ..rec.clone()
        };
        assert!(!stranger.alive());
        terminate(&stranger, Duration::from_millis(50)).unwrap();
        assert!(rec.alive());
        terminate(&rec, Duration::from_secs(2)).unwrap();
        assert!(!rec.alive());
        // Idempotent.
        terminate(&rec, Duration::from_secs(2)).unwrap();
    }

    #[test]
    fn own_start_time_is_readable() {
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(start_time(me).is_some());
        assert!(start_time(i32::MAX).is_none());
    }
}

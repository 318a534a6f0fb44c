//! The torture tier: faults injected into real OVN daemons at many points of an apply, each
//! round checked against the database. Its own test binary (`test = false` in Cargo.toml:
//! the default `cargo test` does not run it); `scripts/torture.sh` runs it, with counts from
//! the environment (small by default, as CI runs it; large ones for the record in
//! `docs/reliability.md`):
//!
//! | variable | default | what |
//! | --- | --- | --- |
//! | `TORTURE_TENANTS` | 300 | tenants of the topology killed during its apply (6 rows each) |
//! | `TORTURE_KILLS` | 4 | rounds of `kill -9` of ovsdb-server inside the commit window |
//! | `TORTURE_TOPO_ROUNDS` | 1 | rounds of each of the four topo kill points |
//! | `TORTURE_RAFT_RUNS` | 1 | rounds of each RAFT fault |
//! | `TORTURE_SEED` | the clock | the kill points' random seed (printed) |
//!
//! Every case prints one `TORTURE <case>: …` line with its counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod concurrent;
mod raft;
mod server_kill;
mod tls;
mod topo_kill;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A count from the environment, or `default`.
pub fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small xorshift generator: the kill points, reproducible from the printed seed.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(case: &str) -> Rng {
        let seed = std::env::var("TORTURE_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("TORTURE {case}: seed {seed}");
        Rng(seed | 1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `topo ARGS --db REMOTE`, waited for: exit status and stderr with whitespace folded.
pub fn topo(remote: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(args)
        .args(["--db", remote])
        .env_remove("OVN_NB_DB")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        support::folded(&String::from_utf8_lossy(&out.stderr)),
    )
}

/// `topo plan FILE` is empty (exit 0) at `remote`.
pub fn assert_plan_empty(remote: &str, file: &Path, context: &str) {
    let (code, stdout, stderr) = topo(remote, &["plan", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{context}: plan not empty: {stdout}{stderr}");
}

/// `topo apply --yes` of a file, running in the background, output to files (a plan larger
/// than a pipe's buffer would otherwise hold topo back).
pub struct Apply {
    pub child: Child,
    start: Instant,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Apply {
    pub fn spawn(remote: &str, file: &Path, dir: &Path, tag: &str, timeout: u64) -> Apply {
        let stdout = dir.join(format!("stdout-{tag}"));
        let stderr = dir.join(format!("stderr-{tag}"));
        let start = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_topo"))
            .args(["apply", "--yes", "--timeout", &timeout.to_string()])
            .arg(file)
            .args(["--db", remote])
            .env_remove("OVN_NB_DB")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Apply {
            child,
            start,
            stdout,
            stderr,
        }
    }

    /// SIGKILL, by the child's PID.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }

    /// Waits for the exit: status, run time, stdout, stderr (whitespace folded).
    pub fn finish(mut self) -> (ExitStatus, Duration, String, String) {
        let status = self.child.wait().unwrap();
        let took = self.start.elapsed();
        let stdout = std::fs::read_to_string(&self.stdout).unwrap();
        let stderr = support::folded(&std::fs::read_to_string(&self.stderr).unwrap());
        (status, took, stdout, stderr)
    }
}

/// What topo said of an apply that was interrupted: `Some(true)` applied, `Some(false)` not
/// applied with nothing written, `None` "unknown" (a failure in every case here: the database
/// was back before the deadline). Panics on anything else.
pub fn verdict(status: &ExitStatus, stderr: &str, context: &str) -> Option<bool> {
    if stderr.contains("outcome is unknown") {
        return None;
    }
    match status.code() {
        Some(0) => Some(true),
        // Committed, then the re-read failed: topo says it applied.
        Some(1) if stderr.contains("applied (apply ") => Some(true),
        Some(1) if stderr.contains("nothing was written") => Some(false),
        other => panic!("{context}: topo exited {other:?} without a verdict: {stderr}"),
    }
}

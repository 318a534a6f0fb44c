//! Test support: real OVN daemons in private temp dirs ([`ovn`]), the processes that run them
//! ([`process`]), a throwaway PKI ([`pki`]), OVN's own command-line tools a user would check
//! with ([`ovn_tools`]) and the built `topo` binary run as a user runs it ([`topo_cmd`]).
//!
//! Every daemon is a child of the test process, started in the foreground (no `--detach`) so its
//! PID is known, and stopped by that PID when its owner is dropped, also while a test panics.
//! Nothing here ever signals a process it did not start, and nothing listens beyond loopback.
#![allow(dead_code)]

pub mod ovn;
pub mod ovn_tools;
pub mod pki;
pub mod process;
pub mod proxy;
pub mod topo_cmd;
pub mod topology;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The binaries a sandbox needs. Checked once per test by [`ovn_available`].
pub const OVN_BINARIES: &[&str] = &[
    "ovsdb-server",
    "ovsdb-tool",
    "ovsdb-client",
    "ovs-appctl",
    "ovn-northd",
    "ovn-nbctl",
    "ovn-sbctl",
];

/// The default deadline for a daemon to become ready or to reach a wanted state.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// True when running under CI (`CI=true`), where a missing OVN binary is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Finds an executable in `PATH`, then in the sbin directories that a non-root `PATH` may lack
/// (Debian puts `ovsdb-server` in /usr/sbin).
pub fn find_bin(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
                "/usr/local/sbin",
                "/usr/local/bin",
            ]
            .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Like [`find_bin`], but panics with a clear message: for call sites after [`ovn_available`].
pub fn bin(name: &str) -> PathBuf {
    find_bin(name).unwrap_or_else(|| {
        panic!("`{name}` is not installed (looked in PATH and the sbin dirs); run scripts/install-deps.sh")
    })
}

/// Whether the OVN binaries are installed. When some are missing: under CI this panics (a
/// test that needs OVN must not pass by skipping); locally it prints a loud notice and returns
/// false so the test can return early. Use through [`require_ovn!`](crate::require_ovn).
pub fn ovn_available(test: &str) -> bool {
    tools_available(test, OVN_BINARIES, "OVN/OVS binaries")
}

/// Whether every program of `tools` is installed, with [`ovn_available`]'s rule for missing
/// ones: a panic under `CI=true`, a loud notice and `false` otherwise. `what` names them in
/// the message. Use through [`require_tools!`](crate::require_tools).
pub fn tools_available(test: &str, tools: &[&str], what: &str) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|b| find_bin(b).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "test `{test}` needs {what} that are not installed: {}. \
         Install them with scripts/install-deps.sh",
        missing.join(", ")
    );
    if in_ci() {
        panic!("{msg} (CI=true: a missing tool fails the test)");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
    false
}

/// Returns from the calling test (locally) or panics (under `CI=true`) when one of the named
/// programs is missing: `require_tools!(["groff"])`.
#[macro_export]
macro_rules! require_tools {
    ($tools:expr) => {
        if !$crate::support::tools_available(module_path!(), &$tools, "programs") {
            return;
        }
    };
}

/// Returns from the calling test (locally) or panics (under `CI=true`) when OVN is missing.
#[macro_export]
macro_rules! require_ovn {
    () => {
        if !$crate::support::ovn_available(module_path!()) {
            return;
        }
    };
}

/// `text` with miette's wrapping undone: whitespace runs made one space, its `│` gutters
/// dropped, so a test can look for a sentence the report broke across lines.
pub fn folded(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Polls `f` until it returns `Some`, or panics after `timeout` naming `what`. The pause
/// between polls is short and grows; it paces the polling, it is not the synchronisation.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    try_wait_for(timeout, &mut f)
        .unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// Polls `f` until it returns `Some` or `timeout` passes (then `None`).
pub fn try_wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// The last `n` lines of a file, or a note that it could not be read.
pub fn tail(path: &Path, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Whether a process with this PID exists (and is not a zombie). Used to prove teardown.
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3, after the parenthesised command name, is the state; Z is a zombie.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

//! The command-line tools a user would check with: `ovn-nbctl`, `ovn-sbctl`, `ovsdb-client`,
//! `ovs-appctl`. Each call has a timeout of its own, so a test never hangs on a tool.

use std::path::Path;
use std::process::Command;

use super::bin;
use super::pki::TlsFiles;

/// Seconds each tool gets before it gives up by itself.
pub const TOOL_TIMEOUT_SECS: u32 = 20;

/// Runs `program ARGS`; `Ok(stdout)` on success, else `Err` with the command, status and stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(bin(program))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "`{program} {}` failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end(),
            if stdout.is_empty() {
                String::new()
            } else {
                format!("\nstdout: {stdout}")
            }
        ))
    }
}

fn with_timeout<'a>(timeout: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    std::iter::once(timeout)
        .chain(args.iter().copied())
        .collect()
}

/// `ovs-appctl --timeout=N -t <ctl> ARGS`.
pub fn appctl(ctl: &Path, args: &[&str]) -> Result<String, String> {
    let t = format!("--timeout={TOOL_TIMEOUT_SECS}");
    let target = format!("--target={}", ctl.display());
    run(
        "ovs-appctl",
        &with_timeout(&t, &[&[target.as_str()], args].concat()),
    )
}

/// `ovn-nbctl --db=<remote> ARGS`; panics with the tool's error on failure.
pub fn nbctl(remote: &str, args: &[&str]) -> String {
    try_nbctl(remote, None, args).unwrap_or_else(|e| panic!("{e}"))
}

/// `ovn-nbctl --db=<remote> [-p -c -C] ARGS`.
pub fn try_nbctl(remote: &str, tls: Option<&TlsFiles>, args: &[&str]) -> Result<String, String> {
    ctl("ovn-nbctl", remote, tls, args)
}

/// `ovn-sbctl --db=<remote> ARGS`; panics on failure.
pub fn sbctl(remote: &str, args: &[&str]) -> String {
    ctl("ovn-sbctl", remote, None, args).unwrap_or_else(|e| panic!("{e}"))
}

fn ctl(
    program: &str,
    remote: &str,
    tls: Option<&TlsFiles>,
    args: &[&str],
) -> Result<String, String> {
    let mut all = vec![
        format!("--db={remote}"),
        format!("--timeout={TOOL_TIMEOUT_SECS}"),
    ];
    all.extend(tls.map(TlsFiles::args).unwrap_or_default());
    all.extend(args.iter().map(|s| (*s).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    run(program, &all)
}

/// `ovsdb-client ARGS` as given (add `--timeout=N` yourself for `wait`/`monitor`).
pub fn ovsdb_client(args: &[&str]) -> Result<String, String> {
    run("ovsdb-client", args)
}

/// `ovsdb-client [-p -c -C] --timeout=N ARGS`.
pub fn ovsdb_client_tls(tls: Option<&TlsFiles>, args: &[&str]) -> Result<String, String> {
    let mut all = vec![format!("--timeout={TOOL_TIMEOUT_SECS}")];
    all.extend(tls.map(TlsFiles::args).unwrap_or_default());
    all.extend(args.iter().map(|s| (*s).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    run("ovsdb-client", &all)
}

/// `ovsdb-client dump <remote> <db>`: the whole database as text, for before/after equality.
pub fn dump(remote: &str, db: &str) -> String {
    ovsdb_client_tls(None, &["dump", remote, db]).unwrap_or_else(|e| panic!("{e}"))
}

/// `ovsdb-client dump -f json <remote> <db> [tables]` parsed.
pub fn dump_json(remote: &str, db: &str, tables: &[&str]) -> serde_json::Value {
    let args = [&["-f", "json", "dump", remote, db][..], tables].concat();
    let out = ovsdb_client_tls(None, &args).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("ovsdb-client dump -f json gave non-JSON ({e}): {out}"))
}

/// `ovsdb-client transact <remote> '[db, ops...]'`: the raw reply (an array of results).
pub fn transact(remote: &str, request: &serde_json::Value) -> Result<serde_json::Value, String> {
    let req = request.to_string();
    let out = ovsdb_client_tls(None, &["transact", remote, &req])?;
    serde_json::from_str(&out)
        .map_err(|e| format!("ovsdb-client transact gave non-JSON ({e}): {out}"))
}

/// `ovsdb-client list-dbs <remote>`, one name a line.
pub fn list_dbs(remote: &str, tls: Option<&TlsFiles>) -> Result<Vec<String>, String> {
    ovsdb_client_tls(tls, &["list-dbs", remote]).map(|s| s.lines().map(str::to_owned).collect())
}

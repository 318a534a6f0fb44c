//! ovsdb-server killed (SIGKILL, by PID, through the harness) around an apply: between plan
//! and apply nothing is written; during the apply of a large topology the database holds the
//! old state or the new one, never a mix, and topo's verdict matches what the database holds.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use std::time::Instant;

use super::{owned_rows, owned_rows_at, plan, topo, write};
use crate::require_ovn;
use crate::support::ovn::NbCluster;
use crate::support::ovn::OvnSandbox;
use crate::support::topo_cmd::TopoCmd;
use crate::support::topology::tenants;

#[test]
fn killed_between_plan_and_apply_writes_nothing() {
    require_ovn!();
    let mut ovn = OvnSandbox::nb_only();
    let dir = tempfile::tempdir().unwrap();
    let (yaml, _) = tenants(3);
    let file = write(dir.path(), "t.yaml", &yaml);
    let f = file.to_str().unwrap();
    ovn.nbctl(&["ls-add", "beside"]);
    let before = ovn.nb_dump();
    plan(&ovn, &file, 2);
    topo(
        &ovn,
        &[
            "plan",
            "-o",
            dir.path().join("saved.json").to_str().unwrap(),
            f,
        ],
    )
    .expect_code(2);

    ovn.nb.kill();
    let out = topo(&ovn, &["apply", "--yes", "--timeout", "2", f]).expect_code(1);
    assert!(
        super::stderr(&out).contains("cannot use the Northbound database at"),
        "{}",
        out.stderr()
    );
    let saved = dir.path().join("saved.json");
    let out = topo(
        &ovn,
        &["apply", "--yes", "--timeout", "2", saved.to_str().unwrap()],
    )
    .expect_code(1);
    assert!(
        super::stderr(&out).contains("cannot use the Northbound database at"),
        "{}",
        out.stderr()
    );

    ovn.nb.restart();
    assert_eq!(before, ovn.nb_dump());
    assert_eq!(owned_rows(&ovn, "big"), 0);
    // The saved plan is still good after the restart: nothing it read moved.
    topo(&ovn, &["apply", "--yes", saved.to_str().unwrap()]).success();
    plan(&ovn, &file, 0);
}

/// R1 in small: 300 tenants (1801 rows in one transaction); ovsdb-server killed at points
/// spread over the apply's measured duration, restarted at once so topo can resolve the
/// outcome from the apply marker. Each time: 0 or all of the stack's rows, topo's verdict
/// agrees, and `topo plan` is empty or the full plan.
#[test]
fn killed_during_apply_leaves_old_or_new_never_a_mix() {
    require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let (yaml, rows) = tenants(300);
    let file = write(dir.path(), "big.yaml", &yaml);
    let f = file.to_str().unwrap().to_owned();
    let full_plan = format!("Plan: {rows} to create, 0 to update, 0 to delete.");

    // Calibrate: one apply, uninterrupted, started the same way as the ones killed below.
    let ovn = OvnSandbox::nb_only();
    let run = Apply::spawn(&ovn, &f, dir.path(), "calibrate");
    let (status, full, _, _) = run.finish();
    assert_eq!(status.code(), Some(0));
    assert_eq!(owned_rows(&ovn, "big"), rows);
    drop(ovn);

    let mut outcomes = Vec::new();
    for fraction in [0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.7] {
        let mut ovn = OvnSandbox::nb_only();
        ovn.nbctl(&["ls-add", "beside"]);
        let run = Apply::spawn(&ovn, &f, dir.path(), &fraction.to_string());
        std::thread::sleep(full.mul_f64(fraction));
        ovn.nb.kill();
        ovn.nb.restart();
        let (status, took, stdout, stderr) = run.finish();
        let n = owned_rows(&ovn, "big");
        assert!(
            n == 0 || n == rows,
            "a mix: {n} of {rows} rows after a kill at {fraction}"
        );
        assert!(
            !stderr.contains("outcome is unknown") && !stderr.contains("may or may not"),
            "the server was back within the timeout, the verdict must be known: {stderr}"
        );
        match status.code() {
            Some(0) => assert_eq!(
                n,
                rows,
                "topo said applied: {}",
                stdout.lines().last().unwrap_or_default()
            ),
            // Committed, but the re-read after it failed: topo must say it applied.
            Some(1) if stderr.contains("applied (apply ") => {
                assert_eq!(n, rows, "topo said applied: {stderr}")
            }
            Some(1) => assert_eq!(n, 0, "topo failed but the rows are there: {stderr}"),
            other => panic!("topo exited {other:?}: {stderr}"),
        }
        let after = plan(&ovn, &file, if n == 0 { 2 } else { 0 }).stdout();
        if n == 0 {
            assert!(after.contains(&full_plan), "{after}");
        }
        assert!(ovn.nbctl(&["ls-list"]).contains("(beside)"));
        outcomes.push((fraction, took, n == rows, stderr));
    }
    eprintln!(
        "calibrated apply {full:?}; (fraction, topo's run time, applied, stderr): {outcomes:#?}"
    );
}

/// The issue-13 case, made exact with a proxy between topo and the server: ovsdb-server is
/// killed (SIGKILL, by PID) at a point of the apply's transaction and restarted within a
/// second on the same socket and database file. topo must then say applied or not applied —
/// never "unknown" — and be right (the stack's rows counted by `_uuid`: all or none):
/// - the request forwarded whole and the server's reply begun (committed), the reply held:
///   applied;
/// - half of the request forwarded: not applied, nothing written;
/// - the request forwarded whole, the server killed at once (inside its commit): either,
///   matching the database.
#[test]
fn server_killed_in_the_commit_gives_a_verdict_that_matches_the_database() {
    use crate::support::proxy::{Action, Point, Proxy, Rule};
    require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let (yaml, rows) = tenants(300);
    let file = write(dir.path(), "big.yaml", &yaml);
    let f = file.to_str().unwrap().to_owned();
    let cases: [(&str, Action); 3] = [
        ("reply held", Action::HoldReply),
        // 1 KiB of a request of ~1 MB: well inside it.
        ("request cut", Action::Hold { bytes: 1024 }),
        ("in the commit", Action::Watch),
    ];
    let mut verdicts = Vec::new();
    for (i, (case, action)) in cases.into_iter().enumerate() {
        let mut ovn = OvnSandbox::nb_only();
        let upstream = ovn.nb_remote().trim_start_matches("unix:").to_owned();
        let proxy = Proxy::start(dir.path(), &format!("p{i}.sock"), Path::new(&upstream));
        proxy.arm(Rule {
            marker: r#""op":"assert""#.to_owned(),
            action: action.clone(),
        });
        let run = Apply::spawn_at(&proxy.remote(), &f, dir.path(), &format!("kill{i}"));
        let wanted: fn(&Point) -> bool = match action {
            Action::HoldReply => |p| *p == Point::ReplyStarted,
            _ => |p| *p == Point::Forwarded,
        };
        proxy.wait_for(wanted, Duration::from_secs(60));
        let down = Instant::now();
        ovn.nb.kill();
        ovn.nb.restart();
        let back = down.elapsed();
        assert!(back < Duration::from_secs(1), "restart took {back:?}");
        let (status, _, _, stderr) = run.finish();
        let n = owned_rows(&ovn, "big");
        assert!(n == 0 || n == rows, "{case}: a mix: {n} of {rows} rows");
        assert!(
            !stderr.contains("outcome is unknown"),
            "{case}: the server was back in {back:?}, the verdict must be known: {stderr}"
        );
        let applied = match status.code() {
            Some(0) => true,
            Some(1) if stderr.contains("not applied") && stderr.contains("nothing was written") => {
                false
            }
            // Committed, the re-read after it failed: topo says it applied.
            Some(1) if stderr.contains("applied (apply ") => true,
            other => panic!("{case}: topo exited {other:?}: {stderr}"),
        };
        assert_eq!(
            n == rows,
            applied,
            "{case}: topo's verdict is wrong: {stderr}"
        );
        match case {
            "reply held" => assert!(applied, "{case}: the server had replied: {stderr}"),
            "request cut" => assert!(!applied, "{case}: the request was incomplete"),
            _ => {}
        }
        // Converges: the next apply does the rest (or nothing), then the plan is empty.
        topo(&ovn, &["apply", "--yes", &f]).success();
        plan(&ovn, &file, 0);
        verdicts.push((case, applied, back));
    }
    eprintln!("(case, applied, server down for): {verdicts:?}");
}

/// "Unknown" only when no member answered before the deadline: the server killed after it
/// replied (the reply held by the proxy) and not restarted. The message names the remote and
/// the time spent; the database, once back, holds the change.
#[test]
fn outcome_is_unknown_only_when_nothing_answers_before_the_deadline() {
    use crate::support::proxy::{Action, Point, Proxy, Rule};
    require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let (yaml, rows) = tenants(3);
    let file = write(dir.path(), "t.yaml", &yaml);
    let mut ovn = OvnSandbox::nb_only();
    let upstream = ovn.nb_remote().trim_start_matches("unix:").to_owned();
    let proxy = Proxy::start(dir.path(), "p.sock", Path::new(&upstream));
    proxy.arm(Rule {
        marker: r#""op":"assert""#.to_owned(),
        action: Action::HoldReply,
    });
    let remote = proxy.remote();
    let child = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(["apply", "--yes", "--timeout", "2", file.to_str().unwrap()])
        .args(["--db", &remote])
        .env_remove("OVN_NB_DB")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    proxy.wait_for(|p| *p == Point::ReplyStarted, Duration::from_secs(30));
    ovn.nb.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = crate::support::folded(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("outcome is unknown"), "{stderr}");
    assert!(
        stderr.contains(&format!("no member of {remote} answered")),
        "{stderr}"
    );
    assert!(stderr.contains("within 2."), "the time spent: {stderr}");
    ovn.nb.restart();
    assert_eq!(
        owned_rows(&ovn, "big"),
        rows,
        "the server had replied: committed"
    );
    plan(&ovn, &file, 0);
}

/// `topo apply --yes` of a file, running in the background.
struct Apply {
    child: Child,
    start: Instant,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Apply {
    fn spawn(ovn: &OvnSandbox, file: &str, dir: &Path, tag: &str) -> Apply {
        Apply::spawn_at(&ovn.nb_remote(), file, dir, tag)
    }

    fn spawn_at(remote: &str, file: &str, dir: &Path, tag: &str) -> Apply {
        let stdout = dir.join(format!("stdout-{tag}"));
        let stderr = dir.join(format!("stderr-{tag}"));
        let start = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_topo"))
            .args(["apply", "--yes", "--timeout", "10", file, "--db", remote])
            .env_remove("OVN_NB_DB")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            // To files, not pipes: the plan topo prints before sending is larger than a pipe
            // buffer, and a full pipe would hold topo back until the test reads it.
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

    /// Waits for the exit: status, run time, stdout, stderr with whitespace runs made one space.
    fn finish(mut self) -> (ExitStatus, Duration, String, String) {
        let status = self.child.wait().unwrap();
        let took = self.start.elapsed();
        let stdout = std::fs::read_to_string(&self.stdout).unwrap();
        let stderr = crate::support::folded(&std::fs::read_to_string(&self.stderr).unwrap());
        (status, took, stdout, stderr)
    }
}

/// The same against a 3-server RAFT cluster, the leader killed during the apply (and during
/// the prune of everything, alternately): 0 or all of the stack's rows on the new leader,
/// topo's verdict agrees (it never re-sends a write, so a transaction the old leader had
/// replicated cannot land twice), and `topo plan` agrees.
#[test]
fn leader_killed_during_apply_leaves_old_or_new_never_a_mix() {
    require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let (yaml, rows) = tenants(300);
    let big = write(dir.path(), "big.yaml", &yaml);
    let empty = write(
        dir.path(),
        "empty.yaml",
        "name: big\nchassis:\n  hv1: { encap: { type: geneve, ip: 172.17.42.20 } }\n  \
         hv2: { encap: { type: geneve, ip: 172.17.42.21 } }\n",
    );
    let mut cluster = NbCluster::start();
    let remote = cluster.remote();
    let leader_remote = |c: &NbCluster| c.server(c.wait_for_leader()).unix_remote();

    // Calibrate on the cluster.
    let run = Apply::spawn_at(&remote, big.to_str().unwrap(), dir.path(), "calibrate");
    let (status, full, _, stderr) = run.finish();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(owned_rows_at(&leader_remote(&cluster), "big"), rows);

    let mut have = rows;
    let mut outcomes = Vec::new();
    for (i, fraction) in [0.4, 0.6, 0.8, 0.95].into_iter().enumerate() {
        let (target, want) = if have == rows {
            (&empty, 0)
        } else {
            (&big, rows)
        };
        let run = Apply::spawn_at(
            &remote,
            target.to_str().unwrap(),
            dir.path(),
            &i.to_string(),
        );
        std::thread::sleep(full.mul_f64(fraction));
        let (old, _) = cluster.kill_leader();
        let (status, took, _, stderr) = run.finish();
        cluster.restart(old);
        let n = owned_rows_at(&leader_remote(&cluster), "big");
        assert!(n == 0 || n == rows, "a mix: {n} of {rows} rows (run {i})");
        assert!(
            !stderr.contains("outcome is unknown") && !stderr.contains("may or may not"),
            "a new leader was elected within the timeout: the verdict must be known: {stderr}"
        );
        match status.code() {
            Some(0) => assert_eq!(n, want, "topo said applied (run {i})"),
            Some(1) if stderr.contains("applied (apply ") => assert_eq!(n, want, "{stderr}"),
            Some(1) => assert_eq!(n, have, "topo failed but the rows changed: {stderr}"),
            other => panic!("topo exited {other:?}: {stderr}"),
        }
        let code = if n == want { 0 } else { 2 };
        TopoCmd::new(["plan", target.to_str().unwrap(), "--db", &remote])
            .run()
            .expect_code(code);
        outcomes.push((fraction, took, n == want, stderr));
        have = n;
    }
    eprintln!("calibrated apply {full:?}; (fraction, took, applied, stderr): {outcomes:#?}");
}

/// A connection lost while taking the stack's lock (as an inactivity probe's loss is) ends
/// the apply before anything was sent, and the message says so.
#[test]
fn a_connection_lost_while_taking_the_lock_says_nothing_was_written() {
    use crate::support::proxy::{Action, Proxy, Rule};
    require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let (yaml, _) = tenants(3);
    let file = write(dir.path(), "t.yaml", &yaml);
    let ovn = OvnSandbox::nb_only();
    let upstream = ovn.nb_remote().trim_start_matches("unix:").to_owned();
    let proxy = Proxy::start(dir.path(), "p.sock", Path::new(&upstream));
    proxy.arm(Rule {
        marker: r#""method":"lock""#.to_owned(),
        action: Action::Cut { bytes: 0 },
    });
    let remote = proxy.remote();
    let out = TopoCmd::new([
        "apply",
        "--yes",
        "--timeout",
        "3",
        file.to_str().unwrap(),
        "--db",
        &remote,
    ])
    .run()
    .expect_code(1);
    let stderr = out.stderr_flat();
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(stderr.contains("lock"), "names the request: {stderr}");
    assert_eq!(owned_rows(&ovn, "big"), 0);
}

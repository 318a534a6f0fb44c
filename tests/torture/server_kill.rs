//! Standalone NB: `kill -9` of ovsdb-server at random points inside the measured commit
//! window of a large apply, restarted within a second on the same socket and database file.
//!
//! The window is calibrated first, through the proxy: from the moment the apply's request has
//! gone to the server whole to the moment the server's reply begins (the server parses,
//! executes, writes its log, replies). Each round kills the server at a uniformly random point
//! of [0, 1.25 × window) after the request went through (so some kills land after the commit),
//! restarts it, and checks: the stack's rows are all there or none (counted by `_uuid`), no
//! name twice, topo's verdict matches the rows (never "unknown": the server was back long
//! before `--timeout`), and the next apply converges with `topo plan` empty afterwards.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::ovn::OvnSandbox;
use crate::support::proxy::{Action, Point, Proxy, Rule};
use crate::support::topology::{duplicate_names, owned_rows_at, tenants};
use crate::{Apply, Rng, assert_plan_empty, count, topo, verdict, write};

fn assert_rule() -> Rule {
    Rule {
        marker: r#""op":"assert""#.to_owned(),
        action: Action::Watch,
    }
}

#[test]
fn kill_9_of_ovsdb_server_inside_the_commit_window() {
    crate::require_ovn!();
    let n_tenants = count("TORTURE_TENANTS", 300);
    let kills = count("TORTURE_KILLS", 4);
    let mut rng = Rng::from_env("server-kill");
    let dir = tempfile::tempdir().unwrap();
    let (yaml, rows) = tenants(n_tenants);
    let file = write(dir.path(), "big.yaml", &yaml);

    // Calibrate: one apply through the proxy, uninterrupted.
    let window = {
        let ovn = OvnSandbox::nb_only();
        let proxy = Proxy::start(dir.path(), "cal.sock", &upstream(&ovn));
        proxy.arm(assert_rule());
        let run = Apply::spawn(&proxy.remote(), &file, dir.path(), "calibrate", 30);
        let (_, sent) = proxy.wait_for(|p| *p == Point::Forwarded, Duration::from_secs(120));
        let (_, replied) = proxy.wait_for(|p| *p == Point::ReplyStarted, Duration::from_secs(120));
        let (status, took, _, stderr) = run.finish();
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert_eq!(owned_rows_at(&ovn.nb_remote(), "big"), rows);
        let window = replied - sent;
        eprintln!(
            "TORTURE server-kill: {n_tenants} tenants ({rows} rows): commit window {window:?} \
             (request sent → reply), whole apply {took:?}"
        );
        window
    };

    let (mut applied, mut not_applied, mut unknown) = (0, 0, 0);
    let mut down_max = Duration::ZERO;
    for round in 0..kills {
        let mut ovn = OvnSandbox::nb_only();
        let remote = ovn.nb_remote();
        let proxy = Proxy::start(dir.path(), &format!("k{round}.sock"), &upstream(&ovn));
        proxy.arm(assert_rule());
        let run = Apply::spawn(&proxy.remote(), &file, dir.path(), &round.to_string(), 10);
        let (_, sent) = proxy.wait_for(|p| *p == Point::Forwarded, Duration::from_secs(120));
        let at = window.mul_f64(1.25 * rng.unit());
        std::thread::sleep((sent + at).saturating_duration_since(Instant::now()));
        let replied_before = proxy.reached(|p| *p == Point::ReplyStarted);
        let down = Instant::now();
        ovn.nb.kill();
        ovn.nb.restart();
        let down = down.elapsed();
        down_max = down_max.max(down);
        assert!(
            down < Duration::from_secs(1),
            "round {round}: restart took {down:?}"
        );
        let (status, _, _, stderr) = run.finish();
        let context = format!("round {round} (kill {at:?} after the request, window {window:?})");
        let n = owned_rows_at(&remote, "big");
        assert!(
            n == 0 || n == rows,
            "{context}: a partial state: {n} of {rows} rows"
        );
        let dups = duplicate_names(&remote);
        assert!(dups.is_empty(), "{context}: duplicates {dups:?}");
        match verdict(&status, &stderr, &context) {
            Some(said) => assert_eq!(said, n == rows, "{context}: wrong verdict: {stderr}"),
            None => unknown += 1,
        }
        if replied_before {
            assert_eq!(
                n, rows,
                "{context}: the server had replied, so it had committed"
            );
        }
        if n == rows {
            applied += 1;
        } else {
            not_applied += 1;
        }
        // The next apply converges; the plan is empty after it.
        let (code, _, stderr) = topo(&remote, &["apply", "--yes", file.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{context}: the next apply: {stderr}");
        assert_plan_empty(&remote, &file, &context);
    }
    eprintln!(
        "TORTURE server-kill: {kills} kills: {applied} applied, {not_applied} not applied, \
         {unknown} unknown, 0 partial, 0 duplicates; server down at most {down_max:?}"
    );
    assert_eq!(
        unknown, 0,
        "a verdict was unknown with the server back within a second"
    );
}

pub fn upstream(ovn: &OvnSandbox) -> std::path::PathBuf {
    Path::new(ovn.nb_remote().trim_start_matches("unix:")).to_owned()
}

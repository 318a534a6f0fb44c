//! `kill -9` of topo itself at four points of its transaction, found by bytes through the
//! proxy (not by timing): before the request is sent (the proxy holds it whole), in the middle
//! of it (half forwarded), after it was sent (forwarded whole, the reply held), and after the
//! reply reached topo. A standalone server commits a request it received whole, even when its
//! client vanishes, and nothing of a truncated one. Each round: all the rows or none (by
//! `_uuid`), no name twice, and the next apply converges with `topo plan` empty afterwards.

use std::time::Duration;

use crate::server_kill::upstream;
use crate::support::ovn::OvnSandbox;
use crate::support::proxy::{Action, Point, Proxy, Rule};
use crate::support::topology::{duplicate_names, owned_rows_at, tenants};
use crate::{Apply, assert_plan_empty, count, topo, write};

#[test]
fn kill_9_of_topo_at_four_points_of_its_transaction() {
    crate::require_ovn!();
    let rounds = count("TORTURE_TOPO_ROUNDS", 1);
    let dir = tempfile::tempdir().unwrap();
    let (yaml, rows) = tenants(50);
    let file = write(dir.path(), "t.yaml", &yaml);
    type Reached = fn(&Point) -> bool;
    let points: [(&str, Action, Reached, bool); 4] = [
        (
            "before send",
            Action::Hold { bytes: 0 },
            |p| *p == Point::Forwarded,
            false,
        ),
        (
            "mid-request",
            Action::HoldPart { per_mille: 500 },
            |p| *p == Point::Forwarded,
            false,
        ),
        // Killed as soon as the request went through whole: the server, still reading or
        // executing it, commits it all the same.
        (
            "after send",
            Action::HoldReply,
            |p| *p == Point::Forwarded,
            true,
        ),
        (
            "after reply",
            Action::HoldAfterReply,
            |p| *p == Point::ReplyForwarded,
            true,
        ),
    ];
    let mut done = 0;
    for round in 0..rounds {
        for (i, (name, action, reached, committed)) in points.iter().enumerate() {
            let ovn = OvnSandbox::nb_only();
            let remote = ovn.nb_remote();
            let proxy = Proxy::start(dir.path(), &format!("t{round}-{i}.sock"), &upstream(&ovn));
            proxy.arm(Rule {
                marker: r#""op":"assert""#.to_owned(),
                action: action.clone(),
            });
            let mut run = Apply::spawn(
                &proxy.remote(),
                &file,
                dir.path(),
                &format!("{round}-{i}"),
                10,
            );
            proxy.wait_for(*reached, Duration::from_secs(60));
            run.kill();
            let (status, _, _, _) = run.finish();
            assert_eq!(status.code(), None, "{name}: topo was killed");
            let context = format!("round {round}, {name}");
            // The server may still be reading the request topo left behind: ask until the
            // answer is whole (a transaction reaches a reader whole or not at all).
            let mut n = owned_rows_at(&remote, "big");
            let asked = std::time::Instant::now();
            while n != rows && asked.elapsed() < Duration::from_secs(3) {
                std::thread::sleep(Duration::from_millis(100));
                n = owned_rows_at(&remote, "big");
            }
            assert!(
                n == 0 || n == rows,
                "{context}: a partial state: {n} of {rows}"
            );
            assert_eq!(n == rows, *committed, "{context}: {n} of {rows} rows");
            let dups = duplicate_names(&remote);
            assert!(dups.is_empty(), "{context}: duplicates {dups:?}");
            let (code, _, stderr) = topo(&remote, &["apply", "--yes", file.to_str().unwrap()]);
            assert_eq!(code, Some(0), "{context}: the next apply: {stderr}");
            assert_plan_empty(&remote, &file, &context);
            assert!(
                duplicate_names(&remote).is_empty(),
                "{context}: duplicates after"
            );
            assert_eq!(owned_rows_at(&remote, "big"), rows);
            done += 1;
        }
    }
    eprintln!(
        "TORTURE topo-kill: {done} kills (4 points × {rounds}): 0 partial, 0 duplicates, \
         every next apply converged"
    );
}

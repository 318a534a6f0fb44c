//! Two and four concurrent applies of one stack, each given the members of a 3-server RAFT
//! NB starting with a different one, each applying a variant of the stack that shares no
//! switch or port name with the others (so name guards cannot keep them apart: only the lock
//! and the apply-marker guard can). In half the rounds leadership is moved
//! (`cluster/failure-test transfer-leadership`) as the first transaction reaches the leader,
//! so that applies hold the stack's lock on different servers (locks are per server).
//! Each round: every apply either succeeded or was refused with nothing written (never
//! "unknown"); the final state is exactly one variant, complete (its plan is empty, the stack
//! owns exactly its rows); no name twice.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::ovn::NbCluster;
use crate::support::proxy::{Action, Point, Proxy, Rule};
use crate::support::topology::{duplicate_names, owned_rows_at, tenants_named};
use crate::{Apply, count, topo, write};

#[test]
fn concurrent_applies_of_one_stack_through_different_members() {
    crate::require_ovn!();
    let rounds = count("TORTURE_RAFT_RUNS", 1);
    let dir = tempfile::tempdir().unwrap();
    let (mut won, mut refused) = (0, 0);
    for round in 0..rounds {
        for n in [2usize, 4] {
            for transfer in [false, true] {
                let tag = format!("{round}-{n}-{transfer}");
                let (w, r) = one_round(&dir, n, transfer, &tag);
                won += w;
                refused += r;
            }
        }
    }
    eprintln!(
        "TORTURE concurrent: {} rounds (2 and 4 applies, with and without a leadership \
         transfer): {won} applies succeeded, {refused} refused with nothing written, 0 \
         interleaved, 0 unknown",
        rounds * 4
    );
}

/// The first sentence of topo's refusal.
fn refusal(stderr: &str) -> String {
    let text = stderr.split(" × ").nth(1).unwrap_or(stderr);
    text.split(" help:")
        .next()
        .unwrap_or(text)
        .chars()
        .take(200)
        .collect()
}

/// Two applies holding the stack's lock on two servers at once, made certain: apply A is
/// held at the leader's door (through the proxy) after it took the lock there; leadership
/// moves; apply B, of another variant, then takes the lock on the new leader (locks are per
/// server) and commits; A is let go. A must be refused with nothing written (its guard on the
/// stack's apply marker fails; without it, A's rows would land beside B's), and the final
/// state is B's, complete.
#[test]
fn two_locks_on_two_servers_cannot_both_commit() {
    crate::require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let cluster = NbCluster::start();
    // An NB_Global row, as ovn-northd makes: else the second insert of it would refuse A.
    cluster.nbctl(&["init"]);
    let old = cluster.wait_for_leader();
    let proxies: Vec<Proxy> = (0..cluster.len())
        .map(|i| {
            let sock = PathBuf::from(cluster.server(i).unix_remote().trim_start_matches("unix:"));
            Proxy::start(dir.path(), &format!("s{i}.sock"), &sock)
        })
        .collect();
    proxies[old].arm(Rule {
        marker: r#""op":"assert""#.to_owned(),
        action: Action::Gate,
    });
    let all: Vec<String> = proxies.iter().map(Proxy::remote).collect();
    let (a_yaml, _) = tenants_named(20, "a");
    let (b_yaml, b_rows) = tenants_named(20, "b");
    let a = write(dir.path(), "a.yaml", &a_yaml);
    let b = write(dir.path(), "b.yaml", &b_yaml);
    let run_a = Apply::spawn(&proxies[old].remote(), &a, dir.path(), "a", 20);
    proxies[old].wait_for(|p| matches!(p, Point::Matched(_)), Duration::from_secs(60));
    crate::support::ovn_tools::appctl(
        cluster.server(old).ctl_path(),
        &["cluster/failure-test", "transfer-leadership"],
    )
    .unwrap();
    let start = Instant::now();
    let new = loop {
        match cluster.leader() {
            Some(l) if l != old => break l,
            _ if start.elapsed() > Duration::from_secs(20) => panic!("leadership did not move"),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let (code, _, stderr) = topo(&all.join(","), &["apply", "--yes", b.to_str().unwrap()]);
    assert_eq!(code, Some(0), "B on the new leader s{}: {stderr}", new + 1);
    proxies[old].release();
    let (status, _, _, stderr) = run_a.finish();
    assert_eq!(status.code(), Some(1), "A must be refused: {stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!stderr.contains("outcome is unknown"), "{stderr}");
    let leader_remote = cluster.server(cluster.wait_for_leader()).unix_remote();
    assert_eq!(
        owned_rows_at(&leader_remote, "big"),
        b_rows,
        "only B's rows"
    );
    crate::assert_plan_empty(&cluster.remote(), &b, "B is live, complete");
    eprintln!(
        "TORTURE concurrent split-lock: leader s{} -> s{}; B applied; A refused: {}",
        old + 1,
        new + 1,
        refusal(&stderr)
    );
}

fn one_round(dir: &tempfile::TempDir, n: usize, transfer: bool, tag: &str) -> (usize, usize) {
    let cluster = NbCluster::start();
    let leader = cluster.wait_for_leader();
    let members = cluster.len();
    let proxies: Vec<Proxy> = (0..members)
        .map(|i| {
            let sock = PathBuf::from(cluster.server(i).unix_remote().trim_start_matches("unix:"));
            let p = Proxy::start(dir.path(), &format!("c{tag}-{i}.sock"), &sock);
            p.arm(Rule {
                marker: r#""op":"assert""#.to_owned(),
                action: Action::Watch,
            });
            p
        })
        .collect();
    let variants: Vec<(PathBuf, usize)> = (0..n)
        .map(|k| {
            let (yaml, rows) = tenants_named(30, &format!("v{k}"));
            (write(dir.path(), &format!("v{tag}-{k}.yaml"), &yaml), rows)
        })
        .collect();
    let runs: Vec<Apply> = variants
        .iter()
        .enumerate()
        .map(|(k, (file, _))| {
            // Member k first, then the others.
            let remotes: Vec<String> = (0..members)
                .map(|i| proxies[(k + i) % members].remote())
                .collect();
            Apply::spawn(
                &remotes.join(","),
                file,
                dir.path(),
                &format!("c{tag}-{k}"),
                20,
            )
        })
        .collect();
    if transfer {
        let start = Instant::now();
        while !proxies
            .iter()
            .any(|p| p.reached(|p| *p == Point::Forwarded))
        {
            if start.elapsed() > Duration::from_secs(60) {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = crate::support::ovn_tools::appctl(
            cluster.server(leader).ctl_path(),
            &["cluster/failure-test", "transfer-leadership"],
        );
    }
    let mut winners = Vec::new();
    let mut losers = 0;
    for (k, run) in runs.into_iter().enumerate() {
        let (status, _, _, stderr) = run.finish();
        let context = format!("round {tag}, apply {k}");
        assert!(
            !stderr.contains("outcome is unknown"),
            "{context}: {stderr}"
        );
        match status.code() {
            Some(0) => winners.push(k),
            Some(1) if stderr.contains("nothing was written") => {
                losers += 1;
                eprintln!("TORTURE concurrent refusal: {}", refusal(&stderr));
            }
            other => panic!("{context}: exit {other:?}: {stderr}"),
        }
    }
    assert!(!winners.is_empty(), "round {tag}: no apply succeeded");
    let all = cluster.remote();
    let complete: Vec<usize> = (0..n)
        .filter(|&k| {
            let (code, _, _) = topo(&all, &["plan", variants[k].0.to_str().unwrap()]);
            code == Some(0)
        })
        .collect();
    assert_eq!(
        complete.len(),
        1,
        "round {tag}: complete variants {complete:?}"
    );
    let k = complete[0];
    assert!(
        winners.contains(&k),
        "round {tag}: variant {k} is live but its apply failed"
    );
    let leader_remote = cluster.server(cluster.wait_for_leader()).unix_remote();
    assert_eq!(
        owned_rows_at(&leader_remote, "big"),
        variants[k].1,
        "round {tag}: rows of other variants are left (interleaved)"
    );
    let dups = duplicate_names(&leader_remote);
    assert!(dups.is_empty(), "round {tag}: duplicates {dups:?}");
    (winners.len(), losers)
}

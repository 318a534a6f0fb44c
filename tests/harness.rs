//! Smoke tests of the test harness itself (tests/support): the daemons start, serve what a user
//! would check with the OVN tools, fail over, speak TLS, and are gone after teardown.

use std::sync::mpsc;

use crate::require_ovn;
use crate::support::ovn::{NB_DB, NbCluster, OvnSandbox, SETTLE_TIMEOUT};
use crate::support::ovn_tools::{self, list_dbs};
use crate::support::{pid_alive, wait_for};

#[test]
fn standalone_nb_sb_northd_turn_a_switch_into_a_datapath() {
    require_ovn!();
    let ovn = OvnSandbox::start();
    assert!(ovn.nb_remote().starts_with("unix:/"), "{}", ovn.nb_remote());
    assert!(ovn.sb_remote().starts_with("unix:/"), "{}", ovn.sb_remote());
    assert!(ovn.northd_pid().is_some());

    ovn.nbctl(&["ls-add", "sw0"]);
    assert!(ovn.nbctl(&["ls-list"]).contains("(sw0)"));
    // ovn-northd is connected to both: it turns the NB switch into an SB datapath.
    let dp = wait_for(
        "northd to create sw0's Datapath_Binding",
        SETTLE_TIMEOUT,
        || {
            let out = ovn.sbctl(&[
                "--bare",
                "--columns=_uuid",
                "find",
                "Datapath_Binding",
                "external_ids:name=sw0",
            ]);
            (!out.trim().is_empty()).then_some(out)
        },
    );
    assert_eq!(dp.trim().lines().count(), 1, "one datapath for sw0: {dp}");
}

#[test]
fn tcp_remote_listens_on_a_port_the_server_chose() {
    require_ovn!();
    let ovn = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .tcp(true)
        .start();
    let port = ovn.nb.tcp_port().expect("tcp port");
    assert_ne!(port, 0);
    assert_eq!(ovn.nb_tcp_remote(), format!("tcp:127.0.0.1:{port}"));
    assert!(
        list_dbs(&ovn.nb_tcp_remote(), None)
            .unwrap()
            .contains(&NB_DB.to_owned())
    );
    // A write over TCP is seen over the unix socket: one server, two remotes.
    ovn_tools::nbctl(&ovn.nb_tcp_remote(), &["ls-add", "via-tcp"]);
    assert!(ovn.nbctl(&["ls-list"]).contains("(via-tcp)"));
}

#[test]
fn tls_remote_accepts_the_right_ca_and_refuses_others() {
    require_ovn!();
    let ovn = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .ssl(true)
        .start();
    let pki = ovn.pki();
    let remote = ovn.nb_ssl_remote();
    assert!(remote.starts_with("ssl:127.0.0.1:"), "{remote}");

    let dbs =
        list_dbs(&remote, Some(&pki.client)).expect("client signed by the server's CA connects");
    assert!(dbs.contains(&NB_DB.to_owned()), "{dbs:?}");

    // The client does not trust the server's certificate.
    let err = list_dbs(&remote, Some(&pki.client.with_ca(&pki.rogue_ca_cert))).unwrap_err();
    assert!(err.contains("failed to connect"), "{err}");
    // The server does not trust the client's certificate.
    assert!(list_dbs(&remote, Some(&pki.rogue_client)).is_err());
    // Plain TCP to the TLS port gets nothing.
    let port = ovn.nb.ssl_port().unwrap();
    assert!(list_dbs(&format!("tcp:127.0.0.1:{port}"), None).is_err());
    // The server logged the refusal of the rogue client.
    let log = std::fs::read_to_string(ovn.nb.log_path()).unwrap();
    assert!(log.contains("unknown ca"), "server log:\n{log}");
}

#[test]
fn cluster_elects_a_new_leader_when_the_leader_is_killed() {
    require_ovn!();
    let mut cluster = NbCluster::start();
    assert_eq!(cluster.remotes().len(), 3);
    let old = cluster.wait_for_leader();
    cluster.nbctl(&["ls-add", "before"]);

    let old_pid = cluster.server(old).pid().unwrap();
    let (killed, new) = cluster.kill_leader();
    assert_eq!(killed, old);
    assert_ne!(new, old);
    assert!(!pid_alive(old_pid), "the killed leader {old_pid} is gone");
    let status = cluster.status(new).unwrap();
    assert!(status.contains("Role: leader"), "{status}");

    // ovn-nbctl given all three remotes writes through the new leader.
    cluster.nbctl(&["ls-add", "after"]);

    // The old leader comes back as a member and catches up with what it missed.
    cluster.restart(old);
    let own = cluster.server(old).unix_remote();
    wait_for("the restarted server to catch up", SETTLE_TIMEOUT, || {
        let list = ovn_tools::try_nbctl(&own, None, &["--no-leader-only", "ls-list"]).ok()?;
        (list.contains("(before)") && list.contains("(after)")).then_some(())
    });
    assert!(cluster.role(old).is_some());
}

#[test]
fn dropping_a_sandbox_stops_every_daemon_it_started() {
    require_ovn!();
    let ovn = OvnSandbox::builder().tcp(true).keep_on_panic(false).start();
    let pids = ovn.pids();
    assert_eq!(pids.len(), 3, "nb, sb, northd: {pids:?}");
    assert!(pids.iter().all(|&p| pid_alive(p)));
    let dir = ovn.dir().to_owned();
    drop(ovn);
    for pid in pids {
        assert!(!pid_alive(pid), "pid {pid} still alive after drop");
    }
    assert!(!dir.exists(), "{} removed", dir.display());

    let mut cluster = NbCluster::builder().keep_on_panic(false).start();
    cluster.kill(0); // a server already dead at drop is fine too
    let pids = cluster.pids();
    assert_eq!(pids.len(), 2);
    drop(cluster);
    assert!(pids.iter().all(|&p| !pid_alive(p)), "{pids:?}");
}

#[test]
fn a_panicking_test_still_stops_its_daemons_and_keeps_its_logs() {
    require_ovn!();
    for keep in [false, true] {
        let (tx, rx) = mpsc::channel();
        let result = std::thread::spawn(move || {
            let ovn = OvnSandbox::builder()
                .sb(false)
                .northd(false)
                .keep_on_panic(keep)
                .start();
            tx.send((ovn.pids(), ovn.dir().to_owned())).unwrap();
            panic!("deliberate panic with a sandbox alive (keep_on_panic={keep})");
        })
        .join();
        assert!(result.is_err());
        let (pids, dir) = rx.recv().unwrap();
        assert!(pids.iter().all(|&p| !pid_alive(p)), "{pids:?}");
        if keep {
            assert!(
                dir.join("nb.log").is_file(),
                "logs kept in {}",
                dir.display()
            );
            std::fs::remove_dir_all(&dir).unwrap();
        } else {
            assert!(!dir.exists());
        }
    }
}

#[test]
fn parallel_sandboxes_do_not_collide() {
    require_ovn!();
    let a = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .tcp(true)
        .start();
    let b = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .tcp(true)
        .start();
    assert_ne!(a.dir(), b.dir());
    assert_ne!(a.nb.tcp_port(), b.nb.tcp_port());
    a.nbctl(&["ls-add", "only-in-a"]);
    assert!(!b.nbctl(&["ls-list"]).contains("only-in-a"));
    assert!(!ovn_tools::nbctl(&b.nb_tcp_remote(), &["ls-list"]).contains("only-in-a"));
}

#[test]
fn cluster_servers_also_listen_on_loopback_tcp() {
    require_ovn!();
    let cluster = NbCluster::builder().tcp(true).start();
    let remotes = cluster.tcp_remotes();
    assert_eq!(remotes.len(), 3);
    let mut ports: Vec<&str> = remotes
        .iter()
        .map(|r| r.rsplit(':').next().unwrap())
        .collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 3, "three distinct ports: {remotes:?}");
    for r in &remotes {
        assert!(r.starts_with("tcp:127.0.0.1:"), "{r}");
    }
    // ovn-nbctl over the TCP remotes finds the leader and writes; every member serves it.
    ovn_tools::nbctl(&remotes.join(","), &["ls-add", "over-tcp"]);
    for r in &remotes {
        let list = wait_for("the write to reach every member", SETTLE_TIMEOUT, || {
            ovn_tools::try_nbctl(r, None, &["--no-leader-only", "ls-list"])
                .ok()
                .filter(|l| l.contains("(over-tcp)"))
        });
        assert!(list.contains("(over-tcp)"));
    }
}

#[test]
fn a_frozen_daemon_is_still_stopped_on_drop() {
    require_ovn!();
    let mut ovn = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .keep_on_panic(false)
        .start();
    assert!(ovn.nb.signal("STOP"));
    let pid = ovn.nb.pid().unwrap();
    let started = std::time::Instant::now();
    drop(ovn);
    assert!(!pid_alive(pid));
    // SIGTERM took effect (after SIGCONT), without waiting out the SIGKILL grace period.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

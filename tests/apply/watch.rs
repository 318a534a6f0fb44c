//! The read apply keeps up to date from monitor updates (`topo::live::watch`) must equal a
//! fresh read after the same changes: rows created, modified (scalars, sets, maps), deleted,
//! children keyed under their parents, by ovn-nbctl out of band and by a transaction carrying
//! the apply marker — patched row by row, or rebuilt whole when a key changed. And when the
//! marker never comes, the watch says so instead of guessing.

use std::time::Duration;

use topo::live::{self, watch};
use topo::ovsdb::{Atom, Datum, Mutation, Operation};
use topo::rows::live::Live;
use topo::rows::{Db, RowKey};

use super::{apply as apply_file, example, nb_client};
use crate::require_ovn;
use crate::support::ovn::{NB_DB, OvnSandbox};

fn marker_op(key: &str, value: &str) -> Operation {
    Operation::mutate(
        "NB_Global",
        vec![],
        vec![Mutation::insert(
            "external_ids",
            Datum::map([(Atom::from(key), Atom::from(value))]),
        )],
    )
}

/// Commits a transaction that writes the marker `written`, then catches the watch up to the
/// marker `awaited` (the same, unless a test wants it never to come).
async fn mark_and_catch_up(
    nb: &topo::ovsdb::Client,
    schema: &topo::ovsdb::DatabaseSchema,
    w: watch::Watch,
    before: Live,
    (written, awaited): (&str, &str),
    timeout: Duration,
) -> Option<watch::CaughtUp> {
    nb.transact(NB_DB, &[marker_op(MARKER_KEY, written)])
        .await
        .unwrap();
    w.catch_up(nb, schema, before, MARKER_KEY, awaited, timeout)
        .await
        .unwrap()
}

const MARKER_KEY: &str = "topo:test:apply";

/// The read caught up equals a fresh read of the same database.
async fn assert_equals_a_fresh_read(
    nb: &topo::ovsdb::Client,
    schema: &topo::ovsdb::DatabaseSchema,
    caught_up: &Live,
) {
    let fresh = live::read_nb(nb, schema).await.unwrap();
    assert_eq!(caught_up.state, fresh.state);
    assert_eq!(caught_up.rows, fresh.rows);
    assert_eq!(caught_up.duplicates, fresh.duplicates);
}

#[test]
fn the_watched_read_equals_a_fresh_read_after_changes() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    apply_file(&ovn, &example("gateway-router.yaml"));
    let (rt, nb, schema) = nb_client(&ovn);
    rt.block_on(async {
        let (before, w) = watch::watch_nb(&nb, &schema).await.unwrap().unwrap();
        assert!(!before.state.tables.is_empty());

        // Out of band, after the read: every kind of change the updates must carry.
        let routers = ovn.nbctl(&["--bare", "--columns=name", "list", "Logical_Router"]);
        let router = routers.split_whitespace().next().unwrap().to_owned();
        let switches = ovn.nbctl(&["--bare", "--columns=name", "list", "Logical_Switch"]);
        let switch = switches.split_whitespace().next().unwrap().to_owned();
        ovn.nbctl(&["ls-add", "oob-ls"]);
        ovn.nbctl(&["lsp-add", &switch, "oob-port"]);
        ovn.nbctl(&[
            "lsp-set-addresses",
            "oob-port",
            "00:00:00:00:0e:01 10.9.9.9",
        ]);
        ovn.nbctl(&["set", "Logical_Switch", &switch, "external_ids:oob=yes"]);
        ovn.nbctl(&[
            "lr-nat-add",
            &router,
            "dnat_and_snat",
            "192.0.2.99",
            "10.9.9.9",
        ]);
        ovn.nbctl(&["lr-route-add", &router, "198.51.100.0/24", "100.64.0.9"]);
        ovn.nbctl(&["set", "Logical_Router", &router, "options:oob=1"]);
        ovn.nbctl(&["remove", "Logical_Router", &router, "options", "oob"]);
        ovn.nbctl(&["ls-del", "oob-ls"]);
        // An existing child changed (routes), existing children deleted (NAT).
        let routes = ovn.nbctl(&[
            "--bare",
            "--columns=_uuid",
            "list",
            "Logical_Router_Static_Route",
        ]);
        let route = routes
            .split_whitespace()
            .next()
            .expect("the example has routes");
        ovn.nbctl(&[
            "set",
            "Logical_Router_Static_Route",
            route,
            "external_ids:oob=1",
        ]);
        let nats = ovn.nbctl(&["--bare", "--columns=_uuid", "find", "NAT", "type=snat"]);
        assert!(!nats.trim().is_empty(), "the example has SNAT rules");
        ovn.nbctl(&["lr-nat-del", &router, "snat"]);

        // The transaction with the marker comes last.
        let caught_up = mark_and_catch_up(
            &nb,
            &schema,
            w,
            before,
            ("m1", "m1"),
            Duration::from_secs(10),
        )
        .await
        .expect("the updates carry the marker");
        let changed = caught_up.changed.expect("patched row by row, not rebuilt");
        let port = ("Logical_Switch_Port".to_owned(), RowKey::name("oob-port"));
        assert!(changed.contains(&port), "{changed:?}");
        let caught_up = caught_up.live;
        assert_equals_a_fresh_read(&nb, &schema, &caught_up).await;
        // The changes are there (so the comparison is not of two stale reads).
        let port = caught_up.state.get(&Db::Northbound, &port.0, &port.1);
        assert!(
            port.is_some(),
            "the port created out of band is in the read"
        );
    });
}

#[test]
fn without_the_marker_the_watch_gives_up_at_the_deadline() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    apply_file(&ovn, &example("l2-gateway.yaml"));
    let (rt, nb, schema) = nb_client(&ovn);
    rt.block_on(async {
        let (before, w) = watch::watch_nb(&nb, &schema).await.unwrap().unwrap();
        let result = mark_and_catch_up(
            &nb,
            &schema,
            w,
            before,
            ("other", "m2"),
            Duration::from_millis(300),
        )
        .await;
        assert!(result.is_none(), "no marker, no answer");
    });
}

#[test]
fn a_renamed_row_rebuilds_the_read() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    apply_file(&ovn, &example("gateway-router.yaml"));
    let (rt, nb, schema) = nb_client(&ovn);
    rt.block_on(async {
        let (before, w) = watch::watch_nb(&nb, &schema).await.unwrap().unwrap();
        // A router renamed: its key, and the keys of its NAT rules and routes, change.
        let routers = ovn.nbctl(&["--bare", "--columns=name", "list", "Logical_Router"]);
        let router = routers.split_whitespace().next().unwrap().to_owned();
        ovn.nbctl(&["set", "Logical_Router", &router, "name=renamed"]);
        let caught_up = mark_and_catch_up(
            &nb,
            &schema,
            w,
            before,
            ("m3", "m3"),
            Duration::from_secs(10),
        )
        .await
        .expect("the updates carry the marker");
        assert!(caught_up.changed.is_none(), "a key changed: rebuilt whole");
        assert_equals_a_fresh_read(&nb, &schema, &caught_up.live).await;
        let renamed = RowKey::name("renamed");
        let state = &caught_up.live.state;
        assert!(
            state
                .get(&Db::Northbound, "Logical_Router", &renamed)
                .is_some()
        );
    });
}

//! The apply transaction as data (`topo::apply::transaction::build`), from a real read of a
//! real database: wait guards on the `_version` of every row it updates or deletes and on the
//! names it creates, the lock `assert`, inserts with uuid-names, `update` for scalars and
//! `mutate` (delete / insert) for sets and maps, the apply marker, `nb_cfg += 1`, a comment.
//! The snapshot names each UUID after the row it is (they differ per run); the transaction is
//! then sent as built, and the database converges.

use std::collections::BTreeMap;

use serde_json::Value;
use topo::apply::{self, transaction};
use topo::rows::Db;
use uuid::Uuid;

use super::{apply as apply_file, assert_converged, edited, example, nb_client, write};
use crate::require_ovn;
use crate::support::ovn::{NB_DB, OvnSandbox};

/// Four edits of dgp-gateway-chassis.yaml, one per kind of operation.
const EDITS: &[(&str, &str)] = &[
    // A scalar column (Gateway_Chassis.priority): `update`.
    ("{ gw1: 20, gw2: 10 }", "{ gw1: 5, gw2: 10 }"),
    // A set column (addresses, port_security): `mutate` delete + insert.
    (
        r#"tenant-vm2: { mac: "00:00:00:00:10:02", ip: 10.0.0.12,"#,
        r#"tenant-vm2: { mac: "00:00:00:00:10:02", ip: 10.0.0.13,"#,
    ),
    // A new row: name guard, `insert`, and `mutate` insert into the switch's ports.
    (
        "    ports:\n      ext-localnet:",
        "    ports:\n      ext-vm9: { mac: \"00:00:00:00:10:09\", ip: 192.0.2.9, chassis: hv1 }\n      ext-localnet:",
    ),
    // A row removed: `mutate` delete from the router's static_routes, and `delete`.
    (
        "    routes:\n      - { prefix: 0.0.0.0/0, nexthop: 192.0.2.254 }\n",
        "",
    ),
];

/// A topology text written into `dir` and compiled: its path, stack and desired rows.
fn compiled(dir: &std::path::Path, text: &str) -> (std::path::PathBuf, String, topo::rows::State) {
    let path = write(dir, "variant.yaml", text);
    let desired = topo::cli::desired::load(std::slice::from_ref(&path)).unwrap();
    (path, desired.stack, desired.rows)
}

#[test]
fn the_apply_transaction_is_guarded_and_minimal() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let dir = tempfile::tempdir().unwrap();
    apply_file(&ovn, &example("dgp-gateway-chassis.yaml"));
    let (variant, stack, desired) =
        compiled(dir.path(), &edited("dgp-gateway-chassis.yaml", EDITS));

    let (rt, nb, schema) = nb_client(&ovn);
    rt.block_on(async {
        let (plan, live) = apply::read_and_plan(&nb, &desired, &stack, true)
            .await
            .unwrap();
        assert_eq!(plan.summary(), (1, 4, 1), "{plan:#?}");
        let lock = apply::lock_name(&stack);
        let seen = nb
            .select(NB_DB, "NB_Global", vec![], &["external_ids"])
            .await
            .unwrap()
            .remove(0)
            .remove("external_ids")
            .unwrap();
        let marker = topo::ovsdb::Atom::from(format!("topo:{stack}:apply"));
        let seen_id = seen.as_map().unwrap().get(&marker).unwrap().to_string();
        let options = transaction::TxOptions {
            lock: Some(lock.clone()),
            apply_id: Uuid::from_u128(0xa991),
            bump_nb_cfg: true,
            create_nb_global: false,
            // The stack's marker as read: the guard keeps it.
            marker_seen: Some(seen.clone()),
        };
        let ops = transaction::build(&plan, &Db::Northbound, &live, &schema, &options).unwrap();
        let mut json = serde_json::to_value(&ops).unwrap();

        // Name every UUID after its row, every version after whose it is.
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for ((_, table, key), row) in &live.rows {
            names.insert(row.uuid.to_string(), format!("<{table} {key}>"));
            if let Some(v) = row.version {
                names.insert(v.to_string(), format!("<version of {table} {key}>"));
            }
        }
        names.insert(options.apply_id.to_string(), "<apply id>".into());
        names.insert(
            seen_id.trim_matches('"').to_owned(),
            "<the apply id read>".into(),
        );
        rename(&mut json, &names);
        insta::assert_json_snapshot!(json);

        // The facts, beyond the snapshot.
        let ops_json = json.as_array().unwrap();
        let op = |i: usize| ops_json[i]["op"].as_str().unwrap();
        let waits = ops_json.iter().take_while(|o| o["op"] == "wait").count();
        // One guard per updated or deleted row (5); none for the created port, whose name
        // the schema indexes (the server refuses a duplicate by itself: see below); then the
        // guard of the stack's apply marker (the earlier apply's, as read).
        assert_eq!(waits, 6, "{json:#}");
        let marker_guard = &ops_json[waits - 1];
        assert_eq!(marker_guard["table"], "NB_Global");
        assert_eq!(marker_guard["until"], "!=");
        assert_eq!(marker_guard["timeout"], 0);
        for w in &ops_json[..waits - 1] {
            assert_eq!(w["timeout"], 0);
            assert_eq!(w["until"], "==");
        }
        assert_eq!(op(waits), "assert");
        assert_eq!(ops_json[waits]["lock"], lock.as_str());
        let last = ops_json.len() - 1;
        // Committed to disk before the reply (R12).
        assert_eq!(op(last), "commit");
        assert_eq!(ops_json[last]["durable"], true);
        assert_eq!(op(last - 1), "comment");
        assert_eq!(op(last - 2), "mutate");
        assert_eq!(ops_json[last - 2]["table"], "NB_Global");
        let find = |table: &str, opname: &str| -> Vec<&Value> {
            ops_json
                .iter()
                .filter(|o| o["table"] == table && o["op"] == opname)
                .collect()
        };
        // The scalar priority: update of that column only.
        let updates = find("Gateway_Chassis", "update");
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0]["row"], serde_json::json!({"priority": 5}));
        // The set columns of the port: mutate, never a rewrite with update.
        assert!(find("Logical_Switch_Port", "update").is_empty(), "{json:#}");
        let m = find("Logical_Switch_Port", "mutate");
        assert_eq!(m.len(), 1);
        let mutators: Vec<&str> = m[0]["mutations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[1].as_str().unwrap())
            .collect();
        assert_eq!(
            mutators,
            ["delete", "insert", "delete", "insert"],
            "{json:#}"
        );
        assert!(find("Logical_Switch", "update").is_empty());
        assert_eq!(find("Logical_Switch", "mutate").len(), 1);
        assert_eq!(find("Logical_Router", "mutate").len(), 1);
        assert_eq!(find("Logical_Router_Static_Route", "delete").len(), 1);
        assert_eq!(find("Logical_Switch_Port", "insert").len(), 1);

        // Sent as built (under the lock it asserts), it converges.
        assert!(nb.lock(&lock).await.unwrap());
        nb.transact(NB_DB, &ops).await.unwrap();
        nb.unlock(&lock).await.unwrap();
        // Without the lock, the same kind of transaction is refused by the assert.
        let (plan2, live2) = apply::read_and_plan(&nb, &desired, &stack, true)
            .await
            .unwrap();
        assert!(plan2.is_empty(), "{plan2:#?}");
        let _ = live2;
    });
    assert_converged(&ovn, &variant);
    let marker = ovn.nbctl(&[
        "get",
        "NB_Global",
        ".",
        "external_ids:topo\\:dgp-gc\\:apply",
    ]);
    assert_eq!(marker.trim(), format!("\"{}\"", Uuid::from_u128(0xa991)));
    // The first apply (no --wait) inserted NB_Global with nb_cfg 0; this transaction bumped it.
    assert_eq!(ovn.nbctl(&["get", "NB_Global", ".", "nb_cfg"]).trim(), "1");
}

fn rename(v: &mut Value, names: &BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(n) = names.get(s.as_str()) {
                *s = n.clone();
            } else if Uuid::parse_str(s).is_ok() {
                *s = "<unknown uuid>".into();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename(x, names)),
        Value::Object(o) => o.values_mut().for_each(|x| rename(x, names)),
        _ => {}
    }
}

/// A new NB that neither ovn-northd nor ovn-nbctl has touched has no NB_Global row: apply
/// inserts it with the marker (a `mutate` would match no row and silently drop the marker,
/// and then a lost reply would be resolved as "not applied" although it was).
#[test]
fn a_new_database_gets_its_nb_global_row_and_the_marker() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let count = || {
        let reply = crate::support::ovn_tools::transact(
            &ovn.nb_remote(),
            &serde_json::json!([NB_DB, {"op": "select", "table": "NB_Global", "where": [], "columns": ["_uuid"]}]),
        )
        .unwrap();
        reply[0]["rows"].as_array().unwrap().len()
    };
    assert_eq!(count(), 0);
    let out = super::topo(
        &ovn,
        &[
            "apply",
            "--yes",
            "--wait",
            "none",
            example("vlan-provider.yaml").to_str().unwrap(),
        ],
    )
    .success();
    let id = out
        .stdout()
        .rsplit_once("(apply ")
        .map(|(_, r)| r.trim().trim_end_matches(").").to_owned())
        .unwrap();
    assert_eq!(count(), 1);
    let marker = ovn.nbctl(&["get", "NB_Global", ".", "external_ids:topo\\:vlan\\:apply"]);
    assert_eq!(marker.trim(), format!("\"{id}\""));
    // A second apply mutates that row: still one row, the new marker.
    let dir = tempfile::tempdir().unwrap();
    let variant = write(
        dir.path(),
        "v.yaml",
        &edited("vlan-provider.yaml", &[("tag: 100", "tag: 101")]),
    );
    let out = super::topo(&ovn, &["apply", "--yes", variant.to_str().unwrap()]).success();
    let id2 = out
        .stdout()
        .rsplit_once("(apply ")
        .map(|(_, r)| r.trim().trim_end_matches(").").to_owned())
        .unwrap();
    assert_ne!(id, id2);
    assert_eq!(count(), 1);
    let marker = ovn.nbctl(&["get", "NB_Global", ".", "external_ids:topo\\:vlan\\:apply"]);
    assert_eq!(marker.trim(), format!("\"{id2}\""));
}

/// The guards do their job: a transaction built from a read is refused ("timed out" at the
/// guard's own operation, nothing committed) when a row it read was modified since, or when a
/// switch name it creates was taken meanwhile (switch names are not unique in the schema:
/// without the guard the insert would make a duplicate).
#[test]
fn a_failed_guard_commits_nothing() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let dir = tempfile::tempdir().unwrap();
    apply_file(&ovn, &example("distributed-router.yaml"));
    let (_, stack, desired) = compiled(
        dir.path(),
        &edited(
            "distributed-router.yaml",
            &[
                (
                    r#"ls1-vm1: { mac: "00:00:00:00:00:03", ip: 10.10.10.2,"#,
                    r#"ls1-vm1: { mac: "00:00:00:00:00:03", ip: 10.10.10.9,"#,
                ),
                (
                    "routers:\n",
                    "  ls3: { subnet: 10.10.30.0/24 }\n\nrouters:\n",
                ),
            ],
        ),
    );
    let (rt, nb, schema) = nb_client(&ovn);
    rt.block_on(async {
        let build = || async {
            let (plan, live) = apply::read_and_plan(&nb, &desired, &stack, true)
                .await
                .unwrap();
            assert_eq!(plan.summary(), (1, 1, 0), "{plan:#?}");
            let options = transaction::TxOptions {
                apply_id: Uuid::new_v4(),
                ..Default::default()
            };
            transaction::build(&plan, &Db::Northbound, &live, &schema, &options).unwrap()
        };
        let guard_index = |ops: &[topo::ovsdb::Operation], table: &str| {
            let json = serde_json::to_value(ops).unwrap();
            json.as_array()
                .unwrap()
                .iter()
                .position(|o| o["op"] == "wait" && o["table"] == table)
                .unwrap()
        };

        // 1. A row the transaction updates is modified after the read.
        let ops = build().await;
        ovn.nbctl(&[
            "lsp-set-addresses",
            "ls1-vm1",
            "00:00:00:00:00:03 10.10.10.7",
        ]);
        let before = ovn.nb_dump();
        match nb.transact(NB_DB, &ops).await {
            Err(topo::ovsdb::Error::Transaction { index, error, .. }) => {
                assert_eq!(error, "timed out");
                assert_eq!(index, guard_index(&ops, "Logical_Switch_Port"));
            }
            other => panic!("expected the _version guard to fail: {other:?}"),
        }
        assert_eq!(before, ovn.nb_dump());

        // 2. The switch name it creates is taken after the read.
        let ops = build().await;
        ovn.nbctl(&["ls-add", "ls3"]);
        let before = ovn.nb_dump();
        match nb.transact(NB_DB, &ops).await {
            Err(topo::ovsdb::Error::Transaction { index, error, .. }) => {
                assert_eq!(error, "timed out");
                assert_eq!(index, guard_index(&ops, "Logical_Switch"));
            }
            other => panic!("expected the name guard to fail: {other:?}"),
        }
        assert_eq!(before, ovn.nb_dump());
        let n = ovn.nbctl(&[
            "--bare",
            "--columns=_uuid",
            "find",
            "Logical_Switch",
            "name=ls3",
        ]);
        assert_eq!(n.split_whitespace().count(), 1, "a duplicate ls3 was made");
    });
}

/// A port name is indexed by the NB schema: no guard is sent for it, and a port of that name
/// created after the read makes the server refuse the whole transaction.
#[test]
fn a_port_name_taken_since_the_read_fails_the_transaction() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let dir = tempfile::tempdir().unwrap();
    apply_file(&ovn, &example("dgp-gateway-chassis.yaml"));
    let (_, stack, desired) = compiled(
        dir.path(),
        &edited("dgp-gateway-chassis.yaml", &EDITS[2..3]),
    );
    let (rt, nb, schema) = nb_client(&ovn);
    rt.block_on(async {
        let (plan, live) = apply::read_and_plan(&nb, &desired, &stack, true)
            .await
            .unwrap();
        let options = transaction::TxOptions {
            apply_id: Uuid::new_v4(),
            ..Default::default()
        };
        let ops = transaction::build(&plan, &Db::Northbound, &live, &schema, &options).unwrap();
        // On a switch of its own, so that no row the transaction guards changes.
        ovn.nbctl(&["ls-add", "someone-elses"]);
        ovn.nbctl(&["lsp-add", "someone-elses", "ext-vm9"]);
        let before = ovn.nb_dump();
        match nb.transact(NB_DB, &ops).await {
            Err(topo::ovsdb::Error::Transaction { error, .. }) => {
                assert_eq!(error, "constraint violation");
            }
            other => panic!("expected the name index to refuse the port: {other:?}"),
        }
        assert_eq!(before, ovn.nb_dump());
    });
}

/// From 2,000 changes the operations are built in pieces on two threads: the same operations,
/// in the same order, as one thread builds; and the database takes them and converges.
#[test]
fn the_transaction_built_on_two_threads_is_the_one_built_on_one() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let dir = tempfile::tempdir().unwrap();
    // 100 switches of 30 ports; then two ports in three change address (an update each), the
    // first 10 switches leave (deletes) and 10 new ones come (creates).
    let topology = |first: usize, last: usize, moved: bool| {
        let mut text = String::from("name: pieces\nswitches:\n");
        for s in first..last {
            text.push_str(&format!("  s{s}:\n    subnet: 10.{s}.0.0/24\n    ports:\n"));
            for p in 0..30 {
                let host = if moved && p % 3 != 2 { 100 + p } else { 10 + p };
                text.push_str(&format!(
                    "      s{s}-p{p}: {{ mac: \"0a:00:00:00:{s:02x}:{p:02x}\", ip: 10.{s}.0.{host} }}\n"
                ));
            }
        }
        text
    };
    apply_file(
        &ovn,
        &write(dir.path(), "before.yaml", &topology(0, 100, false)),
    );
    let (after, stack, desired) = compiled(dir.path(), &topology(10, 110, true));
    let (rt, nb, schema) = nb_client(&ovn);
    rt.block_on(async {
        let (plan, live) = apply::read_and_plan(&nb, &desired, &stack, true)
            .await
            .unwrap();
        let (creates, updates, deletes) = plan.summary();
        assert!(creates + updates + deletes >= 2_000, "{:?}", plan.summary());
        assert!(
            creates > 0 && updates > 0 && deletes > 0,
            "{:?}",
            plan.summary()
        );
        let options = transaction::TxOptions {
            apply_id: Uuid::new_v4(),
            ..Default::default()
        };
        let on_one =
            transaction::build_with(&plan, &Db::Northbound, &live, &schema, &options, usize::MAX)
                .unwrap();
        let on_two =
            transaction::build_with(&plan, &Db::Northbound, &live, &schema, &options, 0).unwrap();
        assert_eq!(
            serde_json::to_string(&on_one).unwrap(),
            serde_json::to_string(&on_two).unwrap()
        );
        nb.transact(NB_DB, &on_two).await.unwrap();
    });
    assert_converged(&ovn, &after);
}

//! topo's OVSDB client (`topo::ovsdb`) against real `ovsdb-server`s started by tests/support:
//! transactions with named-uuid references, per-operation errors that commit nothing, monitors,
//! locks, a RAFT cluster losing its leader, and mutual TLS. Each effect is also checked the way
//! a user would, with `ovn-nbctl` or `ovsdb-client`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use topo::ovsdb::{
    Atom, Client, Columns, ColumnsExt, Condition, ConnectOptions, Datum, Error, Function,
    MonitorRequest, Mutation, Mutator, Notification, OpError, OpResult, Operation, RowUpdate,
    TableUpdates, TlsConfig, WaitUntil, columns_from_json,
};
use uuid::Uuid;

use crate::require_ovn;
use crate::support::ovn::{NB_DB, NbCluster, OvnSandbox};
use crate::support::pki::TlsFiles;

/// How long a test waits for a notification that must come.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

async fn connect(remote: &str) -> Client {
    Client::connect(remote, ConnectOptions::for_database(NB_DB))
        .await
        .unwrap_or_else(|e| panic!("connect to {remote}: {e}"))
}

fn row(cols: &[(&str, Datum)]) -> Columns {
    cols.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn s(v: &str) -> Datum {
    Datum::scalar(Atom::from(v))
}

fn named(name: &str) -> Datum {
    Datum::set([Atom::NamedUuid(name.to_owned())])
}

fn uuids(set: &[Uuid]) -> Datum {
    Datum::set(set.iter().copied().map(Atom::Uuid))
}

fn by_name(name: &str) -> Vec<Condition> {
    vec![Condition::eq("name", name)]
}

/// `ovn-nbctl --bare --columns=name list TABLE`, sorted.
fn names(ovn: &OvnSandbox, table: &str) -> Vec<String> {
    let out = ovn.nbctl(&["--bare", "--columns=name", "list", table]);
    let mut v: Vec<String> = out.split_whitespace().map(str::to_owned).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// transact

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transact_insert_select_update_mutate_delete_with_named_uuids() {
    require_ovn!();
    let ovn = OvnSandbox::nb_only();
    let client = connect(&ovn.nb_remote()).await;

    assert!(client.list_dbs().await.unwrap().contains(&NB_DB.to_owned()));
    let schema = client.get_schema(NB_DB).await.unwrap();
    assert!(schema.column_type("Logical_Switch", "ports").is_some());

    // insert: a port and a switch that refers to it by its uuid-name, in one transaction.
    let res = client
        .transact(
            NB_DB,
            &[
                Operation::insert("Logical_Switch_Port", row(&[("name", s("p1"))]))
                    .with_uuid_name("p1"),
                Operation::insert(
                    "Logical_Switch",
                    row(&[("name", s("sw0")), ("ports", named("p1"))]),
                )
                .with_uuid_name("sw0"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(res.len(), 2);
    let p1 = res[0].uuid().expect("insert returns the port's uuid");
    let sw0 = res[1].uuid().expect("insert returns the switch's uuid");

    // What a user sees: the switch with its port.
    let show = ovn.nbctl(&["show"]);
    assert!(show.contains(&format!("switch {sw0} (sw0)")), "{show}");
    assert!(show.contains("port p1"), "{show}");
    assert_eq!(ovn.nbctl(&["lsp-list", "sw0"]).trim(), format!("{p1} (p1)"));

    // select: the reference resolved to the port's real uuid.
    let res = client
        .transact(
            NB_DB,
            &[Operation::select(
                "Logical_Switch",
                by_name("sw0"),
                Some(vec!["_uuid".into(), "name".into(), "ports".into()]),
            )],
        )
        .await
        .unwrap();
    let rows = res[0].rows();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let decoded = columns_from_json(&schema, "Logical_Switch", &rows[0]).unwrap();
    assert_eq!(
        decoded.get("_uuid").cloned().expect("_uuid"),
        Datum::scalar(Atom::Uuid(sw0))
    );
    assert_eq!(decoded.get("ports").cloned().expect("ports"), uuids(&[p1]));

    // update: external_ids on the switch.
    let res = client
        .transact(
            NB_DB,
            &[Operation::update(
                "Logical_Switch",
                by_name("sw0"),
                row(&[(
                    "external_ids",
                    Datum::map([(Atom::from("owner"), Atom::from("topo"))]),
                )]),
            )],
        )
        .await
        .unwrap();
    assert_eq!(res[0], OpResult::Count(1));
    assert_eq!(
        ovn.nbctl(&["get", "Logical_Switch", "sw0", "external_ids:owner"])
            .trim(),
        "topo"
    );

    // mutate: a second port inserted and added to the switch's set in one transaction.
    let res = client
        .transact(
            NB_DB,
            &[
                Operation::insert("Logical_Switch_Port", row(&[("name", s("p2"))]))
                    .with_uuid_name("p2"),
                Operation::mutate(
                    "Logical_Switch",
                    by_name("sw0"),
                    vec![Mutation::insert("ports", named("p2"))],
                ),
            ],
        )
        .await
        .unwrap();
    let p2 = res[0].uuid().unwrap();
    assert_eq!(res[1], OpResult::Count(1));
    let listed = ovn.nbctl(&["lsp-list", "sw0"]);
    assert!(
        listed.contains("(p1)") && listed.contains("(p2)"),
        "{listed}"
    );

    // mutate delete: p1 leaves the set; being a non-root row, the server collects it.
    let res = client
        .transact(
            NB_DB,
            &[Operation::mutate(
                "Logical_Switch",
                vec![Condition::uuid(sw0)],
                vec![Mutation::new("ports", Mutator::Delete, uuids(&[p1]))],
            )],
        )
        .await
        .unwrap();
    assert_eq!(res[0], OpResult::Count(1));
    assert_eq!(names(&ovn, "Logical_Switch_Port"), ["p2"]);

    // A select with a non-equality function finds nothing named like that.
    let res = client
        .transact(
            NB_DB,
            &[Operation::select(
                "Logical_Switch_Port",
                vec![Condition::new("name", Function::Ne, s("p2"))],
                None,
            )],
        )
        .await
        .unwrap();
    assert!(res[0].rows().is_empty(), "{:?}", res[0]);

    // delete: the switch goes, and its remaining port with it.
    let res = client
        .transact(
            NB_DB,
            &[Operation::delete("Logical_Switch", by_name("sw0"))],
        )
        .await
        .unwrap();
    assert_eq!(res[0], OpResult::Count(1));
    assert!(ovn.nbctl(&["ls-list"]).trim().is_empty());
    assert!(
        names(&ovn, "Logical_Switch_Port").is_empty(),
        "p2 ({p2}) was collected"
    );
}

// ---------------------------------------------------------------------------------------------
// select

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_returns_typed_rows_with_only_the_asked_columns() {
    require_ovn!();
    let mut ovn = OvnSandbox::nb_only();
    ovn.nbctl(&["ls-add", "sw0"]);
    ovn.nbctl(&["lsp-add", "sw0", "p1"]);
    ovn.nbctl(&["lsp-add", "sw0", "p2"]);
    ovn.nbctl(&["lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1"]);
    ovn.nbctl(&[
        "set",
        "Logical_Switch_Port",
        "p1",
        "tag_request=7",
        "external_ids:owner=topo",
        "external_ids:tier=web",
    ]);
    ovn.nbctl(&["lr-add", "r0"]);
    ovn.nbctl(&[
        "lrp-add",
        "r0",
        "r0-sw0",
        "00:00:00:00:ff:01",
        "10.0.0.254/24",
        "fd00::1/64",
    ]);
    let p1_uuid: Uuid = ovn
        .nbctl(&[
            "--bare",
            "--columns=_uuid",
            "find",
            "Logical_Switch_Port",
            "name=p1",
        ])
        .trim()
        .parse()
        .unwrap();

    let client = connect(&ovn.nb_remote()).await;
    let mut notes = client.notifications().unwrap();
    let rows = client
        .select(
            NB_DB,
            "Logical_Switch_Port",
            by_name("p1"),
            &[
                "_uuid",
                "name",
                "tag_request",
                "up",
                "external_ids",
                "addresses",
            ],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let p1 = &rows[0];
    // Only the columns asked for, each typed as the schema says (what ovn-nbctl shows).
    let columns: Vec<&str> = p1.keys().map(String::as_str).collect();
    assert_eq!(
        columns,
        [
            "_uuid",
            "addresses",
            "external_ids",
            "name",
            "tag_request",
            "up"
        ]
    );
    assert_eq!(p1.uuid("_uuid"), Some(p1_uuid));
    assert_eq!(p1.string("name"), Some("p1"));
    assert_eq!(p1.integer("tag_request"), Some(7));
    // An optional boolean nobody set (no northd here) is the empty set, not `false`.
    assert_eq!(p1.get("up"), Some(&Datum::empty()));
    assert_eq!(p1.boolean("up"), None);
    assert_eq!(
        p1.string_map("external_ids"),
        BTreeMap::from([
            ("owner".to_owned(), "topo".to_owned()),
            ("tier".to_owned(), "web".to_owned())
        ])
    );
    assert_eq!(p1.strings("addresses"), ["00:00:00:00:00:01 10.0.0.1"]);

    // No condition: every row; no columns named: every column, `_version` included.
    let all = client
        .select(NB_DB, "Logical_Switch_Port", vec![], &[])
        .await
        .unwrap();
    let mut names: Vec<&str> = all.iter().filter_map(|r| r.string("name")).collect();
    names.sort();
    assert_eq!(names, ["p1", "p2"]);
    assert!(
        all.iter()
            .all(|r| r.contains_key("_version") && r.contains_key("options"))
    );
    // A one-element set of a column that may hold more is still a set; an empty map in a map
    // column is a map.
    let lrp = client
        .select(
            NB_DB,
            "Logical_Router_Port",
            vec![],
            &["networks", "options"],
        )
        .await
        .unwrap();
    assert_eq!(lrp[0].strings("networks"), ["10.0.0.254/24", "fd00::1/64"]);
    assert_eq!(lrp[0].get("options"), Some(&Datum::empty_map()));
    // Nothing matches: no rows.
    let none = client
        .select(NB_DB, "Logical_Switch", by_name("absent"), &["name"])
        .await
        .unwrap();
    assert!(none.is_empty());

    // What the server refuses comes typed, with a coded diagnostic.
    let err = client
        .select(NB_DB, "Logical_Switch_Port", vec![], &["nosuch"])
        .await
        .unwrap_err();
    // ovsdb-server calls an unknown column a syntax error in `columns`...
    assert!(
        matches!(
            &err,
            Error::Transaction {
                error: OpError::SyntaxError,
                ..
            }
        ),
        "{err:?}"
    );
    // ... and an unknown column in `where`.
    let unknown = client
        .select(
            NB_DB,
            "Logical_Switch_Port",
            by_name("p1")
                .into_iter()
                .chain([Condition::eq("nosuch", "x")])
                .collect(),
            &["name"],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &unknown,
            Error::Transaction {
                error: OpError::UnknownColumn,
                ..
            }
        ),
        "{unknown:?}"
    );
    let report = miette::Report::new(err);
    assert_eq!(
        report.code().map(|c| c.to_string()).as_deref(),
        Some("topo::ovsdb::transaction")
    );
    let err = client
        .select(NB_DB, "No_Such_Table", vec![], &[])
        .await
        .unwrap_err();
    // An unknown table, too, is a syntax error, the details naming it.
    assert!(
        matches!(
            &err,
            Error::Transaction {
                error: OpError::SyntaxError,
                details: Some(d),
                ..
            } if d.contains("No_Such_Table")
        ),
        "{err:?}"
    );

    // The server restarts: the stream says so in its own type, and the next select (a read)
    // goes to the new server without the caller doing anything.
    ovn.nb.restart();
    match notes.recv_timeout(NOTIFY_TIMEOUT).await {
        Some(Notification::Disconnected { remote, reason }) => {
            assert_eq!(remote, ovn.nb_remote());
            assert!(!reason.is_empty());
        }
        other => panic!("expected the disconnection, got {other:?}"),
    }
    ovn.nbctl(&["ls-add", "sw1"]);
    let switches = client
        .select(NB_DB, "Logical_Switch", vec![], &["name"])
        .await
        .unwrap();
    let mut names: Vec<&str> = switches.iter().filter_map(|r| r.string("name")).collect();
    names.sort();
    assert_eq!(names, ["sw0", "sw1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_operation_reports_its_index_and_commits_nothing() {
    require_ovn!();
    let ovn = OvnSandbox::nb_only();
    ovn.nbctl(&["ls-add", "sw0"]);
    ovn.nbctl(&["lsp-add", "sw0", "p1"]);
    let client = connect(&ovn.nb_remote()).await;
    let before = ovn.nb_dump();

    // 1. A per-operation error: ACL priority is limited to 0..=32767 by the schema.
    let err = client
        .transact(
            NB_DB,
            &[
                Operation::insert("Logical_Switch", row(&[("name", s("keep-out"))])),
                Operation::insert(
                    "ACL",
                    row(&[
                        ("priority", Datum::scalar(Atom::Integer(40_000))),
                        ("direction", s("to-lport")),
                        ("match", s("1")),
                        ("action", s("allow")),
                    ]),
                ),
            ],
        )
        .await
        .unwrap_err();
    match &err {
        Error::Transaction {
            index, error, op, ..
        } => {
            assert_eq!(*index, 1, "{err}");
            assert_eq!(*error, OpError::ConstraintViolation, "{err}");
            assert_eq!(op, "insert ACL", "{err}");
        }
        other => panic!("expected a transaction error, got {other:?}"),
    }
    assert!(err.to_string().contains("operation 1"), "{err}");

    // 2. Two ports with one name: the unique index on Logical_Switch_Port.name fails the
    //    commit, which the server reports after the last operation.
    let ops = [
        Operation::insert("Logical_Switch", row(&[("name", s("keep-out"))])),
        Operation::insert("Logical_Switch_Port", row(&[("name", s("p1"))])).with_uuid_name("dup"),
        Operation::mutate(
            "Logical_Switch",
            by_name("sw0"),
            vec![Mutation::insert("ports", named("dup"))],
        ),
    ];
    let err = client.transact(NB_DB, &ops).await.unwrap_err();
    match &err {
        Error::Transaction {
            index,
            error,
            details,
            ..
        } => {
            assert_eq!(*index, ops.len(), "the commit failed: {err}");
            assert_eq!(*error, OpError::ConstraintViolation, "{err}");
            let details = details.as_deref().unwrap_or_default();
            assert!(
                details.contains("p1") && details.contains("name"),
                "{details}"
            );
        }
        other => panic!("expected a transaction error, got {other:?}"),
    }

    // 3. A strong reference to a row that does not exist.
    let missing = Uuid::new_v4();
    let err = client
        .transact(
            NB_DB,
            &[
                Operation::insert("Logical_Switch", row(&[("name", s("keep-out"))])),
                Operation::mutate(
                    "Logical_Switch",
                    by_name("sw0"),
                    vec![Mutation::insert("ports", uuids(&[missing]))],
                ),
            ],
        )
        .await
        .unwrap_err();
    match &err {
        Error::Transaction { error, .. } => {
            assert_eq!(*error, OpError::ReferentialIntegrityViolation, "{err}")
        }
        other => panic!("expected a transaction error, got {other:?}"),
    }

    // 4. A wait guard whose rows differ (timeout 0) aborts at once at its own index.
    let err = client
        .transact(
            NB_DB,
            &[
                Operation::insert("Logical_Switch", row(&[("name", s("keep-out"))])),
                Operation::wait(
                    "Logical_Switch",
                    by_name("sw0"),
                    vec!["_uuid".into()],
                    WaitUntil::Equal,
                    vec![],
                ),
            ],
        )
        .await
        .unwrap_err();
    match &err {
        Error::Transaction { index, error, .. } => {
            assert_eq!((*index, error), (1, &OpError::TimedOut), "{err}");
            assert!(err.to_string().contains("): timed out"), "{err}");
        }
        other => panic!("expected a transaction error, got {other:?}"),
    }

    // Nothing of any of them was committed.
    assert_eq!(ovn.nb_dump(), before);
    assert!(!ovn.nbctl(&["ls-list"]).contains("keep-out"));
    assert_eq!(names(&ovn, "Logical_Switch_Port"), ["p1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_remote_reaches_the_same_database() {
    require_ovn!();
    let ovn = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .tcp(true)
        .start();
    let client = connect(&ovn.nb_tcp_remote()).await;
    client.echo().await.unwrap();
    client
        .transact(
            NB_DB,
            &[Operation::insert(
                "Logical_Switch",
                row(&[("name", s("via-tcp"))]),
            )],
        )
        .await
        .unwrap();
    assert!(ovn.nbctl(&["ls-list"]).contains("(via-tcp)"));
}

// ---------------------------------------------------------------------------------------------
// monitor_cond

/// The next `update` notification, skipping nothing: any other notification fails the test.
async fn next_update(notes: &mut topo::ovsdb::Notifications) -> (Value, TableUpdates) {
    match notes.recv_timeout(NOTIFY_TIMEOUT).await {
        Some(Notification::Update { monitor, updates }) => (monitor, updates),
        Some(other) => panic!("expected an update, got {other:?}"),
        None => panic!("no update within {NOTIFY_TIMEOUT:?}"),
    }
}

/// The row updates of `table` in `updates`, keyed by the row's `name` where the update
/// carries it.
fn name_of(update: &RowUpdate) -> Option<&str> {
    let row = match update {
        RowUpdate::Initial(r) | RowUpdate::Insert(r) | RowUpdate::Modify(r) => Some(r),
        RowUpdate::Update { new, old } => new.as_ref().or(old.as_ref()),
        RowUpdate::Delete => None,
    };
    row.and_then(|r| r.get("name")).and_then(Value::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_cond_delivers_initial_rows_and_later_updates() {
    require_ovn!();
    let ovn = OvnSandbox::nb_only();
    ovn.nbctl(&["ls-add", "sw-a"]);
    let sw_a = Uuid::parse_str(
        ovn.nbctl(&["get", "Logical_Switch", "sw-a", "_uuid"])
            .trim(),
    )
    .unwrap();
    let client = connect(&ovn.nb_remote()).await;
    let mut notes = client.notifications().expect("notifications");

    let mut all = BTreeMap::new();
    all.insert(
        "Logical_Switch".to_owned(),
        MonitorRequest::columns(&["name", "external_ids"]),
    );
    let initial = client
        .monitor_cond(NB_DB, json!("all"), &all)
        .await
        .unwrap();
    let rows = &initial["Logical_Switch"];
    assert_eq!(rows.len(), 1, "{initial:?}");
    assert!(
        matches!(&rows[&sw_a], RowUpdate::Initial(r) if r["name"] == "sw-a"),
        "{initial:?}"
    );

    // A conditional monitor that only wants sw-c.
    let mut only_c = BTreeMap::new();
    only_c.insert(
        "Logical_Switch".to_owned(),
        MonitorRequest {
            columns: Some(vec!["name".into()]),
            conditions: Some(by_name("sw-c")),
            select: None,
        },
    );
    let initial = client
        .monitor_cond(NB_DB, json!("only-c"), &only_c)
        .await
        .unwrap();
    assert!(
        initial.values().all(BTreeMap::is_empty),
        "no sw-c yet: {initial:?}"
    );

    // insert
    ovn.nbctl(&["ls-add", "sw-b"]);
    let (monitor, updates) = next_update(&mut notes).await;
    assert_eq!(monitor, json!("all"));
    let (&sw_b, update) = updates["Logical_Switch"].iter().next().unwrap();
    assert!(matches!(update, RowUpdate::Insert(_)), "{update:?}");
    assert_eq!(name_of(update), Some("sw-b"));

    // modify
    ovn.nbctl(&["set", "Logical_Switch", "sw-a", "external_ids:k=v"]);
    let (monitor, updates) = next_update(&mut notes).await;
    assert_eq!(monitor, json!("all"));
    match &updates["Logical_Switch"][&sw_a] {
        RowUpdate::Modify(diff) => {
            assert_eq!(
                diff["external_ids"],
                json!(["map", [["k", "v"]]]),
                "{diff:?}"
            )
        }
        other => panic!("expected a modify, got {other:?}"),
    }

    // delete
    ovn.nbctl(&["ls-del", "sw-b"]);
    let (_, updates) = next_update(&mut notes).await;
    assert!(
        matches!(updates["Logical_Switch"][&sw_b], RowUpdate::Delete),
        "{updates:?}"
    );

    // The conditional monitor sees sw-c and nothing else: sw-d is added first, so a wrong
    // "only-c" update for it would arrive before the one for sw-c. Both monitors report sw-c
    // (in either order); wait for both so no update of this step is left in the queue.
    ovn.nbctl(&["ls-add", "sw-d"]);
    ovn.nbctl(&["ls-add", "sw-c"]);
    let (mut c_in_all, mut c_in_only_c) = (false, false);
    while !(c_in_all && c_in_only_c) {
        let (monitor, updates) = next_update(&mut notes).await;
        let names: Vec<_> = updates["Logical_Switch"]
            .values()
            .filter_map(name_of)
            .collect();
        if monitor == json!("only-c") {
            assert_eq!(names, ["sw-c"], "the condition filters rows");
            c_in_only_c = true;
        } else {
            c_in_all |= names.contains(&"sw-c");
        }
    }

    // After monitor_cancel, "all" reports nothing more.
    client.monitor_cancel(json!("all")).await.unwrap();
    ovn.nbctl(&["ls-add", "sw-e"]);
    ovn.nbctl(&["ls-del", "sw-c"]);
    let (monitor, updates) = next_update(&mut notes).await;
    assert_eq!(
        monitor,
        json!("only-c"),
        "cancelled monitor still updating: {updates:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// locks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_client_gets_the_lock_when_the_first_unlocks() {
    require_ovn!();
    let ovn = OvnSandbox::nb_only();
    let a = connect(&ovn.nb_remote()).await;
    let b = connect(&ovn.nb_remote()).await;
    let mut a_notes = a.notifications().unwrap();
    let mut b_notes = b.notifications().unwrap();
    let guarded = |name: &str| {
        vec![
            Operation::assert_lock("topo"),
            Operation::insert("Logical_Switch", row(&[("name", s(name))])),
        ]
    };

    assert!(
        a.lock("topo").await.unwrap(),
        "the first client gets the lock at once"
    );
    assert!(!b.lock("topo").await.unwrap(), "the second one is queued");

    // Only the holder passes `assert`.
    a.transact(NB_DB, &guarded("by-a")).await.unwrap();
    let err = b.transact(NB_DB, &guarded("by-b")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transaction { index: 0, error, .. } if *error == OpError::NotOwner),
        "{err:?}"
    );
    assert!(!ovn.nbctl(&["ls-list"]).contains("by-b"));

    a.unlock("topo").await.unwrap();
    match b_notes.recv_timeout(NOTIFY_TIMEOUT).await {
        Some(Notification::Locked(name)) => assert_eq!(name, "topo"),
        other => panic!("expected `locked` for the waiting client, got {other:?}"),
    }
    b.transact(NB_DB, &guarded("by-b")).await.unwrap();
    assert!(ovn.nbctl(&["ls-list"]).contains("(by-b)"));

    // steal: a takes it back and b is told.
    assert!(a.steal("topo").await.unwrap());
    match b_notes.recv_timeout(NOTIFY_TIMEOUT).await {
        Some(Notification::Stolen(name)) => assert_eq!(name, "topo"),
        other => panic!("expected `stolen`, got {other:?}"),
    }
    let err = b.transact(NB_DB, &guarded("late")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transaction { error, .. } if *error == OpError::NotOwner),
        "{err:?}"
    );
    assert!(
        a_notes
            .recv_timeout(Duration::from_millis(100))
            .await
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// cluster

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_client_reaches_the_new_leader_after_the_leader_is_killed() {
    require_ovn!();
    let mut cluster = NbCluster::start();
    let leader = cluster.wait_for_leader();
    // The leader's remote last: the client must pass over the followers to find it.
    let mut remotes = cluster.remotes();
    let leader_remote = remotes.remove(leader);
    remotes.push(leader_remote.clone());
    let client = connect(&remotes.join(",")).await;
    let info = client.server().await.unwrap();
    assert_eq!(info.remote.to_string(), leader_remote);
    assert!(
        info.database
            .as_ref()
            .is_some_and(|d| d.leader && d.is_clustered()),
        "{info:?}"
    );

    client
        .transact(
            NB_DB,
            &[Operation::insert(
                "Logical_Switch",
                row(&[("name", s("before"))]),
            )],
        )
        .await
        .unwrap();

    let (old, new) = cluster.kill_leader();
    assert_eq!(old, leader);

    // The next transaction goes to the new leader, and commits.
    client
        .transact(
            NB_DB,
            &[Operation::insert(
                "Logical_Switch",
                row(&[("name", s("after"))]),
            )],
        )
        .await
        .expect("a transaction after the leader was killed commits on the new leader");
    let info = client.server().await.unwrap();
    assert_eq!(info.remote.to_string(), cluster.server(new).unix_remote());

    let listed = cluster.nbctl(&["ls-list"]);
    assert!(
        listed.contains("(before)") && listed.contains("(after)"),
        "{listed}"
    );
    assert_eq!(
        listed.lines().count(),
        2,
        "each transaction committed once: {listed}"
    );
}

// ---------------------------------------------------------------------------------------------
// TLS

fn tls(files: &TlsFiles) -> ConnectOptions {
    ConnectOptions {
        tls: Some(TlsConfig {
            private_key: files.private_key.clone(),
            certificate: files.certificate.clone(),
            ca_certificate: files.ca_cert.clone(),
        }),
        deadline: Duration::from_secs(5),
        ..ConnectOptions::for_database(NB_DB)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_right_ca_connects_and_a_wrong_ca_is_refused() {
    require_ovn!();
    let ovn = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .ssl(true)
        .start();
    let pki = ovn.pki();
    let remote = ovn.nb_ssl_remote();

    // Right CA, client signed by it: a working session (the server's certificate names no
    // host, so this also shows the name is not required).
    let client = Client::connect(&remote, tls(&pki.client))
        .await
        .expect("mutual TLS with the right CA");
    assert!(client.uses_tls().await);
    assert!(client.list_dbs().await.unwrap().contains(&NB_DB.to_owned()));
    client
        .transact(
            NB_DB,
            &[Operation::insert(
                "Logical_Switch",
                row(&[("name", s("over-tls"))]),
            )],
        )
        .await
        .unwrap();
    assert!(ovn.nbctl(&["ls-list"]).contains("(over-tls)"));

    // The client trusts another CA: the server's chain does not verify.
    let err = Client::connect(&remote, tls(&pki.client.with_ca(&pki.rogue_ca_cert)))
        .await
        .err()
        .expect("a server signed by an unknown CA is refused");
    let msg = err.to_string();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(msg.contains(&remote), "names the remote: {msg}");
    // ovs-pki gives every CA the same subject name (it embeds only the date), so rustls may
    // find the rogue CA a name match whose signature fails (BadSignature) or no issuer at all
    // (UnknownIssuer); either way the client must say the CA does not vouch for the server.
    assert!(
        msg.contains("not signed by the CA certificate given"),
        "says why: {msg}"
    );

    // The server does not trust the client's certificate: no session either.
    let refused = match Client::connect(&remote, tls(&pki.rogue_client)).await {
        Err(e) => e.to_string(),
        Ok(c) => c
            .list_dbs()
            .await
            .expect_err("the server refuses a client from another CA")
            .to_string(),
    };
    assert!(refused.contains(&remote), "names the remote: {refused}");
    assert!(
        refused.contains("UnknownCA"),
        "says the server refused the client's CA: {refused}"
    );
    assert!(
        refused.contains("TLS") && refused.contains("client certificate"),
        "a TLS refusal, not an unreachable server: {refused}"
    );

    // An ssl: remote without certificates is refused before any connection.
    let err = Client::connect(&remote, ConnectOptions::for_database(NB_DB))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::TlsMissing { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// connection life

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_tcp_session_outlives_the_servers_inactivity_probe() {
    require_ovn!();
    // ovsdb-server probes a TCP client after 5 s of silence and drops it 5 s later unless the
    // client answers `echo`. A monitor lives only as long as its session, so a monitor that
    // still reports after 12 s idle proves the session was kept.
    let ovn = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .tcp(true)
        .start();
    // The client's own probe is off, so only its answers to the server's `echo` keep it.
    let client = Client::connect(
        &ovn.nb_tcp_remote(),
        ConnectOptions {
            inactivity_probe: None,
            ..ConnectOptions::for_database(NB_DB)
        },
    )
    .await
    .unwrap();
    let mut notes = client.notifications().unwrap();
    let mut req = BTreeMap::new();
    req.insert(
        "Logical_Switch".to_owned(),
        MonitorRequest::columns(&["name"]),
    );
    client
        .monitor_cond(NB_DB, json!("idle"), &req)
        .await
        .unwrap();

    // Idle time is the behaviour under test here, not a synchronisation.
    tokio::time::sleep(Duration::from_secs(12)).await;

    ovn.nbctl(&["ls-add", "after-idle"]);
    let (monitor, updates) = next_update(&mut notes).await;
    assert_eq!(monitor, json!("idle"));
    let names: Vec<_> = updates["Logical_Switch"]
        .values()
        .filter_map(name_of)
        .collect();
    assert_eq!(names, ["after-idle"]);
    let log = std::fs::read_to_string(ovn.nb.log_path()).unwrap();
    assert!(
        !log.contains("inactivity probe"),
        "the server dropped the client:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_a_reply_is_outcome_unknown_and_not_resent() {
    require_ovn!();
    let mut ovn = OvnSandbox::nb_only();
    let client = Client::connect(
        &ovn.nb_remote(),
        ConnectOptions {
            request_timeout: Some(Duration::from_secs(1)),
            inactivity_probe: None,
            ..ConnectOptions::for_database(NB_DB)
        },
    )
    .await
    .unwrap();
    client.echo().await.unwrap();

    // A frozen server takes the request into its socket buffer but never replies in time.
    assert!(ovn.nb.signal("STOP"));
    let result = client
        .transact(
            NB_DB,
            &[Operation::insert(
                "Logical_Switch",
                row(&[("name", s("maybe"))]),
            )],
        )
        .await;
    assert!(ovn.nb.signal("CONT"));
    let err = result.unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&ovn.nb_remote()),
        "names the remote: {err}"
    );

    // It did commit once the server woke up: "unknown" was the honest answer. And exactly
    // once: the client did not send it again.
    let listed = crate::support::wait_for(
        "the frozen write to commit",
        Duration::from_secs(10),
        || Some(ovn.nbctl(&["ls-list"])).filter(|l| l.contains("(maybe)")),
    );
    assert_eq!(listed.lines().count(), 1, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_remote_is_a_clear_error() {
    require_ovn!();
    let ovn = OvnSandbox::nb_only();
    let gone = format!("unix:{}", ovn.dir().join("no-such.sock").display());
    let err = Client::connect(&gone, ConnectOptions::for_database(NB_DB))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::Unreachable { .. } | Error::Connect { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&gone), "names the remote: {err}");

    // A database the server does not have.
    let err = Client::connect(&ovn.nb_remote(), ConnectOptions::for_database("No_Such_DB"))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("No_Such_DB"), "{err}");
}

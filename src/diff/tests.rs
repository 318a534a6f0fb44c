use super::*;
use crate::diff::plan::Fate;
use crate::ovsdb::Datum;
use crate::rows::live::{Live, LiveRow};
use crate::rows::{RowRef, ownership};
use uuid::Uuid;

fn marked(stack: &str) -> Cell {
    Datum::map(
        ownership::mark(stack)
            .into_iter()
            .map(|(k, v)| (Value::from(k), Value::from(v))),
    )
}

fn switch(name: &str, stack: &str, ports: &[&str]) -> Row {
    Row::new()
        .with("name", Datum::scalar(Value::from(name)))
        .with("external_ids", marked(stack))
        .with(
            "ports",
            Datum::set(ports.iter().map(|p| {
                Value::Ref(Box::new(RowRef {
                    table: "Logical_Switch_Port".into(),
                    key: RowKey::name(*p),
                }))
            })),
        )
}

fn port(name: &str, stack: &str, addr: &str) -> Row {
    Row::new()
        .with("name", Datum::scalar(Value::from(name)))
        .with("external_ids", marked(stack))
        .with("addresses", Datum::scalar(Value::from(addr)))
}

fn state(rows: Vec<(&str, &str, Row)>) -> State {
    let mut s = State::new();
    for (table, key, row) in rows {
        s.insert(Db::Northbound, table, RowKey::name(key), row);
    }
    s
}

fn live(rows: Vec<(&str, &str, Row)>) -> Live {
    let mut l = Live {
        state: state(rows),
        ..Live::default()
    };
    let keys: Vec<_> = l
        .state
        .rows()
        .map(|(db, t, k, _)| (db.clone(), t.to_owned(), k.clone()))
        .collect();
    for (i, k) in keys.into_iter().enumerate() {
        let id = Uuid::from_u128(i as u128 + 1);
        l.rows.insert(
            k,
            LiveRow {
                uuid: id,
                version: Some(id),
                digest: 0,
            },
        );
    }
    l
}

#[test]
fn plan_of_identical_states_is_empty() {
    let rows = || {
        vec![
            ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
            (
                "Logical_Switch_Port",
                "vm1",
                port("vm1", "lab", "00:00:00:00:00:01 10.0.0.2"),
            ),
        ]
    };
    let p = plan(&state(rows()), &live(rows()), "lab", Options::default());
    assert!(p.is_empty(), "{p:#?}");
    assert!(p.conflicts.is_empty());
    assert_eq!(
        render::summary_line(&p),
        "No changes. The live databases match the topology."
    );
}

#[test]
fn creates_come_after_the_rows_they_reference() {
    let desired = state(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
        ("Logical_Switch_Port", "vm1", port("vm1", "lab", "dynamic")),
    ]);
    let p = plan(&desired, &Live::default(), "lab", Options::default());
    let order: Vec<_> = p
        .changes
        .iter()
        .map(|c| (c.action, c.table.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            (Action::Create, "Logical_Switch_Port"),
            (Action::Create, "Logical_Switch")
        ]
    );
    assert_eq!(p.read.rows.iter().filter(|r| r.uuid.is_none()).count(), 2);
}

#[test]
fn one_edit_plans_one_column_change() {
    let desired = state(vec![(
        "Logical_Switch_Port",
        "vm1",
        port("vm1", "lab", "00:00:00:00:00:01 10.0.0.3"),
    )]);
    let current = live(vec![(
        "Logical_Switch_Port",
        "vm1",
        port("vm1", "lab", "00:00:00:00:00:01 10.0.0.2"),
    )]);
    let p = plan(&desired, &current, "lab", Options::default());
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.changes[0].action, Action::Update);
    assert_eq!(p.changes[0].columns.len(), 1);
    assert_eq!(p.changes[0].columns[0].column, "addresses");
    let text = render::text(&p, false);
    assert!(text.contains("~ switch port vm1"), "{text}");
    assert!(
        text.contains("addresses: \"00:00:00:00:00:01 10.0.0.2\" → \"00:00:00:00:00:01 10.0.0.3\""),
        "{text}"
    );
}

#[test]
fn owned_rows_that_left_are_deleted_unless_no_prune() {
    let current = live(vec![
        ("Logical_Switch", "old", switch("old", "lab", &[])),
        ("Logical_Switch", "theirs", switch("theirs", "other", &[])),
    ]);
    let p = plan(&State::new(), &current, "lab", Options::default());
    assert_eq!(p.changes.len(), 1);
    assert_eq!(
        (p.changes[0].action, p.changes[0].key.to_string()),
        (Action::Delete, "old".to_owned())
    );
    let kept = plan(&State::new(), &current, "lab", Options { prune: false });
    assert!(kept.changes.is_empty());
    assert_eq!(kept.kept.len(), 1);
}

#[test]
fn unowned_rows_are_conflicts_not_changes() {
    let mut unowned = switch("ls1", "lab", &[]);
    unowned.set("external_ids", Datum::empty_map());
    let p = plan(
        &state(vec![("Logical_Switch", "ls1", switch("ls1", "lab", &[]))]),
        &live(vec![("Logical_Switch", "ls1", unowned)]),
        "lab",
        Options::default(),
    );
    assert!(p.changes.is_empty());
    assert!(matches!(
        &p.conflicts[..],
        [Conflict::Unowned { owner: None, .. }]
    ));
    assert!(render::text(&p, false).contains("topo import --adopt"));
    // Nothing to change, but the databases do not match: the summary must not say they do.
    assert_eq!(
        render::summary_line(&p),
        "No changes planned, but 1 conflict(s) block apply."
    );
}

#[test]
fn plan_json_round_trips() {
    let desired = state(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
        ("Logical_Switch_Port", "vm1", port("vm1", "lab", "dynamic")),
    ]);
    let p = plan(&desired, &Live::default(), "lab", Options::default());
    let json = serde_json::to_string(&p).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
}

#[test]
fn other_tools_external_ids_keys_are_kept_on_owned_rows() {
    let desired = state(vec![("Logical_Switch", "ls1", switch("ls1", "lab", &[]))]);
    let mut adopted = switch("ls1", "lab", &[]);
    let mut ids = marked("lab").as_map().unwrap().clone();
    ids.insert(Value::from("neutron:network_name"), Value::from("net1"));
    ids.insert(Value::from("topo:old-key"), Value::from("stale"));
    adopted.set("external_ids", Datum::Map(ids));
    let p = plan(
        &desired,
        &live(vec![("Logical_Switch", "ls1", adopted)]),
        "lab",
        Options::default(),
    );
    // Only topo's own stale key changes; Neutron's stays.
    assert_eq!(p.changes.len(), 1, "{p:#?}");
    let after = p.changes[0].columns[0]
        .after
        .as_ref()
        .unwrap()
        .as_map()
        .unwrap();
    assert!(after.contains_key(&Value::from("neutron:network_name")));
    assert!(!after.contains_key(&Value::from("topo:old-key")));
}

#[test]
fn read_digests_are_the_live_rows_digests() {
    let mut current = live(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
        (
            "Logical_Switch_Port",
            "vm1",
            port("vm1", "lab", "00:00:00:00:00:01 10.0.0.2"),
        ),
    ]);
    for (i, row) in current.rows.values_mut().enumerate() {
        row.digest = 0x1234_5678_0000 + i as u64;
    }
    let desired = state(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
        ("Logical_Switch", "ls2", switch("ls2", "lab", &[])),
    ]);
    let p = plan(&desired, &current, "lab", Options::default());
    assert_eq!(p.read.rows.len(), 3);
    for r in &p.read.rows {
        let expected = current.row(&r.db, &r.table, &r.key).map(LiveRow::digest);
        assert_eq!(r.digest, expected, "{}", r.key);
    }
    assert!(p.read.rows.iter().any(|r| r.digest.is_some()));
}

#[test]
fn chassis_changes_are_shown_counted_and_saved() {
    let p = plan(&State::new(), &Live::default(), "lab", Options::default());
    assert!(p.is_empty());
    let change = ChassisChange {
        chassis: "gw1".into(),
        remote: "unix:/gw1.sock".into(),
        bridge_mappings_before: "theirs:br-t".into(),
        bridge_mappings_after: "ext:br-ex,theirs:br-t".into(),
        owned_before: String::new(),
        owned_after: "ext".into(),
        bridges_added: vec!["br-ex".into()],
        ports_added: [("br-ex".to_owned(), vec!["eth1".to_owned()])].into(),
        settings_changed: vec![
            SettingChange {
                key: "ovn-encap-ip".into(),
                before: Some("172.17.0.1".into()),
                after: "172.17.0.2".into(),
            },
            SettingChange {
                key: "ovn-remote".into(),
                before: None,
                after: "tcp:10.0.0.1:6642".into(),
            },
        ],
        bridge_mappings: [("ext".to_owned(), "br-ex".to_owned())].into(),
        bridges: [("br-ex".to_owned(), vec!["eth1".to_owned()])].into(),
        settings: [
            ("ovn-encap-ip".to_owned(), "172.17.0.2".to_owned()),
            ("ovn-remote".to_owned(), "tcp:10.0.0.1:6642".to_owned()),
        ]
        .into(),
        datapath_type: String::new(),
    };
    // As apply shows it, beside its own plan: the same text as a plan holding it.
    let shown = render::text_with(&p, std::slice::from_ref(&change), false);
    let mut p = p;
    p.chassis.push(change);
    assert!(!p.is_empty());
    assert_eq!(shown, render::text(&p, false));
    for line in [
        "~ chassis gw1",
        r#"    ovn-bridge-mappings: "theirs:br-t" → "ext:br-ex,theirs:br-t""#,
        r#"    ovn-encap-ip: "172.17.0.1" → "172.17.0.2""#,
        r#"    ovn-remote: (unset) → "tcp:10.0.0.1:6642""#,
        r#"    networks owned by the stack: "" → "ext""#,
        "    + bridge br-ex",
        "    + ports of br-ex: eth1",
        "Plan: 0 to create, 0 to update, 0 to delete, 1 chassis to change.",
    ] {
        assert!(shown.lines().any(|l| l == line), "{line:?} not in\n{shown}");
    }
    assert!(render::markdown(&p).contains("! chassis gw1"));
    let back: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn mappings_in_another_order_are_not_shown_as_a_change() {
    let change = ChassisChange {
        chassis: "gw1".into(),
        remote: "unix:/gw1.sock".into(),
        bridge_mappings_before: "theirs:br-t, ext:br-ex".into(),
        bridge_mappings_after: "ext:br-ex,theirs:br-t".into(),
        owned_before: "ext".into(),
        owned_after: "ext".into(),
        bridges_added: vec![],
        ports_added: Default::default(),
        settings_changed: vec![SettingChange {
            key: "ovn-encap-ip".into(),
            before: Some("172.17.0.1".into()),
            after: "172.17.0.2".into(),
        }],
        bridge_mappings: [("ext".to_owned(), "br-ex".to_owned())].into(),
        bridges: Default::default(),
        settings: [("ovn-encap-ip".to_owned(), "172.17.0.2".to_owned())].into(),
        datapath_type: String::new(),
    };
    let p = plan(&State::new(), &Live::default(), "lab", Options::default());
    let shown = render::text_with(&p, std::slice::from_ref(&change), false);
    assert!(
        shown.contains(r#"    ovn-encap-ip: "172.17.0.1" → "172.17.0.2""#),
        "{shown}"
    );
    assert!(!shown.contains("ovn-bridge-mappings"), "{shown}");
}

/// A plan too large for a pull-request comment: the Markdown stays within the budget, counts
/// every change per object family, shows the first changes whole and says how many it left out.
#[test]
fn a_large_plan_in_markdown_stays_under_the_comment_cap() {
    fn as_rows<'a>(v: &'a [(&'static str, String, Row)]) -> Vec<(&'static str, &'a str, Row)> {
        v.iter()
            .map(|(t, k, r)| (*t, k.as_str(), r.clone()))
            .collect()
    }
    let name = |p: &str, i: usize| format!("{p}{i:05}");
    let mut want = Vec::new();
    let mut have = Vec::new();
    for i in 0..3000 {
        let p = name("vm", i);
        want.push(("Logical_Switch_Port", p.clone(), port(&p, "lab", "dynamic")));
        if i < 1000 {
            have.push((
                "Logical_Switch_Port",
                p.clone(),
                port(&p, "lab", "00:00:00:00:00:01"),
            ));
        }
    }
    for i in 0..500 {
        let p = name("old", i);
        have.push(("Logical_Switch_Port", p.clone(), port(&p, "lab", "dynamic")));
    }
    want.push((
        "Logical_Switch",
        "ls1".to_owned(),
        switch("ls1", "lab", &["vm00000"]),
    ));
    let p = plan(
        &state(as_rows(&want)),
        &live(as_rows(&have)),
        "lab",
        Options::default(),
    );
    assert_eq!(p.summary(), (2001, 1000, 500));
    let full = render::markdown_within(&p, usize::MAX);
    assert!(full.len() > render::MARKDOWN_BUDGET, "{}", full.len());
    assert!(!full.contains("not shown"));

    let md = render::markdown(&p);
    assert!(md.len() <= render::MARKDOWN_BUDGET, "{}", md.len());
    assert!(md.chars().count() < 65_536);
    assert!(md.starts_with(
        "### topo plan for stack `lab`\n\n**Plan: 2001 to create, 1000 to update, 500 to delete.**\n\n\
         | object | create | update | delete |\n| --- | ---: | ---: | ---: |\n\
         | switch | 1 | 0 | 0 |\n| switch port | 2000 | 1000 | 500 |\n\n"
    ));
    // Whole changes only, and the count of the others.
    let shown = md
        .lines()
        .filter(|l| l.starts_with(['+', '!', '-']) && !l.starts_with("---"))
        .count();
    assert!(shown > 100, "{shown}");
    let total = p.changes.len();
    assert!(
        md.contains(&format!(
            "<summary>Changes (the first {shown} of {total})</summary>"
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!("**{} more change(s) not shown**", total - shown)),
        "{md}"
    );
    assert!(md.trim_end().ends_with("</details>"));
    // What is shown is the full rendering's beginning, line for line.
    let body = |s: &str| -> Vec<String> {
        s.lines()
            .skip_while(|l| *l != "```diff")
            .skip(1)
            .take_while(|l| *l != "```")
            .map(str::to_owned)
            .collect()
    };
    let (cut, whole) = (body(&md), body(&full));
    assert_eq!(cut[..], whole[..cut.len()]);

    // A small budget: the conflicts are cut too, and still everything fits.
    let mut p = p;
    p.conflicts = (0..400)
        .map(|i| Conflict::Duplicate {
            db: Db::Northbound,
            table: "Logical_Switch".into(),
            key: RowKey::name(name("dup", i)),
            uuids: vec![Uuid::from_u128(1), Uuid::from_u128(2)],
        })
        .collect();
    let md = render::markdown_within(&p, 10_000);
    assert!(md.len() <= 10_000, "{}", md.len());
    assert!(md.contains("more conflict(s) not shown here"), "{md}");
    assert!(md.contains("more change(s) not shown"), "{md}");
}

// Rows the stack does not own, referred to by rows it does (`foreign`).

fn nb_schema() -> std::sync::Arc<crate::ovsdb::DatabaseSchema> {
    let refs = |table: &str, strong: bool, max: &str| {
        serde_json::json!({"type": {"key": {"type": "uuid", "refTable": table,
            "refType": if strong { "strong" } else { "weak" }}, "min": 0,
            "max": if max == "1" { serde_json::json!(1) } else { serde_json::json!(max) }}})
    };
    let ids = serde_json::json!({"type": {"key": "string", "value": "string", "min": 0,
        "max": "unlimited"}});
    let name = serde_json::json!({"type": "string"});
    let schema = serde_json::json!({"name": "OVN_Northbound", "version": "1", "tables": {
        "Logical_Switch": {"isRoot": true, "columns": {"name": name, "external_ids": ids,
            "ports": refs("Logical_Switch_Port", true, "unlimited"),
            "acls": refs("ACL", true, "unlimited"),
            "load_balancer": refs("Load_Balancer", false, "unlimited")}},
        "Logical_Switch_Port": {"columns": {"name": name, "external_ids": ids,
            "addresses": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
            "ha_chassis_group": refs("HA_Chassis_Group", true, "1")}},
        "Port_Group": {"isRoot": true, "columns": {"name": name, "external_ids": ids,
            "acls": refs("ACL", true, "unlimited")}},
        "ACL": {"columns": {"priority": {"type": "integer"}, "external_ids": ids}},
        "Load_Balancer": {"isRoot": true, "columns": {"name": name, "external_ids": ids}},
        "HA_Chassis_Group": {"isRoot": true, "columns": {"name": name, "external_ids": ids}}
    }});
    std::sync::Arc::new(crate::ovsdb::DatabaseSchema::from_json(&schema).unwrap())
}

fn r(table: &str, key: RowKey) -> Value {
    Value::Ref(Box::new(RowRef {
        table: table.into(),
        key,
    }))
}

fn acl_key(parent: &str) -> RowKey {
    crate::rows::identity::rule_key(parent, "to-lport", 1000, "ip4")
}

/// A live state with the NB schema: each row keyed as given, UUIDs in order from 1.
fn live_keyed(rows: Vec<(&str, RowKey, Row)>) -> Live {
    let mut l = Live {
        schema: Some(nb_schema()),
        ..Live::default()
    };
    for (table, key, row) in rows {
        l.state.insert(Db::Northbound, table, key, row);
    }
    let keys: Vec<_> = l
        .state
        .rows()
        .map(|(db, t, k, _)| (db.clone(), t.to_owned(), k.clone()))
        .collect();
    for (i, k) in keys.into_iter().enumerate() {
        let id = Uuid::from_u128(i as u128 + 1);
        l.rows.insert(
            k,
            LiveRow {
                uuid: id,
                version: Some(id),
                digest: 0,
            },
        );
    }
    l
}

fn unowned_port(name: &str) -> Row {
    Row::new()
        .with("name", Datum::scalar(Value::from(name)))
        .with("external_ids", Datum::empty_map())
}

#[test]
fn a_foreign_port_in_an_owned_switch_is_kept_not_removed() {
    let current = live_keyed(vec![
        (
            "Logical_Switch",
            RowKey::name("ls1"),
            switch("ls1", "lab", &["vm1", "hand"]),
        ),
        (
            "Logical_Switch_Port",
            RowKey::name("vm1"),
            port("vm1", "lab", "a"),
        ),
        (
            "Logical_Switch_Port",
            RowKey::name("hand"),
            unowned_port("hand"),
        ),
    ]);
    // Unchanged: nothing to do, the hand-made port reported as kept.
    let desired = state(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
        ("Logical_Switch_Port", "vm1", port("vm1", "lab", "a")),
    ]);
    let p = plan(&desired, &current, "lab", Options::default());
    assert!(p.is_empty(), "{p:#?}");
    assert!(p.foreign_at_risk.is_empty());
    assert_eq!(p.foreign_kept.len(), 1);
    assert_eq!(
        render::kept_line(&p.foreign_kept[0], "lab"),
        "kept: switch port hand in switch ls1 ports (not owned by stack lab)"
    );
    assert_eq!(
        render::summary_line(&p),
        "No changes. The stack's rows match the topology; 1 reference(s) to rows it does not \
         own are kept."
    );
    // A port more: the set's new value still holds the hand-made one, so no delete of it.
    let desired = state(vec![
        (
            "Logical_Switch",
            "ls1",
            switch("ls1", "lab", &["vm1", "vm2"]),
        ),
        ("Logical_Switch_Port", "vm1", port("vm1", "lab", "a")),
        ("Logical_Switch_Port", "vm2", port("vm2", "lab", "b")),
    ]);
    let p = plan(&desired, &current, "lab", Options::default());
    let update = p
        .changes
        .iter()
        .find(|c| c.action == Action::Update)
        .expect("update");
    let after = update.columns[0]
        .after
        .as_ref()
        .and_then(Datum::as_set)
        .unwrap();
    assert!(after.contains(&r("Logical_Switch_Port", RowKey::name("hand"))));
    assert_eq!(render::text(&p, false).matches("ports: -").count(), 0);
    // Without the schema (a state built by hand), nothing is kept: the schema decides.
    let mut bare = current.clone();
    bare.schema = None;
    let p = plan(&desired, &bare, "lab", Options::default());
    assert!(p.foreign_kept.is_empty());
}

#[test]
fn a_reference_the_reader_could_not_key_is_kept_in_a_column_the_topology_does_not_set() {
    let foreign = Uuid::from_u128(99);
    let mut ls = switch("ls1", "lab", &[]);
    ls.set("acls", Datum::scalar(Value::Atom(Atom::Uuid(foreign))));
    let mut current = live_keyed(vec![("Logical_Switch", RowKey::name("ls1"), ls)]);
    current
        .others
        .push(("ACL".into(), foreign, crate::ovsdb::Columns::new()));
    let desired = state(vec![("Logical_Switch", "ls1", switch("ls1", "lab", &[]))]);
    let p = plan(&desired, &current, "lab", Options::default());
    assert!(p.is_empty(), "{p:#?}");
    assert_eq!(
        render::kept_line(&p.foreign_kept[0], "lab"),
        format!("kept: acl {foreign} in switch ls1 acls (not owned by stack lab)")
    );
    // The switch leaves: the ACL would be garbage-collected.
    let p = plan(&State::new(), &current, "lab", Options::default());
    assert_eq!(p.foreign_at_risk.len(), 1);
    assert_eq!(p.foreign_at_risk[0].fate, Fate::Deleted);
    assert_eq!(p.foreign_at_risk[0].row.uuid, Some(foreign));
}

#[test]
fn deleting_an_owned_parent_names_what_it_would_delete_or_detach() {
    let mut ls = switch("ls1", "lab", &["hand"]);
    ls.set(
        "acls",
        Datum::set([r("ACL", acl_key("ls1")), r("ACL", acl_key("pg"))]),
    );
    ls.set(
        "load_balancer",
        Datum::scalar(r("Load_Balancer", RowKey::name("lb1"))),
    );
    let mut hand = unowned_port("hand");
    hand.set(
        "ha_chassis_group",
        Datum::scalar(r("HA_Chassis_Group", RowKey::name("g"))),
    );
    let acl = || Row::new().with("external_ids", Datum::empty_map());
    // A foreign port group shares the second ACL: it stays, detached from ls1.
    let pg = Row::new()
        .with("name", Datum::scalar(Value::from("pg")))
        .with("external_ids", Datum::empty_map())
        .with("acls", Datum::scalar(r("ACL", acl_key("pg"))));
    let current = live_keyed(vec![
        ("Logical_Switch", RowKey::name("ls1"), ls),
        ("Logical_Switch_Port", RowKey::name("hand"), hand),
        ("ACL", acl_key("ls1"), acl()),
        ("ACL", acl_key("pg"), acl()),
        ("Port_Group", RowKey::name("pg"), pg),
        ("Load_Balancer", RowKey::name("lb1"), acl()),
        ("HA_Chassis_Group", RowKey::name("g"), acl()),
    ]);
    let p = plan(&State::new(), &current, "lab", Options::default());
    let risk: Vec<(String, Fate)> = p
        .foreign_at_risk
        .iter()
        .map(|a| {
            (
                format!("{} {}", a.row.table, a.row.key.as_ref().unwrap()),
                a.fate,
            )
        })
        .collect();
    assert_eq!(
        risk,
        vec![
            ("ACL ls1 to-lport 1000 ip4".to_owned(), Fate::Deleted),
            ("ACL pg to-lport 1000 ip4".to_owned(), Fate::Detached),
            // Root rows survive; the group loses the port the database deletes.
            ("HA_Chassis_Group g".to_owned(), Fate::Detached),
            ("Load_Balancer lb1".to_owned(), Fate::Detached),
            ("Logical_Switch_Port hand".to_owned(), Fate::Deleted),
        ]
    );
    let text = render::text(&p, false);
    assert!(
        text.contains(
            "! switch port hand would be deleted by the database: its last strong reference \
             goes with switch ls1 ports (not owned by stack lab)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "! ha-chassis-group g would be detached from switch port hand ha_chassis_group; \
             the row itself stays (not owned by stack lab)"
        ),
        "{text}"
    );
    assert!(
        render::summary_line(&p).ends_with(
            "5 row(s) the stack does not own at risk: apply refuses without \
             --allow-foreign-loss."
        ),
        "{}",
        render::summary_line(&p)
    );
    insta::assert_snapshot!("foreign_at_risk_text", text);
    insta::assert_snapshot!("foreign_at_risk_markdown", render::markdown(&p));
    // The JSON carries them, and reads back.
    let json = serde_json::to_string(&p).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back.foreign_at_risk, p.foreign_at_risk);
    // `--no-prune`: nothing is deleted, nothing at risk.
    let kept = plan(&State::new(), &current, "lab", Options { prune: false });
    assert!(kept.foreign_at_risk.is_empty());
}

#[test]
fn a_single_valued_reference_is_kept_when_unset_and_at_risk_when_replaced() {
    let mut vm1 = port("vm1", "lab", "a");
    vm1.set(
        "ha_chassis_group",
        Datum::scalar(r("HA_Chassis_Group", RowKey::name("theirs"))),
    );
    let group = |stack: Option<&str>| {
        Row::new().with("external_ids", stack.map_or_else(Datum::empty_map, marked))
    };
    let current = live_keyed(vec![
        ("Logical_Switch_Port", RowKey::name("vm1"), vm1),
        ("HA_Chassis_Group", RowKey::name("theirs"), group(None)),
        ("HA_Chassis_Group", RowKey::name("ours"), group(Some("lab"))),
    ]);
    let mut want = port("vm1", "lab", "a");
    want.set("ha_chassis_group", Datum::empty());
    let mut desired = state(vec![("Logical_Switch_Port", "vm1", want.clone())]);
    desired.insert(
        Db::Northbound,
        "HA_Chassis_Group",
        RowKey::name("ours"),
        group(Some("lab")),
    );
    let p = plan(&desired, &current, "lab", Options::default());
    assert!(p.is_empty(), "{p:#?}");
    assert_eq!(p.foreign_kept.len(), 1);
    want.set(
        "ha_chassis_group",
        Datum::scalar(r("HA_Chassis_Group", RowKey::name("ours"))),
    );
    desired.insert(
        Db::Northbound,
        "Logical_Switch_Port",
        RowKey::name("vm1"),
        want,
    );
    let p = plan(&desired, &current, "lab", Options::default());
    assert_eq!(p.changes.len(), 1);
    assert!(p.foreign_kept.is_empty());
    assert_eq!(p.foreign_at_risk.len(), 1);
    assert_eq!(p.foreign_at_risk[0].fate, Fate::Detached);
}

/// The seed's DGP (node1, priority 2, without `externalnet` in the Southbound): acknowledged,
/// a warning under "Gateways" and "No changes."; without `unmapped-ok`, an error that the
/// summary says blocks apply. Text and Markdown.
#[test]
fn gateway_findings_are_shown_and_an_error_blocks_apply() {
    use crate::live::southbound::SbChassis;
    let seed = include_str!("../../examples/topologies/dgp-seed-gateway-chassis.yaml");
    let sb = |name: &str, mappings: &str| SbChassis {
        name: name.to_owned(),
        published: std::collections::BTreeMap::from([(
            "ovn-bridge-mappings".to_owned(),
            mappings.to_owned(),
        )]),
        ..SbChassis::default()
    };
    let registered = [
        sb("master", "externalnet:br-ens8"),
        sb("node1", "physnet:br-phys"),
    ];
    let found = |text: &str| {
        let loaded = crate::spec::load_str("seed.yaml", text);
        let model = crate::compiler::check(&loaded.topology).0.unwrap();
        let mut p = plan(&State::new(), &live(vec![]), "seed", Options::default());
        p.gateways = gateways::check(&model.gateway_needs, &registered);
        p
    };
    let acknowledged = found(seed);
    assert!(!gateways::blocking(&acknowledged.gateways));
    let text = render::text(&acknowledged, false);
    assert!(text.contains("No changes."), "{text}");
    insta::assert_snapshot!("gateway_warning_text", text);

    let ack = "    unmapped-ok: [externalnet]\n";
    assert_eq!(seed.matches(ack).count(), 1);
    let refused = found(&seed.replace(ack, ""));
    assert!(gateways::blocking(&refused.gateways));
    assert_eq!(
        render::summary_line(&refused),
        "No changes planned, but 1 gateway chassis finding(s) block apply."
    );
    insta::assert_snapshot!("gateway_error_text", render::text(&refused, false));
    insta::assert_snapshot!("gateway_error_markdown", render::markdown(&refused));
    let json = serde_json::to_value(&refused).unwrap();
    assert_eq!(json["gateways"][0]["severity"], "error");
    assert_eq!(json["gateways"][0]["chassis"], "node1");
    assert_eq!(json["gateways"][0]["port"], "lr1-lslocal");
    assert_eq!(json["gateways"][0]["networks"][0], "externalnet");
    assert_eq!(json["gateways"][0]["role"], "active");
}

/// A saved plan's expected end state: the stack's rows as read, with the plan carried out.
/// Planning from it against the database after a faithful apply is empty; against one where a
/// change did not hold (a created row missing, an update undone), it is not.
#[test]
fn a_saved_plans_expected_end_is_the_stacks_rows_with_the_plan_carried_out() {
    let before = live(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
        (
            "Logical_Switch_Port",
            "vm1",
            port("vm1", "lab", "00:00:00:00:00:01 10.0.0.2"),
        ),
        ("Logical_Switch", "old", switch("old", "lab", &[])),
        ("Logical_Switch", "theirs", switch("theirs", "other", &[])),
    ]);
    let desired = state(vec![
        (
            "Logical_Switch",
            "ls1",
            switch("ls1", "lab", &["vm1", "vm2"]),
        ),
        (
            "Logical_Switch_Port",
            "vm1",
            port("vm1", "lab", "00:00:00:00:00:01 10.0.0.9"),
        ),
        ("Logical_Switch_Port", "vm2", port("vm2", "lab", "dynamic")),
    ]);
    let options = Options { prune: true };
    let p = plan(&desired, &before, "lab", options);
    assert_eq!(p.changes.len(), 4, "{p:#?}");

    let expected = expected_after(&p, &before);
    // The other stack's switch is not the stack's to expect; the pruned one is gone.
    assert_eq!(expected.tables, desired.tables);

    // The database as a faithful apply leaves it (the other stack's switch still there).
    let wanted: Vec<(&str, String, &Row)> = desired
        .rows()
        .map(|(_, table, key, row)| (table, key.0[0].clone(), row))
        .collect();
    let mut after_rows: Vec<(&str, &str, Row)> = wanted
        .iter()
        .map(|(table, name, row)| (*table, name.as_str(), (*row).clone()))
        .collect();
    after_rows.push(("Logical_Switch", "theirs", switch("theirs", "other", &[])));
    let after = live(after_rows.clone());
    assert!(plan(&expected, &after, "lab", options).is_empty());

    // A created row the database does not hold (garbage-collected, say): not converged.
    let without_vm2 = live(
        after_rows
            .iter()
            .filter(|(_, k, _)| *k != "vm2")
            .cloned()
            .collect(),
    );
    let left = plan(&expected, &without_vm2, "lab", options);
    assert_eq!(left.changes.len(), 1, "{left:#?}");
    assert_eq!(left.changes[0].key, RowKey::name("vm2"));

    // An update that did not hold.
    let undone = live(
        after_rows
            .into_iter()
            .map(|(t, k, row)| match k {
                "vm1" => (t, k, port("vm1", "lab", "00:00:00:00:00:01 10.0.0.2")),
                _ => (t, k, row),
            })
            .collect(),
    );
    let left = plan(&expected, &undone, "lab", options);
    assert_eq!(left.changes.len(), 1, "{left:#?}");
    assert_eq!(left.changes[0].action, Action::Update);
}

/// What an apply that did not converge says: the summary, then the changes left by name.
#[test]
fn the_summary_naming_the_changes_left() {
    let desired = state(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &["vm1"])),
        ("Logical_Switch_Port", "vm1", port("vm1", "lab", "dynamic")),
    ]);
    let p = plan(&desired, &Live::default(), "lab", Options::default());
    assert_eq!(
        render::summary_naming(&p),
        format!(
            "{} (create switch port vm1; create switch ls1)",
            render::summary_line(&p)
        )
    );
    let have = live(vec![
        ("Logical_Switch", "ls1", switch("ls1", "lab", &[])),
        ("Logical_Switch_Port", "vm1", port("vm1", "lab", "dynamic")),
    ]);
    let p = plan(&desired, &have, "lab", Options::default());
    assert!(
        render::summary_naming(&p).ends_with("(update switch ls1 (ports))"),
        "{}",
        render::summary_naming(&p)
    );
}

/// Desired and live states of `n` ports (and their switches) where every fate occurs: ports
/// created, unchanged, updated, deleted (kept without prune), held by no stack or another one
/// (conflicts); switches updated, keeping an unowned port; duplicated keys.
fn every_fate(n: usize) -> (State, Live) {
    let port_key = |i: usize| format!("p{i:05}");
    let switch_of = |i: usize| format!("s{:04}", i / 10);
    let mut desired = Vec::new();
    let mut current = Vec::new();
    let mut wanted_ports = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut live_ports = std::collections::BTreeMap::<String, Vec<String>>::new();
    for i in 0..n {
        let (name, sw) = (port_key(i), switch_of(i));
        let addr = format!(
            "00:00:00:00:{:02x}:{:02x} 10.0.{}.{}",
            i / 256 % 256,
            i % 256,
            i / 250,
            i % 250 + 2
        );
        let (want, have) = match i % 10 {
            0 | 5 => (Some(port(&name, "lab", &addr)), None),
            1 | 6 => (
                Some(port(&name, "lab", &addr)),
                Some(port(&name, "lab", &addr)),
            ),
            2 | 7 => (
                Some(port(&name, "lab", &addr)),
                Some(port(&name, "lab", "dynamic")),
            ),
            3 | 8 => (None, Some(port(&name, "lab", &addr))),
            4 => (Some(port(&name, "lab", &addr)), Some(unowned_port(&name))),
            _ => (
                Some(port(&name, "lab", &addr)),
                Some(port(&name, "other", &addr)),
            ),
        };
        if let Some(row) = want {
            wanted_ports
                .entry(sw.clone())
                .or_default()
                .push(name.clone());
            desired.push(("Logical_Switch_Port", RowKey::name(&name), row));
        }
        if let Some(row) = have {
            live_ports.entry(sw.clone()).or_default().push(name.clone());
            current.push(("Logical_Switch_Port", RowKey::name(&name), row));
        }
    }
    let refs = |names: &[String]| {
        Datum::set(
            names
                .iter()
                .map(|p| r("Logical_Switch_Port", RowKey::name(p.as_str()))),
        )
    };
    for (sw, ports) in &wanted_ports {
        let row = switch(sw, "lab", &[]).with("ports", refs(ports));
        desired.push(("Logical_Switch", RowKey::name(sw.as_str()), row));
    }
    for (j, (sw, ports)) in live_ports.iter().enumerate() {
        let mut ports = ports.clone();
        if j % 3 == 0 {
            let foreign = format!("x{j:04}");
            current.push((
                "Logical_Switch_Port",
                RowKey::name(foreign.as_str()),
                unowned_port(&foreign),
            ));
            ports.push(foreign);
        }
        let row = switch(sw, "lab", &[]).with("ports", refs(&ports));
        current.push(("Logical_Switch", RowKey::name(sw.as_str()), row));
        if j % 50 == 1 {
            // A switch that left, taking an unowned port along.
            let (gone, foreign) = (format!("y{j:04}"), format!("w{j:04}"));
            let row = switch(&gone, "lab", &[]).with("ports", refs(std::slice::from_ref(&foreign)));
            current.push(("Logical_Switch", RowKey::name(gone.as_str()), row));
            current.push((
                "Logical_Switch_Port",
                RowKey::name(foreign.as_str()),
                unowned_port(&foreign),
            ));
        }
    }
    let mut live = live_keyed(current);
    for i in (0..n).step_by(97) {
        live.duplicates.push(crate::rows::live::Duplicate {
            db: Db::Northbound,
            table: "Logical_Switch_Port".into(),
            key: RowKey::name(port_key(i)),
            uuids: vec![Uuid::from_u128(i as u128), Uuid::from_u128(i as u128 + 1)],
        });
    }
    (state_keyed(desired), live)
}

fn state_keyed(rows: Vec<(&str, RowKey, Row)>) -> State {
    let mut s = State::new();
    for (table, key, row) in rows {
        s.insert(Db::Northbound, table, key, row);
    }
    s
}

#[test]
fn a_plan_on_two_threads_is_the_plan_on_one() {
    for n in [1, 2, 3, 10, 57, 3_000] {
        let (desired, live) = every_fate(n);
        for prune in [true, false] {
            let options = Options { prune };
            let one = plan_split(&desired, &live, "lab", options, usize::MAX);
            let two = plan_split(&desired, &live, "lab", options, 0);
            assert_eq!(one, two, "{n} ports, prune {prune}");
            assert_eq!(
                serde_json::to_string(&one).unwrap(),
                serde_json::to_string(&two).unwrap()
            );
            if n == 3_000 {
                // Pieces of about as many rows.
                let pieces = cut(&spans(&desired, &live), PIECES);
                let walk = Walk {
                    live: &live,
                    stack: "lab",
                    options,
                    stack_key: &Value::from(ownership::STACK_KEY),
                };
                let sizes: Vec<usize> = pieces.iter().map(|p| walk.spans(p).read.len()).collect();
                assert_eq!(sizes.len(), PIECES);
                let mean = sizes.iter().sum::<usize>() / PIECES;
                assert!(
                    sizes.iter().all(|s| s.abs_diff(mean) < mean / 2),
                    "{sizes:?}"
                );
                let count = |a: Action| one.changes.iter().filter(|c| c.action == a).count();
                assert_eq!(count(Action::Create), 600);
                assert!(count(Action::Update) > 600, "ports and switches");
                assert_eq!(count(Action::Delete), if prune { 600 + 6 } else { 0 });
                assert_eq!(one.kept.len(), if prune { 0 } else { 600 + 6 });
                assert_eq!(one.conflicts.len(), 600 + 31);
                assert_eq!(one.foreign_kept.len(), 100);
                assert_eq!(one.foreign_at_risk.len(), if prune { 6 } else { 0 });
                assert_eq!(one.read.rows.len(), 3_000 + 300 + 6);
            }
        }
    }
}

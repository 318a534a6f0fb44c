use super::adopt::adopt_operations;
use super::*;
use crate::rows::RowRef;
use crate::rows::live::LiveRow;
use uuid::Uuid;

fn s(v: &str) -> Cell {
    Datum::scalar(Value::from(v))
}

fn schema() -> DatabaseSchema {
    DatabaseSchema::from_json(&serde_json::json!({
        "name": "OVN_Northbound", "version": "7.0.0", "tables": {}
    }))
    .expect("schema")
}

fn live_of(rows: Vec<(&str, RowKey, Row)>) -> Live {
    let mut live = Live::default();
    for (i, (table, key, row)) in rows.into_iter().enumerate() {
        live.state.insert(Db::Northbound, table, key.clone(), row);
        live.rows.insert(
            (Db::Northbound, table.to_owned(), key),
            LiveRow {
                uuid: Uuid::from_u128(i as u128 + 1),
                version: Some(Uuid::from_u128(1000 + i as u128)),
                digest: 0,
            },
        );
    }
    live
}

fn reference(table: &str, key: RowKey) -> Value {
    Value::Ref(Box::new(RowRef {
        table: table.to_owned(),
        key,
    }))
}

/// The seed's L3 gateway, as ovn-nbctl leaves it (router LSPs with the LRP's MAC).
fn seed() -> Live {
    let empty = || Datum::map(Vec::<(Value, Value)>::new());
    live_of(vec![
        (
            "Logical_Switch",
            RowKey::name("lsjoin"),
            Row::new()
                .with("name", s("lsjoin"))
                .with(
                    "ports",
                    Datum::set([reference("Logical_Switch_Port", RowKey::name("lsjoin-lr2"))]),
                )
                .with("acls", Datum::empty())
                .with("qos_rules", Datum::empty())
                .with("load_balancer", Datum::empty())
                .with("load_balancer_group", Datum::empty())
                .with("dns_records", Datum::empty()),
        ),
        (
            "Logical_Switch_Port",
            RowKey::name("lsjoin-lr2"),
            Row::new()
                .with("name", s("lsjoin-lr2"))
                .with("type", s("router"))
                .with("addresses", Datum::set([Value::from("00:00:00:00:00:06")]))
                .with("port_security", Datum::empty())
                .with(
                    "options",
                    Datum::map([(Value::from("router-port"), Value::from("lr2-lsjoin"))]),
                )
                .with("external_ids", empty()),
        ),
        (
            "Logical_Router",
            RowKey::name("lr2"),
            Row::new()
                .with("name", s("lr2"))
                .with(
                    "ports",
                    Datum::set([reference("Logical_Router_Port", RowKey::name("lr2-lsjoin"))]),
                )
                .with(
                    "options",
                    Datum::map([(Value::from("chassis"), Value::from("master"))]),
                )
                .with("static_routes", Datum::empty())
                .with("policies", Datum::empty())
                .with("nat", Datum::empty())
                .with("load_balancer", Datum::empty())
                .with("load_balancer_group", Datum::empty())
                .with("external_ids", empty()),
        ),
        (
            "Logical_Router_Port",
            RowKey::name("lr2-lsjoin"),
            Row::new()
                .with("name", s("lr2-lsjoin"))
                .with("mac", s("00:00:00:00:00:06"))
                .with("networks", Datum::set([Value::from("10.10.30.2/24")]))
                .with("external_ids", empty()),
        ),
    ])
}

#[test]
fn an_ovn_nbctl_gateway_router_imports_with_its_macs_and_plans_empty() {
    let live = seed();
    let chassis = [SbChassis {
        name: "master".into(),
        encaps: vec![crate::live::southbound::Encap {
            kind: "geneve".into(),
            ip: "127.0.0.1".into(),
        }],
        ..SbChassis::default()
    }];
    let schema = schema();
    let out = import(&Input {
        stack: "seed",
        live: &live,
        schema: &schema,
        chassis: Some(&chassis),
        vtep_bindings: &BTreeMap::new(),
        other_tables: &[("ACL".into(), 2)],
    });
    assert!(out.yaml.contains("chassis: master"), "{}", out.yaml);
    assert!(
        out.yaml.contains(
            "- { switch: lsjoin, mac: \"00:00:00:00:00:06\", ip: 10.10.30.2/24, switch-port-addresses: [\"00:00:00:00:00:06\"] }"
        ),
        "{}",
        out.yaml
    );
    assert!(out.notes.iter().any(|n| n.contains("table ACL: 2 row(s)")));
    let (desired, notes) = self_check(&out.yaml, &live, "seed");
    assert!(notes.is_empty(), "{notes:?}\n{}", out.yaml);
    let desired = desired.expect("valid");
    let (rows, _) = to_adopt(&desired, &live, "seed");
    assert_eq!(rows.len(), 4);
    let ops = adopt_operations(&rows, &live, "seed", Some("topo_seed"));
    // 4 guards, the assert, 4 mutates, the comment.
    assert_eq!(ops.len(), 10);
    assert!(matches!(ops[0], Operation::Wait { .. }));
    assert!(matches!(ops[4], Operation::Assert { .. }));
    assert!(matches!(ops[5], Operation::Mutate { .. }));
}

#[test]
fn what_the_language_cannot_say_is_noted() {
    let mut live = seed();
    if let Some(r) = live.state.get_mut(
        &Db::Northbound,
        "Logical_Switch_Port",
        &RowKey::name("lsjoin-lr2"),
    ) {
        r.set(
            "options",
            Datum::map([
                (Value::from("router-port"), Value::from("lr2-lsjoin")),
                (Value::from("mcast_flood"), Value::from("true")),
            ]),
        );
    }
    let schema = schema();
    let out = import(&Input {
        stack: "seed",
        live: &live,
        schema: &schema,
        chassis: None,
        vtep_bindings: &BTreeMap::new(),
        other_tables: &[],
    });
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("mcast_flood=true") && n.contains("lsjoin-lr2")),
        "{:?}",
        out.notes
    );
    assert!(out.notes.iter().any(|n| n.contains("placeholder")));
    // The self-check names the option the plan would remove.
    let (_, notes) = self_check(&out.yaml, &live, "seed");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("update Logical_Switch_Port lsjoin-lr2")),
        "{notes:?}"
    );
}

#[test]
fn every_error_carries_one_of_the_listed_codes() {
    use miette::Diagnostic;
    let ovsdb = || crate::ovsdb::Error::TlsConfig {
        message: "test".into(),
    };
    let errors = [
        Error::Schema(ovsdb()),
        Error::Read(crate::live::Error::Ovsdb(ovsdb())),
        Error::Count(ovsdb()),
        Error::Write {
            path: "x.yaml".into(),
            source: std::io::Error::other("test"),
        },
        Error::Invalid,
        Error::Locked {
            stack: "s".into(),
            lock: "topo_s".into(),
        },
        Error::Moved,
        Error::Lock {
            lock: "topo_s".into(),
            source: ovsdb(),
        },
        Error::Adopt { source: ovsdb() },
    ];
    let used: BTreeSet<String> = errors
        .iter()
        .map(|e| e.code().map(|c| c.to_string()).unwrap_or_default())
        .collect();
    let listed: BTreeSet<String> = Error::CODES.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(used, listed);
}

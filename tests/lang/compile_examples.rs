//! Every example topology is valid, has lab checks, and compiles to the rows snapshotted here
//! (`topo compile` output). Review a changed snapshot as you would review the OVN rows.

use topo::compiler;
use topo::compiler::output::to_json;
use topo::rows::{Db, RowKey, Value};

use super::{diagnose, load, root};

#[test]
fn examples_compile_to_their_rows() {
    insta::glob!("../../examples/topologies", "*.yaml", |path| {
        let loaded = load(path);
        let diags = diagnose(&loaded);
        // The seed's own DGP scenarios keep their one warning: node1, the active gateway,
        // has no mappings in the file (plan checks them in the Southbound).
        let seed = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("dgp-seed-"));
        let expected = if seed {
            vec!["topo::chassis::gateway-unverified"]
        } else {
            vec![]
        };
        let codes: Vec<&str> = diags.items.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, expected, "{}: {diags:?}", path.display());
        assert!(!diags.has_errors());
        let state = compiler::compile(&loaded.topology).0.unwrap();
        insta::assert_yaml_snapshot!(to_json(&state));
    });
}

#[test]
fn examples_have_two_chassis_and_checks() {
    let dir = root().join("examples/topologies");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let loaded = load(&path);
        let (model, _) = compiler::check(&loaded.topology);
        let model = model.unwrap();
        assert!(model.chassis.len() >= 2, "{}", path.display());
        assert!(!model.checks.is_empty(), "{}", path.display());
        n += 1;
    }
    assert_eq!(
        n, 14,
        "one example per seed scenario (the DGP ones also as the seed writes them), and \
         security groups, load balancers, DHCP, the VTEP gateway, dual stack"
    );
}

/// Spot checks a network engineer would make on `ovn-nbctl show` of the seed's gateway.
#[test]
fn the_gateway_example_matches_the_tutorial() {
    let loaded = load(&root().join("examples/topologies/gateway-router.yaml"));
    let state = compiler::compile(&loaded.topology).0.unwrap();
    let nb = Db::Northbound;
    let lsp = state
        .get(&nb, "Logical_Switch_Port", &RowKey::name("lsjoin-lr2"))
        .unwrap();
    let text = |c: &str| lsp.get(c).unwrap().to_string();
    assert_eq!(text("type"), "router");
    assert_eq!(text("addresses"), "router");
    assert!(
        text("options").contains("router-port=lr2-lsjoin"),
        "{}",
        text("options")
    );
    let lrp = state
        .get(&nb, "Logical_Router_Port", &RowKey::name("lr2-lslocal"))
        .unwrap();
    assert_eq!(lrp.get("mac").unwrap().to_string(), "00:00:00:00:00:07");
    assert_eq!(lrp.get("networks").unwrap().to_string(), "10.10.40.1/24");
    let lr2 = state
        .get(&nb, "Logical_Router", &RowKey::name("lr2"))
        .unwrap();
    assert!(
        lr2.get("options")
            .unwrap()
            .to_string()
            .contains("chassis=master")
    );
    let nat = state.get(
        &nb,
        "NAT",
        &topo::rows::identity::nat_key("lr2", "snat", "10.10.40.1", "10.10.10.0/24"),
    );
    assert!(nat.is_some());
    // The chassis section: what apply writes into master's own database.
    let master = &state.chassis["master"];
    let rows = master.wanted.rows(&master.stack);
    let (_, _, ovs) = rows
        .iter()
        .find(|(table, key, _)| *table == "Open_vSwitch" && *key == RowKey::name("."))
        .unwrap();
    let ids = ovs.get("external_ids").unwrap().to_string();
    assert!(
        ids.contains("ovn-bridge-mappings=externalnet:br-ens8"),
        "{ids}"
    );
    assert!(
        ids.contains("topo:tutorial:bridge-mappings=externalnet"),
        "{ids}"
    );
    assert!(ids.contains("ovn-encap-ip=172.17.42.160"), "{ids}");
    // apply writes neither the chassis's identity nor an owner mark there.
    assert!(
        !ids.contains("system-id") && !ids.contains("topo:stack"),
        "{ids}"
    );
    // Every Northbound row carries the owner mark.
    for (_, table, key, row) in state.rows() {
        let ids = row.get("external_ids").unwrap().as_map().unwrap();
        assert_eq!(
            ids.get(&Value::from("topo:stack")),
            Some(&Value::from("tutorial")),
            "{table} {key}"
        );
    }
}

#[test]
fn gateway_chassis_rows_are_named_after_port_and_chassis() {
    let loaded = load(&root().join("examples/topologies/dgp-gateway-chassis.yaml"));
    let state = compiler::compile(&loaded.topology).0.unwrap();
    for (gc, prio) in [("lr1-ext-gw1", "20"), ("lr1-ext-gw2", "10")] {
        let row = state
            .get(&Db::Northbound, "Gateway_Chassis", &RowKey::name(gc))
            .unwrap();
        assert_eq!(row.get("priority").unwrap().to_string(), prio);
    }
}

/// The live reader will key rows it reads with `rows::identity`; the compiler must emit
/// exactly those keys, or every plan would show spurious creates and deletes. For each
/// compiled row, derive the key from its columns (and its parent's key) and compare.
#[test]
fn compiled_keys_are_the_keys_identity_derives_from_columns() {
    use topo::rows::identity;
    let dir = root().join("examples/topologies");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let loaded = load(&path);
        let state = compiler::compile(&loaded.topology).0.unwrap();
        for (db, table, key, row) in state.rows() {
            let parents = identity::parents(table);
            let parent = (!parents.is_empty()).then(|| {
                let holders: Vec<&RowKey> = parents
                    .iter()
                    .flat_map(|(ptable, pcol)| {
                        state.tables[db]
                            .get(*ptable)
                            .into_iter()
                            .flatten()
                            .filter(|(_, prow)| {
                                prow.get(pcol).and_then(|c| c.as_set()).is_some_and(|refs| {
                                    refs.iter().any(|v| {
                                        matches!(v, Value::Ref(r) if r.table == table && &r.key == key)
                                    })
                                })
                            })
                            .map(|(k, _)| k)
                    })
                    .collect();
                assert_eq!(holders.len(), 1, "{table} {key}: exactly one parent");
                holders[0].clone()
            });
            assert_eq!(
                identity::key_of(table, row, parent.as_ref()).as_ref(),
                Some(key),
                "{}: {table} {key}",
                path.display()
            );
        }
    }
}

/// Every reference points at a row of the same state (nothing dangles).
#[test]
fn references_resolve_within_the_state() {
    let dir = root().join("examples/topologies");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let state = compiler::compile(&load(&path).topology).0.unwrap();
        for (db, table, key, row) in state.rows() {
            for (col, cell) in &row.columns {
                let atoms: Vec<&Value> = match cell {
                    topo::ovsdb::Datum::Set(s) => s.iter().collect(),
                    topo::ovsdb::Datum::Map(m) => m.iter().flat_map(|(k, v)| [k, v]).collect(),
                };
                for v in atoms {
                    if let Value::Ref(r) = v {
                        assert!(
                            state.get(db, &r.table, &r.key).is_some(),
                            "{}: {table} {key} {col} -> {} {}",
                            path.display(),
                            r.table,
                            r.key
                        );
                    }
                }
            }
        }
    }
}

/// Two distributed gateway ports: each NAT rule names its port, and the row references it.
#[test]
fn nat_on_one_of_several_gateway_ports_references_that_port() {
    let text = r#"
name: lab
chassis:
  gw1: { encap: { type: geneve, ip: 172.17.42.10 }, bridge-mappings: { a: br-a, b: br-b } }
  hv1: { encap: { type: geneve, ip: 172.17.42.20 } }
switches:
  ls1: { subnet: 10.0.0.0/24 }
  exta: { subnet: 192.0.2.0/24, ports: { exta-ln: { type: localnet, network: a } } }
  extb: { subnet: 198.51.100.0/24, ports: { extb-ln: { type: localnet, network: b } } }
routers:
  lr1:
    ports:
      - { switch: ls1, ip: 10.0.0.1/24 }
      - { switch: exta, ip: 192.0.2.1/24, gateway: { chassis: { gw1: 1 } } }
      - { switch: extb, ip: 198.51.100.1/24, gateway: { chassis: { gw1: 1 } } }
    nat:
      - { type: snat, logical-ip: 10.0.0.0/24, external-ip: 198.51.100.1, gateway-port: lr1-extb }
"#;
    let loaded = topo::spec::load_str("two-dgp.yaml", text);
    let (state, diags) = compiler::compile(&loaded.topology);
    assert!(diags.is_empty(), "{diags:?}");
    let state = state.unwrap();
    let nat = state
        .get(
            &Db::Northbound,
            "NAT",
            &topo::rows::identity::nat_key("lr1", "snat", "198.51.100.1", "10.0.0.0/24"),
        )
        .unwrap();
    assert_eq!(
        nat.get("gateway_port").unwrap().to_string(),
        "Logical_Router_Port:lr1-extb"
    );

    // The same rule with the external IP of the other gateway port is refused.
    let wrong = text.replace("external-ip: 198.51.100.1", "external-ip: 192.0.2.1");
    let (_, diags) = compiler::compile(&topo::spec::load_str("two-dgp.yaml", &wrong).topology);
    let codes: Vec<&str> = diags.items.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["topo::nat::external-ip-off-network"]);
}

/// `ipv6-prefix` as ovn-nb(5) writes it (an address, OVN's /64) is accepted and written as
/// given, so a plan against a switch set up by hand is empty; with a length it stays so.
#[test]
fn ipv6_prefix_without_a_length_is_written_as_given() {
    for (written, expected) in [("fd00:9::", "fd00:9::"), ("fd00:9::/64", "fd00:9::/64")] {
        let text = format!("name: s\nswitches:\n  ls1:\n    ipv6-prefix: \"{written}\"\n");
        let loaded = topo::spec::load_str("v6.yaml", &text);
        let (state, diags) = compiler::compile(&loaded.topology);
        assert!(diags.is_empty(), "{written}: {diags:?}");
        let state = state.unwrap();
        let ls = state
            .get(
                &Db::Northbound,
                "Logical_Switch",
                &topo::rows::RowKey::name("ls1"),
            )
            .unwrap();
        let other = ls.get("other_config").unwrap().to_string();
        assert_eq!(other, format!("{{ipv6_prefix={expected}}}"));
    }
    // Host bits are still refused.
    let text = "name: s\nswitches:\n  ls1:\n    ipv6-prefix: \"fd00:9::1\"\n";
    let (_, diags) = compiler::compile(&topo::spec::load_str("v6.yaml", text).topology);
    let codes: Vec<&str> = diags.items.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["topo::addr::bad-cidr"]);
}

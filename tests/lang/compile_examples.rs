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
        assert!(diags.is_empty(), "{}: {diags:?}", path.display());
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
    assert_eq!(n, 7, "one example per seed scenario");
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
    let ovs = state
        .get(
            &Db::Chassis("master".into()),
            "Open_vSwitch",
            &RowKey::name("."),
        )
        .unwrap();
    let ids = ovs.get("external_ids").unwrap().to_string();
    assert!(
        ids.contains("ovn-bridge-mappings=externalnet:br-ens8"),
        "{ids}"
    );
    assert!(ids.contains("ovn-encap-ip=172.17.42.160"), "{ids}");
    // Every row carries the owner mark.
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

//! The seed's two distributed gateway port scenarios (issue 12), against NB + SB + northd
//! with the chassis registered in the Southbound by `ovn-sbctl chassis-add`: only `master`
//! maps `externalnet`, node1 (priority 2, the active one) does not. validate warns; plan
//! names node1, lr1-lslocal and externalnet; apply writes the rows the seed's `ovn-nbctl`
//! commands write (compared with a second NB where those commands ran); plan after apply
//! exits 0. Without the acknowledgement (`unmapped-ok`) plan exits 1 and apply refuses,
//! writing nothing; a backup without the network only warns; an unregistered chassis cannot
//! be confirmed (a warning).

use std::path::Path;

use super::{example, owned_rows, plan, stderr, topo, write};
use crate::require_ovn;
use crate::support::ovn::OvnSandbox;
use crate::support::topo_cmd::TopoCmd;

/// The seed's two chassis as ovn-controller would register them: master publishes
/// `externalnet:br-ens8`, node1 only a network of its own.
fn register_seed_chassis(ovn: &OvnSandbox) {
    ovn.sbctl(&["chassis-add", "master", "geneve", "172.17.42.160"]);
    ovn.sbctl(&["chassis-add", "node1", "geneve", "172.17.42.161"]);
    ovn.sbctl(&[
        "set",
        "Chassis",
        "master",
        "other_config:ovn-bridge-mappings=externalnet:br-ens8",
    ]);
    ovn.sbctl(&[
        "set",
        "Chassis",
        "node1",
        "other_config:ovn-bridge-mappings=physnet:br-phys",
    ]);
}

/// The finding's line in a plan's output, naming the chassis, the port and the network.
fn finding<'a>(out: &'a str, severity: &str) -> &'a str {
    out.lines()
        .find(|l| l.trim_start().starts_with(&format!("! {severity}")))
        .unwrap_or_else(|| panic!("no {severity} finding in:\n{out}"))
}

fn assert_names_node1(line: &str) {
    for word in ["node1", "lr1-lslocal", "externalnet", "priority 2"] {
        assert!(line.contains(word), "{word} missing from: {line}");
    }
}

/// validate: exit 0, one `topo::chassis::gateway-unverified` warning about node1.
fn assert_validate_warns(file: &Path) {
    let out = TopoCmd::new(vec![
        "validate".to_owned(),
        file.to_str().unwrap().to_owned(),
    ])
    .run()
    .success();
    let text = out.stderr() + &out.stdout();
    assert!(text.contains("topo::chassis::gateway-unverified"), "{text}");
    assert!(text.contains("valid: 1 warning(s)"), "{text}");
    assert!(text.contains("`node1` must map `externalnet`"), "{text}");
}

/// The seed's scenario through topo: validate, plan (exit 2, the warning), apply (the warning
/// on stderr), plan again (exit 0, "No changes.", the warning still shown), drift in sync.
fn seed_through_topo(ovn: &OvnSandbox, file: &Path) {
    assert_validate_warns(file);
    let first = plan(ovn, file, 2).stdout();
    assert_names_node1(finding(&first, "warning"));
    let out = topo(ovn, &["apply", "--yes", file.to_str().unwrap()]).success();
    assert!(
        stderr(&out).contains("warning: chassis node1"),
        "{}",
        out.stderr()
    );
    let again = plan(ovn, file, 0).stdout();
    assert!(again.contains("No changes."), "{again}");
    assert_names_node1(finding(&again, "warning"));
    let drift = topo(ovn, &["drift", file.to_str().unwrap()]).expect_code(0);
    assert!(drift.stdout().contains("In sync"), "{}", drift.stdout());
}

/// A column of a table, one sorted line per row (`ovn-nbctl --format=csv`).
fn rows(nbctl: impl Fn(&[&str]) -> String, columns: &str, table: &str) -> Vec<String> {
    let out = nbctl(&[
        "--format=csv",
        "--no-headings",
        "--data=bare",
        &format!("--columns={columns}"),
        "list",
        table,
    ]);
    let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// The seed's router and its gateway port, with `ovn-nbctl` as the seed makes them.
fn seed_router(seed: &OvnSandbox) {
    seed.nbctl(&["ls-add", "lslocal"]);
    seed.nbctl(&["lr-add", "lr1"]);
    seed.nbctl(&[
        "lrp-add",
        "lr1",
        "lr1-lslocal",
        "00:00:00:00:00:07",
        "10.10.40.1/24",
    ]);
}

/// The `_uuid` of HA chassis group `ha1`.
fn ha1_uuid(nb: &OvnSandbox) -> String {
    let uuid = nb.nbctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "HA_Chassis_Group",
        "name=ha1",
    ]);
    uuid.trim().to_owned()
}

/// The seed's gateway-chassis form, `lrp-set-gateway-chassis lr1-lslocal master 1` / `node1 2`.
#[test]
fn seed_gateway_chassis_applies_as_ovn_nbctl_writes_it_and_names_node1() {
    require_ovn!();
    let ovn = OvnSandbox::start();
    register_seed_chassis(&ovn);
    let file = example("dgp-seed-gateway-chassis.yaml");
    seed_through_topo(&ovn, &file);

    // The seed's own commands on a second Northbound.
    let seed = OvnSandbox::builder().sb(false).northd(false).start();
    seed_router(&seed);
    seed.nbctl(&["lrp-set-gateway-chassis", "lr1-lslocal", "master", "1"]);
    seed.nbctl(&["lrp-set-gateway-chassis", "lr1-lslocal", "node1", "2"]);

    let columns = "name,chassis_name,priority";
    let ours = rows(|a| ovn.nbctl(a), columns, "Gateway_Chassis");
    assert_eq!(
        ours,
        ["lr1-lslocal-master,master,1", "lr1-lslocal-node1,node1,2"]
    );
    assert_eq!(ours, rows(|a| seed.nbctl(a), columns, "Gateway_Chassis"));
    assert_eq!(
        ovn.nbctl(&["lrp-get-gateway-chassis", "lr1-lslocal"]),
        seed.nbctl(&["lrp-get-gateway-chassis", "lr1-lslocal"])
    );
}

/// The seed's HA-group form: `ha-chassis-group-add ha1`, `-add-chassis ha1 master 1` /
/// `node1 2`, and the port's `ha_chassis_group`.
#[test]
fn seed_ha_group_applies_as_ovn_nbctl_writes_it_and_names_node1() {
    require_ovn!();
    let ovn = OvnSandbox::start();
    register_seed_chassis(&ovn);
    let file = example("dgp-seed-ha-group.yaml");
    seed_through_topo(&ovn, &file);

    let seed = OvnSandbox::builder().sb(false).northd(false).start();
    seed.nbctl(&["ha-chassis-group-add", "ha1"]);
    seed.nbctl(&["ha-chassis-group-add-chassis", "ha1", "master", "1"]);
    seed.nbctl(&["ha-chassis-group-add-chassis", "ha1", "node1", "2"]);
    seed_router(&seed);
    seed.nbctl(&[
        "set",
        "Logical_Router_Port",
        "lr1-lslocal",
        &format!("ha_chassis_group={}", ha1_uuid(&seed)),
    ]);

    for (columns, table) in [
        ("chassis_name,priority", "HA_Chassis"),
        ("name", "HA_Chassis_Group"),
    ] {
        let ours = rows(|a| ovn.nbctl(a), columns, table);
        assert_eq!(ours, rows(|a| seed.nbctl(a), columns, table), "{table}");
    }
    assert_eq!(
        rows(|a| ovn.nbctl(a), "chassis_name,priority", "HA_Chassis"),
        ["master,1", "node1,2"]
    );
    // The port points at ha1 in both, and neither has Gateway_Chassis rows.
    for nb in [&ovn, &seed] {
        let port = nb.nbctl(&[
            "--bare",
            "--columns=ha_chassis_group",
            "list",
            "Logical_Router_Port",
            "lr1-lslocal",
        ]);
        assert_eq!(port.trim(), ha1_uuid(nb));
        assert!(nb.nbctl(&["list", "Gateway_Chassis"]).trim().is_empty());
    }
}

/// Without `unmapped-ok`, the active chassis without the network blocks: plan exits 1 with an
/// error naming node1, lr1-lslocal and externalnet; apply refuses and writes nothing. Once
/// node1 maps it in the Southbound, plan has no finding and apply goes through.
#[test]
fn the_active_chassis_without_the_network_blocks_apply_unless_acknowledged() {
    require_ovn!();
    let ovn = OvnSandbox::start();
    register_seed_chassis(&ovn);
    let text = std::fs::read_to_string(example("dgp-seed-gateway-chassis.yaml")).unwrap();
    let ack = "    unmapped-ok: [externalnet]\n";
    assert_eq!(text.matches(ack).count(), 1);
    let dir = tempfile::TempDir::new().unwrap();
    let file = write(dir.path(), "noack.yaml", &text.replace(ack, ""));
    assert_validate_warns(&file);

    let out = plan(&ovn, &file, 1).stdout();
    assert_names_node1(finding(&out, "error (blocks apply)"));
    assert!(
        out.contains("1 gateway chassis finding(s) block apply."),
        "{out}"
    );

    let before = ovn.nb_dump();
    let out = topo(&ovn, &["apply", "--yes", file.to_str().unwrap()]).expect_code(1);
    let err = stderr(&out);
    assert!(err.contains("topo::apply::gateway-unmapped"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(err.contains("unmapped-ok: [externalnet]"), "{err}");
    assert_names_node1(&err);
    assert_eq!(owned_rows(&ovn, "dgp-seed-gc"), 0);
    assert_eq!(before, ovn.nb_dump(), "apply wrote to the Northbound");
    // A saved plan carries its finding, and applying it is refused the same way.
    let saved = dir.path().join("plan.json");
    topo(
        &ovn,
        &[
            "plan",
            file.to_str().unwrap(),
            "-o",
            saved.to_str().unwrap(),
        ],
    )
    .expect_code(1);
    let out = topo(&ovn, &["apply", "--yes", saved.to_str().unwrap()]).expect_code(1);
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        before,
        ovn.nb_dump(),
        "the saved plan wrote to the Northbound"
    );

    // node1 maps externalnet now (as the seed would with ovs-vsctl on node1).
    ovn.sbctl(&[
        "set",
        "Chassis",
        "node1",
        "other_config:ovn-bridge-mappings=physnet:br-phys,externalnet:br-ex",
    ]);
    let out = plan(&ovn, &file, 2).stdout();
    assert!(!out.contains("Gateways ("), "{out}");
    topo(&ovn, &["apply", "--yes", file.to_str().unwrap()]).success();
}

/// node1 as `managed: false` (a chassis this stack does not configure): while it is not
/// registered, plan cannot confirm it (a warning, apply goes on); registered without the
/// network as the active one, plan exits 1; as a backup (priorities swapped) it only warns.
#[test]
fn an_unmanaged_chassis_is_checked_in_the_southbound() {
    require_ovn!();
    let ovn = OvnSandbox::start();
    let text = std::fs::read_to_string(example("dgp-seed-gateway-chassis.yaml")).unwrap();
    let node1 = "  node1:\n    encap: { type: geneve, ip: 172.17.42.161 }\n";
    assert_eq!(text.matches(node1).count(), 1);
    let ack = "    unmapped-ok: [externalnet]\n";
    let text = text
        .replace(ack, "")
        .replace(node1, "  node1: { managed: false }\n");
    let dir = tempfile::TempDir::new().unwrap();
    let file = write(dir.path(), "unmanaged.yaml", &text);
    assert_validate_warns(&file);

    let out = plan(&ovn, &file, 2).stdout();
    let line = finding(&out, "warning");
    assert!(
        line.contains("not registered in the Southbound: cannot confirm"),
        "{line}"
    );
    assert_names_node1(line);
    topo(&ovn, &["apply", "--yes", file.to_str().unwrap()]).success();
    // topo configured master only: node1 is no chassis of the plan's chassis section.
    assert!(!plan(&ovn, &file, 0).stdout().contains("chassis node1:"));

    register_seed_chassis(&ovn);
    assert_names_node1(finding(&plan(&ovn, &file, 1).stdout(), "error"));

    let swapped = text.replace("{ master: 1, node1: 2 }", "{ master: 2, node1: 1 }");
    assert_ne!(swapped, text);
    let file = write(dir.path(), "backup.yaml", &swapped);
    let out = plan(&ovn, &file, 2).stdout();
    let line = finding(&out, "warning");
    assert!(
        line.contains("node1") && line.contains("a backup"),
        "{line}"
    );
    topo(&ovn, &["apply", "--yes", file.to_str().unwrap()]).success();
    plan(&ovn, &file, 0);
}

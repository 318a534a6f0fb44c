//! Every example topology against NB + SB + ovn-northd: `topo plan` shows creates (exit 2),
//! `topo apply --yes --wait sb` succeeds, `topo plan` is then empty (exit 0), and the rows are
//! what the YAML says, as `ovn-nbctl` shows them; northd made a Port_Binding for every port
//! (with `--wait sb`, already when apply returns: no polling here).

use std::collections::BTreeSet;

use super::{apply, assert_converged, assert_lines, example, plan, topo};
use crate::require_ovn;
use crate::support::ovn::OvnSandbox;

/// Plans, applies with `--wait sb`, re-plans; returns the sandbox for the checks.
fn applied(name: &str) -> OvnSandbox {
    let ovn = OvnSandbox::start();
    let file = example(name);
    let first = plan(&ovn, &file, 2).stdout();
    assert!(
        first.contains("to create, 0 to update, 0 to delete."),
        "{name}: the first plan only creates:\n{first}"
    );
    assert!(
        !first.contains("\n~ ") && !first.contains("\n- "),
        "{first}"
    );
    let out = topo(
        &ovn,
        &["apply", "--yes", "--wait", "sb", file.to_str().unwrap()],
    )
    .success();
    assert!(
        out.stdout().contains("Apply complete:"),
        "{name}: {}",
        out.stdout()
    );
    assert_converged(&ovn, &file);
    ovn
}

/// `logical_port` → `type` of every SB Port_Binding.
fn port_bindings(ovn: &OvnSandbox) -> std::collections::BTreeMap<String, String> {
    let out = ovn.sbctl(&[
        "--format=csv",
        "--no-headings",
        "--columns=logical_port,type",
        "list",
        "Port_Binding",
    ]);
    out.lines()
        .map(|l| {
            let (port, ty) = l.split_once(',').unwrap();
            (
                port.trim_matches('"').to_owned(),
                ty.trim_matches('"').to_owned(),
            )
        })
        .collect()
}

fn nb_names(ovn: &OvnSandbox, table: &str) -> BTreeSet<String> {
    ovn.nbctl(&["--bare", "--columns=name", "list", table])
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Every LSP and LRP has a Port_Binding; `cr-<lrp>` for each gateway port in `dgps`; the
/// ports of `gateway_routers` are `l3gateway`. Returns the bindings for more checks.
fn assert_bindings(
    ovn: &OvnSandbox,
    dgps: &[&str],
    gateway_routers: &[&str],
) -> std::collections::BTreeMap<String, String> {
    let pb = port_bindings(ovn);
    let ports: BTreeSet<String> = nb_names(ovn, "Logical_Switch_Port")
        .into_iter()
        .chain(nb_names(ovn, "Logical_Router_Port"))
        .collect();
    assert!(!ports.is_empty());
    for p in &ports {
        assert!(pb.contains_key(p), "no Port_Binding for {p}: {pb:?}");
    }
    for d in dgps {
        assert_eq!(
            pb.get(&format!("cr-{d}")).map(String::as_str),
            Some("chassisredirect"),
            "{pb:?}"
        );
    }
    for r in gateway_routers {
        let lrps = ovn.nbctl(&["--bare", "--columns=ports", "list", "Logical_Router", r]);
        let n = lrps.split_whitespace().count();
        assert!(n > 0);
        for uuid in lrps.split_whitespace() {
            let name = ovn.nbctl(&[
                "--bare",
                "--columns=name",
                "list",
                "Logical_Router_Port",
                uuid,
            ]);
            assert_eq!(
                pb.get(name.trim()).map(String::as_str),
                Some("l3gateway"),
                "{name}"
            );
        }
    }
    // Exactly the NB's ports, plus the chassisredirect ones: northd invented nothing else.
    let expected = ports.len() + dgps.len();
    assert_eq!(pb.len(), expected, "{pb:?}");
    pb
}

#[test]
fn distributed_router() {
    require_ovn!();
    let ovn = applied("distributed-router.yaml");
    assert_lines(
        "ovn-nbctl show",
        &ovn.nbctl(&["show"]),
        &[
            "port ls1-vm1",
            r#"addresses: ["00:00:00:00:00:03 10.10.10.2"]"#,
            r#"addresses: ["00:00:00:00:00:04 10.10.20.3"]"#,
            "type: router",
            "router-port: lr1-ls1",
            "router-port: lr1-ls2",
            "port lr1-ls1",
            r#"mac: "00:00:00:00:00:01""#,
            r#"networks: ["10.10.10.1/24"]"#,
            r#"networks: ["10.10.20.1/24"]"#,
        ],
    );
    assert_eq!(
        ovn.nbctl(&["lsp-get-port-security", "ls2-vm1"]).trim(),
        "00:00:00:00:00:03 10.10.20.2"
    );
    assert_eq!(
        ovn.nbctl(&["get", "Logical_Switch", "ls1", "other_config:subnet"])
            .trim(),
        r#""10.10.10.0/24""#
    );
    let pb = assert_bindings(&ovn, &[], &[]);
    assert_eq!(pb["lr1-ls1"], "patch");
    assert_eq!(pb["ls1-vm1"], "");
}

#[test]
fn gateway_router() {
    require_ovn!();
    let ovn = applied("gateway-router.yaml");
    assert_lines(
        "lr-nat-list lr2",
        &ovn.nbctl(&["lr-nat-list", "lr2"]),
        &[
            "snat                                   10.10.40.1                          10.10.10.0/24",
            "snat                                   10.10.40.1                          10.10.20.0/24",
        ],
    );
    assert_lines(
        "lr-route-list lr2",
        &ovn.nbctl(&["lr-route-list", "lr2"]),
        &[
            "10.10.10.0/24                10.10.30.1 dst-ip",
            "10.10.20.0/24                10.10.30.1 dst-ip",
        ],
    );
    assert_lines(
        "lr-route-list lr1",
        &ovn.nbctl(&["lr-route-list", "lr1"]),
        &["0.0.0.0/0                10.10.30.2 dst-ip"],
    );
    assert_eq!(
        ovn.nbctl(&["get", "Logical_Router", "lr2", "options:chassis"])
            .trim(),
        "master"
    );
    assert_lines(
        "ovn-nbctl show",
        &ovn.nbctl(&["show"]),
        &[
            "port lslocal-localnet",
            "type: localnet",
            r#"addresses: ["unknown"]"#,
            "router-port: lr2-lsjoin",
            "router-port: lr1-lsjoin",
            r#"networks: ["10.10.40.1/24"]"#,
        ],
    );
    assert_eq!(
        ovn.nbctl(&["lsp-get-options", "lslocal-localnet"]).trim(),
        "network_name=externalnet"
    );
    let pb = assert_bindings(&ovn, &[], &["lr2"]);
    // The switch side of a gateway router's port is l3gateway too; lr1's stay patch.
    assert_eq!(pb["lsjoin-lr2"], "l3gateway");
    assert_eq!(pb["lsjoin-lr1"], "patch");
    assert_eq!(pb["lslocal-localnet"], "localnet");
}

#[test]
fn dgp_gateway_chassis() {
    require_ovn!();
    let ovn = applied("dgp-gateway-chassis.yaml");
    assert_eq!(
        ovn.nbctl(&["lrp-get-gateway-chassis", "lr1-ext"]),
        "lr1-ext-gw1    20\nlr1-ext-gw2    10\n"
    );
    assert_lines(
        "lr-route-list lr1",
        &ovn.nbctl(&["lr-route-list", "lr1"]),
        &["0.0.0.0/0               192.0.2.254 dst-ip"],
    );
    assert!(ovn.nbctl(&["ha-chassis-group-list"]).trim().is_empty());
    assert_bindings(&ovn, &["lr1-ext"], &[]);
}

#[test]
fn dgp_ha_group() {
    require_ovn!();
    let ovn = applied("dgp-ha-group.yaml");
    let groups = ovn.nbctl(&["ha-chassis-group-list"]);
    let lines: Vec<&str> = groups
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // <uuid> (gw) / <uuid> (gw1) / priority 20 / <uuid> (gw2) / priority 10
    assert_eq!(lines.len(), 5, "{groups}");
    assert!(lines[0].ends_with("(gw)"), "{groups}");
    let members: Vec<(&str, &str)> = vec![(lines[1], lines[2]), (lines[3], lines[4])];
    let mut members: Vec<String> = members
        .iter()
        .map(|(c, p)| format!("{} {p}", c.rsplit(' ').next().unwrap()))
        .collect();
    members.sort();
    assert_eq!(members, ["(gw1) priority 20", "(gw2) priority 10"]);
    // The port points at that group, and has no Gateway_Chassis.
    let group_uuid = lines[0].split(' ').next().unwrap();
    assert_eq!(
        ovn.nbctl(&[
            "--bare",
            "--columns=ha_chassis_group",
            "list",
            "Logical_Router_Port",
            "lr1-ext"
        ])
        .trim(),
        group_uuid
    );
    assert!(
        ovn.nbctl(&["lrp-get-gateway-chassis", "lr1-ext"])
            .trim()
            .is_empty()
    );
    assert_bindings(&ovn, &["lr1-ext"], &[]);
}

#[test]
fn floating_ip() {
    require_ovn!();
    let ovn = applied("floating-ip.yaml");
    assert_lines(
        "lr-nat-list lr1",
        &ovn.nbctl(&["lr-nat-list", "lr1"]),
        &[
            "dnat_and_snat                          192.0.2.50                          10.0.0.11           00:00:5e:00:02:50    tenant-vm1",
            "snat                                   192.0.2.1                           10.0.0.0/24",
        ],
    );
    assert_eq!(
        ovn.nbctl(&["lsp-get-type", "tenant-metadata"]).trim(),
        "localport"
    );
    assert_eq!(
        ovn.nbctl(&["lsp-get-addresses", "tenant-vm3"]).trim(),
        "dynamic"
    );
    assert_eq!(
        ovn.nbctl(&["lrp-get-gateway-chassis", "lr1-ext"]),
        "lr1-ext-gw1     1\n"
    );
    assert_eq!(
        ovn.nbctl(&[
            "get",
            "Logical_Switch",
            "tenant",
            "other_config:exclude_ips"
        ])
        .trim(),
        r#""10.0.0.1..10.0.0.9""#
    );
    // northd gave the dynamic port an address from the subnet, outside the excluded range;
    // that column is northd's, and the plan stayed empty (checked by `applied`).
    let dynamic = ovn.nbctl(&[
        "get",
        "Logical_Switch_Port",
        "tenant-vm3",
        "dynamic_addresses",
    ]);
    assert!(dynamic.contains("10.0.0."), "{dynamic}");
    let pb = assert_bindings(&ovn, &["lr1-ext"], &[]);
    assert_eq!(pb["tenant-metadata"], "localport");
}

#[test]
fn l2_gateway() {
    require_ovn!();
    let ovn = applied("l2-gateway.yaml");
    assert_eq!(ovn.nbctl(&["lsp-get-type", "ls1-l2gw"]).trim(), "l2gateway");
    assert_eq!(
        ovn.nbctl(&["lsp-get-options", "ls1-l2gw"]),
        "l2gateway-chassis=gw1\nnetwork_name=physnet\n"
    );
    assert_eq!(
        ovn.nbctl(&["lsp-get-addresses", "ls1-l2gw"]).trim(),
        "unknown"
    );
    let pb = assert_bindings(&ovn, &[], &[]);
    assert_eq!(pb["ls1-l2gw"], "l2gateway");
}

#[test]
fn vlan_provider() {
    require_ovn!();
    let ovn = applied("vlan-provider.yaml");
    assert_lines(
        "ovn-nbctl show",
        &ovn.nbctl(&["show"]),
        &[
            "port vlan100-localnet",
            "type: localnet",
            "tag: 100",
            r#"addresses: ["00:00:00:00:30:01 203.0.113.11"]"#,
            r#"addresses: ["00:00:00:00:30:02 203.0.113.12"]"#,
        ],
    );
    assert_eq!(
        ovn.nbctl(&["lsp-get-options", "vlan100-localnet"]).trim(),
        "network_name=datacentre"
    );
    let pb = assert_bindings(&ovn, &[], &[]);
    assert_eq!(pb["vlan100-localnet"], "localnet");
}

/// Applying again changes nothing: "No changes." and exit 0, and no transaction (the NB is
/// byte-identical, the apply marker included).
#[test]
fn apply_again_is_a_no_op() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).start();
    let file = example("gateway-router.yaml");
    apply(&ovn, &file);
    let before = ovn.nb_dump();
    let out = apply(&ovn, &file);
    assert!(out.stdout().contains("No changes."), "{}", out.stdout());
    assert_eq!(before, ovn.nb_dump());
}

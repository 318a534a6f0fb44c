//! Security and services against NB + SB + ovn-northd: the three service examples applied,
//! re-planned empty, and checked as `ovn-nbctl` and `ovn-sbctl` show them (northd turned the
//! ACLs into logical flows, the port groups into address sets, the health checks into service
//! monitors); one edit of each kind plans exactly that change.

use super::{apply, assert_converged, assert_lines, edited, example, plan, topo, write};
use crate::require_ovn;
use crate::support::ovn::OvnSandbox;

fn applied(name: &str) -> OvnSandbox {
    let ovn = OvnSandbox::start();
    let file = example(name);
    topo(
        &ovn,
        &["apply", "--yes", "--wait", "sb", file.to_str().unwrap()],
    )
    .success();
    assert_converged(&ovn, &file);
    ovn
}

#[test]
fn security_groups() {
    require_ovn!();
    let ovn = applied("security-groups.yaml");
    assert_lines(
        "acl-list db",
        &ovn.nbctl(&["acl-list", "db"]),
        &[
            "to-lport  1000 (outport == @db && ip4.src == $app_ip4 && tcp.dst == 5432) allow-related",
        ],
    );
    let tiers = ovn.nbctl(&["acl-list", "tiers"]);
    assert_lines(
        "acl-list tiers",
        &tiers,
        &[
            "from-lport  1000 (inport == @tiers && ip4) allow-related",
            "to-lport  1001 (outport == @tiers && (arp || nd)) allow",
            "to-lport   900 (outport == @tiers && ip) drop log(name=tiers-default-deny,severity=info)",
        ],
    );
    assert_eq!(
        ovn.nbctl(&[
            "--bare",
            "--columns=addresses",
            "find",
            "Address_Set",
            "name=admins"
        ])
        .trim(),
        "10.20.0.0/24 10.30.0.5"
    );
    // northd made the port groups' address sets and the ACLs' flows.
    let sb_sets = ovn.sbctl(&["--bare", "--columns=name,addresses", "list", "Address_Set"]);
    assert!(
        sb_sets.contains("app_ip4") && sb_sets.contains("10.0.10.12"),
        "{sb_sets}"
    );
    let flows = ovn.sbctl(&["lflow-list"]);
    assert!(flows.contains("tcp.dst == 5432"), "no flow for the db ACL");
    // Each port group holds exactly its ports.
    let db_ports = ovn.nbctl(&["--bare", "--columns=ports", "find", "Port_Group", "name=db"]);
    let db1 = ovn.nbctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "Logical_Switch_Port",
        "name=tier-db1",
    ]);
    assert_eq!(db_ports.trim(), db1.trim());
}

#[test]
fn load_balancer() {
    require_ovn!();
    let ovn = applied("load-balancer.yaml");
    assert_lines("lb-list", &ovn.nbctl(&["lb-list"]), &[]);
    let lbs = ovn.nbctl(&["lb-list"]);
    assert!(
        lbs.contains("web-switch") && lbs.contains("10.0.20.100:80"),
        "{lbs}"
    );
    assert!(lbs.contains("10.0.20.11:8080,10.0.20.12:8080"), "{lbs}");
    assert!(ovn.nbctl(&["ls-lb-list", "clients"]).contains("web-switch"));
    assert!(ovn.nbctl(&["lr-lb-list", "edge"]).contains("web-router"));
    assert!(ovn.nbctl(&["ls-lb-list", "web"]).trim().is_empty());
    // northd monitors each health-checked backend through its port.
    let monitors = ovn.sbctl(&[
        "--bare",
        "--columns=logical_port,ip,port",
        "list",
        "Service_Monitor",
    ]);
    for port in ["web1", "web2"] {
        assert!(
            monitors.contains(port),
            "no service monitor for {port}:\n{monitors}"
        );
    }
    assert!(monitors.contains("8080"), "{monitors}");
}

#[test]
fn dhcp() {
    require_ovn!();
    let ovn = applied("dhcp.yaml");
    let v4 = ovn.nbctl(&[
        "--bare",
        "--columns=dhcpv4_options",
        "list",
        "Logical_Switch_Port",
        "vm1",
    ]);
    let options = ovn.nbctl(&["dhcp-options-get-options", v4.trim()]);
    assert_lines(
        "dhcp-options-get-options",
        &options,
        &[
            "router=10.0.40.1",
            "server_id=10.0.40.1",
            "lease_time=3600",
            "dns_server=10.0.40.53",
        ],
    );
    let vm3 = ovn.nbctl(&[
        "--bare",
        "--columns=dhcpv4_options,dhcpv6_options",
        "list",
        "Logical_Switch_Port",
        "vm3",
    ]);
    assert!(vm3.trim().is_empty(), "vm3 says dhcp: false: {vm3:?}");
    let v6 = ovn.nbctl(&[
        "--bare",
        "--columns=dhcpv6_options",
        "list",
        "Logical_Switch_Port",
        "vm2",
    ]);
    assert!(
        ovn.nbctl(&["get", "DHCP_Options", v6.trim(), "cidr"])
            .contains("fd00:40::/64")
    );
    let dns = ovn.nbctl(&["--bare", "--columns=records", "list", "DNS"]);
    assert!(dns.contains("vm1.tenant.example=10.0.40.11"), "{dns}");
    let ra = ovn.nbctl(&[
        "get",
        "Logical_Router_Port",
        "r1-tenant",
        "ipv6_ra_configs:address_mode",
    ]);
    assert_eq!(ra.trim(), "dhcpv6_stateful");
    // northd answers DHCP for the ports: their options reach the Southbound bindings' flows.
    let flows = ovn.sbctl(&["lflow-list"]);
    assert!(flows.contains("put_dhcp_opts"), "no DHCP flows");
}

/// One edit of each kind plans exactly that change and converges.
#[test]
fn service_edits_plan_one_change_each() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let dir = tempfile::tempdir().unwrap();
    let base = write(
        dir.path(),
        "base.yaml",
        &std::fs::read_to_string(example("security-groups.yaml")).unwrap(),
    );
    apply(&ovn, &base);
    assert_converged(&ovn, &base);

    // An ACL's action: updated in place (the key is direction, priority, match).
    let variant = write(
        dir.path(),
        "v1.yaml",
        &edited(
            "security-groups.yaml",
            &[(
                "tcp.dst == 5432\", action: allow-related",
                "tcp.dst == 5432\", action: allow",
            )],
        ),
    );
    let text = plan(&ovn, &variant, 2).stdout();
    assert!(
        text.contains("Plan: 0 to create, 1 to update, 0 to delete."),
        "{text}"
    );
    assert!(text.contains("action: allow-related → allow"), "{text}");
    apply(&ovn, &variant);
    assert_converged(&ovn, &variant);

    // An ACL's match: a new ACL replaces the old one in its port group.
    let variant = write(
        dir.path(),
        "v2.yaml",
        &edited(
            "security-groups.yaml",
            &[("tcp.dst == 5432", "tcp.dst == {5432, 6432}")],
        ),
    );
    let text = plan(&ovn, &variant, 2).stdout();
    assert!(
        text.contains("Plan: 1 to create, 1 to update, 1 to delete."),
        "{text}"
    );
    apply(&ovn, &variant);
    assert_converged(&ovn, &variant);
    assert!(ovn.nbctl(&["acl-list", "db"]).contains("{5432, 6432}"));
    assert_eq!(
        ovn.nbctl(&["--bare", "--columns=_uuid", "list", "ACL"])
            .split_whitespace()
            .count(),
        7
    );

    // An address set's member (from the base again).
    apply(&ovn, &base);
    let variant = write(
        dir.path(),
        "v3.yaml",
        &edited("security-groups.yaml", &[("10.30.0.5]", "10.30.0.6]")]),
    );
    let text = plan(&ovn, &variant, 2).stdout();
    assert!(
        text.contains("Plan: 0 to create, 1 to update, 0 to delete."),
        "{text}"
    );
    assert_lines(
        "plan",
        &text,
        &["addresses: + 10.30.0.6", "addresses: - 10.30.0.5"],
    );
    apply(&ovn, &variant);
    assert_converged(&ovn, &variant);

    // Everything of the stack gone: no ACL, port group or address set is left behind.
    let empty = write(dir.path(), "empty.yaml", "name: three-tier\n");
    apply(&ovn, &empty);
    for table in ["ACL", "Port_Group", "Address_Set", "Logical_Switch_Port"] {
        assert_eq!(
            ovn.nbctl(&["--bare", "--columns=_uuid", "list", table])
                .trim(),
            "",
            "{table} left behind"
        );
    }
}

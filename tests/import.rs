//! Parity with ovn-nbctl: each seed scenario built by hand with the seed's ovn-nbctl commands,
//! then `topo import --adopt` (the file validates and plans empty) and a hand-written topology
//! of the same scenario (plans empty once its rows are adopted).

use std::path::{Path, PathBuf};

use crate::require_ovn;
use crate::support::ovn::OvnSandbox;
use crate::support::topo_cmd::TopoCmd;

/// Splits one command line like a shell: words, "double quoted" words, 'single quoted' words
/// (in which `"` is a character, as ovsdb string syntax needs it: `'vip="10.0.0.1:80"'`).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut single = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                single = !single;
                any = true;
            }
            c if single => cur.push(c),
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Runs every `ovn-nbctl ...` line of `script` against the sandbox (comments and blank lines
/// skipped). `{ha1}` is replaced by the UUID of HA_Chassis_Group ha1 when it exists, `{dhcp}`
/// by the UUID of the (only) DHCP_Options row.
fn nbctl_script(ovn: &OvnSandbox, script: &str) {
    for line in script.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut line = line.to_owned();
        if line.contains("{ha1}") {
            let uuid = ovn.nbctl(&[
                "--bare",
                "--columns=_uuid",
                "find",
                "HA_Chassis_Group",
                "name=ha1",
            ]);
            line = line.replace("{ha1}", uuid.trim());
        }
        if line.contains("{dhcp}") {
            let uuid = ovn.nbctl(&["dhcp-options-list"]);
            line = line.replace("{dhcp}", uuid.trim());
        }
        let w = words(&line);
        assert_eq!(w.first().map(String::as_str), Some("ovn-nbctl"), "{line}");
        let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
        ovn.nbctl(&args);
    }
}

/// The seed's chassis, registered as ovn-controller would (data only).
fn chassis(ovn: &OvnSandbox) {
    for (name, ip) in [("master", "127.0.0.11"), ("node1", "127.0.0.12")] {
        ovn.sbctl(&["chassis-add", name, "geneve", ip]);
    }
    // Both may be gateways towards `externalnet`, so both map it (topo checks that).
    for name in ["master", "node1"] {
        ovn.sbctl(&[
            "set",
            "Chassis",
            name,
            "other_config:ovn-bridge-mappings=externalnet:br-ens8",
        ]);
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn db_args(ovn: &OvnSandbox) -> Vec<String> {
    vec![
        "--db".into(),
        ovn.nb_remote(),
        "--sb-db".into(),
        ovn.sb_remote(),
    ]
}

fn plan(ovn: &OvnSandbox, file: &Path) -> crate::support::topo_cmd::TopoOutput {
    let mut args = vec!["plan".to_owned(), file.display().to_string()];
    args.extend(db_args(ovn));
    TopoCmd::new(args).run()
}

/// ovn-nbctl builds the scenario; import (with --adopt) must validate and plan empty; the
/// hand-written topology must then plan empty too (it adopts nothing itself: the rows carry
/// the import's mark, so both files must name the same stack).
fn parity(script: &str, hand_written: &str, expect_in_import: &[&str]) {
    let ovn = OvnSandbox::builder().northd(false).start();
    ovn.nbctl(&["init"]);
    chassis(&ovn);
    nbctl_script(&ovn, script);
    let before = ovn.nb_dump();

    let dir = tempfile::tempdir().unwrap();
    let imported = dir.path().join("imported.yaml");
    // Without --adopt nothing is written.
    let mut args = vec!["import".to_owned(), "--stack".into(), "seed".into()];
    args.extend(db_args(&ovn));
    let out = TopoCmd::new(args.clone()).run().success();
    assert_eq!(ovn.nb_dump(), before, "import without --adopt wrote");
    let printed = out.stdout();
    for want in expect_in_import {
        assert!(printed.contains(want), "missing {want:?} in:\n{printed}");
    }
    assert!(
        !out.stderr().contains("a plan of the import would"),
        "import's self-check found differences:\n{}\n{printed}",
        out.stderr()
    );

    args.extend([
        "--adopt".into(),
        "-o".into(),
        imported.display().to_string(),
    ]);
    let out = TopoCmd::new(args).run().success();
    assert!(out.stderr().contains("Adopted"), "{}", out.stderr());
    assert_eq!(std::fs::read_to_string(&imported).unwrap(), printed);

    TopoCmd::new(["validate".to_owned(), imported.display().to_string()])
        .run()
        .success();
    let out = plan(&ovn, &imported);
    assert_eq!(
        out.code(),
        Some(0),
        "plan of the import is not empty:\n{}\n{}\n{printed}",
        out.stdout(),
        out.stderr()
    );
    assert!(out.stdout().contains("No changes."), "{}", out.stdout());

    let hand = write(dir.path(), "hand.yaml", hand_written);
    TopoCmd::new(["validate".to_owned(), hand.display().to_string()])
        .run()
        .success();
    let out = plan(&ovn, &hand);
    assert_eq!(
        out.code(),
        Some(0),
        "plan of the hand-written topology is not empty:\n{}\n{}\nimport:\n{printed}",
        out.stdout(),
        out.stderr()
    );
}

const CHASSIS_YAML: &str = "
chassis:
  master:
    encap: { type: geneve, ip: 127.0.0.11 }
    bridge-mappings: { externalnet: br-ens8 }
  node1:
    encap: { type: geneve, ip: 127.0.0.12 }
    bridge-mappings: { externalnet: br-ens8 }
";

#[test]
fn l2_gateway_seed_imports_and_plans_empty() {
    require_ovn!();
    let script = r#"
        ovn-nbctl ls-add ls1
        ovn-nbctl lsp-add ls1 ls1-vm1
        ovn-nbctl lsp-set-addresses ls1-vm1 00:00:00:00:00:03
        ovn-nbctl lsp-set-port-security ls1-vm1 00:00:00:00:00:03
        ovn-nbctl lsp-add ls1 ls1-vm2
        ovn-nbctl lsp-set-addresses ls1-vm2 00:00:00:00:00:04
        ovn-nbctl lsp-set-port-security ls1-vm2 00:00:00:00:00:04
        ovn-nbctl lsp-add ls1 ls1-l2gateway
        ovn-nbctl lsp-set-type ls1-l2gateway l2gateway
        ovn-nbctl lsp-set-addresses ls1-l2gateway unknown
        ovn-nbctl lsp-set-options ls1-l2gateway network_name=externalnet l2gateway-chassis=master
    "#;
    let hand = format!(
        "name: seed\n{CHASSIS_YAML}
switches:
  ls1:
    ports:
      ls1-vm1: {{ mac: \"00:00:00:00:00:03\", port-security: true }}
      ls1-vm2: {{ mac: \"00:00:00:00:00:04\", port-security: true }}
      ls1-l2gateway: {{ type: l2gateway, network: externalnet, chassis: master }}
"
    );
    parity(
        script,
        &hand,
        &[
            "ls1-l2gateway: { type: l2gateway, network: externalnet, chassis: master }",
            "master: { encap: { type: geneve, ip: 127.0.0.11 }, bridge-mappings: { externalnet: br-ens8 } }",
        ],
    );
}

/// The seed's L3 gateway: ls1/ls2 behind distributed lr1, gateway router lr2 on `master`,
/// lsjoin between them, lslocal with a localnet port, routes, SNAT.
const L3_GATEWAY: &str = r#"
    ovn-nbctl ls-add ls1
    ovn-nbctl ls-add ls2
    ovn-nbctl lr-add lr1
    ovn-nbctl lrp-add lr1 lr1-ls1 00:00:00:00:00:01 10.10.10.1/24
    ovn-nbctl lsp-add ls1 ls1-lr1
    ovn-nbctl lsp-set-type ls1-lr1 router
    ovn-nbctl lsp-set-addresses ls1-lr1 00:00:00:00:00:01
    ovn-nbctl lsp-set-options ls1-lr1 router-port=lr1-ls1
    ovn-nbctl lrp-add lr1 lr1-ls2 00:00:00:00:00:02 10.10.20.1/24
    ovn-nbctl lsp-add ls2 ls2-lr1
    ovn-nbctl lsp-set-type ls2-lr1 router
    ovn-nbctl lsp-set-addresses ls2-lr1 00:00:00:00:00:02
    ovn-nbctl lsp-set-options ls2-lr1 router-port=lr1-ls2
    ovn-nbctl lsp-add ls1 ls1-vm1
    ovn-nbctl lsp-set-addresses ls1-vm1 "00:00:00:00:00:03 10.10.10.2"
    ovn-nbctl lsp-set-port-security ls1-vm1 "00:00:00:00:00:03 10.10.10.2"
    ovn-nbctl lsp-add ls1 ls1-vm2
    ovn-nbctl lsp-set-addresses ls1-vm2 "00:00:00:00:00:04 10.10.10.3"
    ovn-nbctl lsp-set-port-security ls1-vm2 "00:00:00:00:00:04 10.10.10.3"
    ovn-nbctl lsp-add ls2 ls2-vm1
    ovn-nbctl lsp-set-addresses ls2-vm1 "00:00:00:00:00:03 10.10.20.2"
    ovn-nbctl lsp-set-port-security ls2-vm1 "00:00:00:00:00:03 10.10.20.2"
    ovn-nbctl lsp-add ls2 ls2-vm2
    ovn-nbctl lsp-set-addresses ls2-vm2 "00:00:00:00:00:04 10.10.20.3"
    ovn-nbctl lsp-set-port-security ls2-vm2 "00:00:00:00:00:04 10.10.20.3"
    ovn-nbctl create Logical_Router name=lr2 options:chassis=master
    ovn-nbctl lrp-add lr2 lr2-lsjoin 00:00:00:00:00:06 10.10.30.2/24
    ovn-nbctl lrp-add lr2 lr2-lslocal 00:00:00:00:00:07 10.10.40.1/24
    ovn-nbctl ls-add lsjoin
    ovn-nbctl lsp-add lsjoin lsjoin-lr2
    ovn-nbctl lsp-set-type lsjoin-lr2 router
    ovn-nbctl lsp-set-addresses lsjoin-lr2 00:00:00:00:00:06
    ovn-nbctl lsp-set-options lsjoin-lr2 router-port=lr2-lsjoin
    ovn-nbctl lrp-add lr1 lr1-lsjoin 00:00:00:00:00:05 10.10.30.1/24
    ovn-nbctl lsp-add lsjoin lsjoin-lr1
    ovn-nbctl lsp-set-type lsjoin-lr1 router
    ovn-nbctl lsp-set-addresses lsjoin-lr1 00:00:00:00:00:05
    ovn-nbctl lsp-set-options lsjoin-lr1 router-port=lr1-lsjoin
    ovn-nbctl lr-route-add lr2 "10.10.10.0/24" 10.10.30.1
    ovn-nbctl lr-route-add lr1 "0.0.0.0/0" 10.10.30.2
    ovn-nbctl ls-add lslocal
    ovn-nbctl lsp-add lslocal lslocal-lr2
    ovn-nbctl lsp-set-type lslocal-lr2 router
    ovn-nbctl lsp-set-addresses lslocal-lr2 00:00:00:00:00:07
    ovn-nbctl lsp-set-options lslocal-lr2 router-port=lr2-lslocal
    ovn-nbctl lsp-add lslocal lslocal-localnet
    ovn-nbctl lsp-set-addresses lslocal-localnet unknown
    ovn-nbctl lsp-set-type lslocal-localnet localnet
    ovn-nbctl lsp-set-options lslocal-localnet network_name=externalnet
    ovn-nbctl -- --id=@nat create nat type="snat" logical_ip=10.10.10.0/24 external_ip=10.10.40.1 -- add logical_router lr2 nat @nat
"#;

/// `examples/topologies/gateway-router.yaml` as the seed builds it: no subnets or
/// requested-chassis, one return route and one SNAT, and the router LSPs the ovn-nbctl way
/// (the LRP's MAC as `addresses`, no `nat-addresses`).
fn l3_gateway_yaml() -> String {
    format!(
        "name: seed\n{CHASSIS_YAML}
switches:
  ls1:
    ports:
      ls1-vm1: {{ mac: \"00:00:00:00:00:03\", ip: 10.10.10.2, port-security: true }}
      ls1-vm2: {{ mac: \"00:00:00:00:00:04\", ip: 10.10.10.3, port-security: true }}
  ls2:
    ports:
      ls2-vm1: {{ mac: \"00:00:00:00:00:03\", ip: 10.10.20.2, port-security: true }}
      ls2-vm2: {{ mac: \"00:00:00:00:00:04\", ip: 10.10.20.3, port-security: true }}
  lsjoin: {{}}
  lslocal:
    ports:
      lslocal-localnet: {{ type: localnet, network: externalnet }}
routers:
  lr1:
    ports:
      - {{ switch: ls1, mac: \"00:00:00:00:00:01\", ip: 10.10.10.1/24, switch-port-addresses: [\"00:00:00:00:00:01\"] }}
      - {{ switch: ls2, mac: \"00:00:00:00:00:02\", ip: 10.10.20.1/24, switch-port-addresses: [\"00:00:00:00:00:02\"] }}
      - {{ switch: lsjoin, mac: \"00:00:00:00:00:05\", ip: 10.10.30.1/24, switch-port-addresses: [\"00:00:00:00:00:05\"] }}
    routes:
      - {{ prefix: 0.0.0.0/0, nexthop: 10.10.30.2 }}
  lr2:
    chassis: master
    ports:
      - {{ switch: lsjoin, mac: \"00:00:00:00:00:06\", ip: 10.10.30.2/24, switch-port-addresses: [\"00:00:00:00:00:06\"] }}
      - {{ switch: lslocal, mac: \"00:00:00:00:00:07\", ip: 10.10.40.1/24, switch-port-addresses: [\"00:00:00:00:00:07\"], nat-addresses: none }}
    routes:
      - {{ prefix: 10.10.10.0/24, nexthop: 10.10.30.1 }}
    nat:
      - {{ type: snat, logical-ip: 10.10.10.0/24, external-ip: 10.10.40.1 }}
"
    )
}

#[test]
fn l3_gateway_router_seed_imports_and_plans_empty() {
    require_ovn!();
    parity(
        L3_GATEWAY,
        &l3_gateway_yaml(),
        &[
            "chassis: master",
            "nat-addresses: none",
            "- { type: snat, external-ip: 10.10.40.1, logical-ip: 10.10.10.0/24 }",
            "- { prefix: 0.0.0.0/0, nexthop: 10.10.30.2 }",
        ],
    );
}

/// A distributed gateway port on the seed's lr1 towards lslocal.
const DGP_BASE: &str = r#"
    ovn-nbctl ls-add ls1
    ovn-nbctl lr-add lr1
    ovn-nbctl lrp-add lr1 lr1-ls1 00:00:00:00:00:01 10.10.10.1/24
    ovn-nbctl lsp-add ls1 ls1-lr1
    ovn-nbctl lsp-set-type ls1-lr1 router
    ovn-nbctl lsp-set-addresses ls1-lr1 00:00:00:00:00:01
    ovn-nbctl lsp-set-options ls1-lr1 router-port=lr1-ls1
    ovn-nbctl lsp-add ls1 ls1-vm1
    ovn-nbctl lsp-set-addresses ls1-vm1 "00:00:00:00:00:03 10.10.10.2"
    ovn-nbctl lsp-set-port-security ls1-vm1 "00:00:00:00:00:03 10.10.10.2"
    ovn-nbctl ls-add lslocal
    ovn-nbctl lrp-add lr1 lr1-lslocal 00:00:00:00:00:07 10.10.40.1/24
    ovn-nbctl lsp-add lslocal lslocal-lr1
    ovn-nbctl lsp-set-type lslocal-lr1 router
    ovn-nbctl lsp-set-addresses lslocal-lr1 00:00:00:00:00:07
    ovn-nbctl lsp-set-options lslocal-lr1 router-port=lr1-lslocal
    ovn-nbctl lsp-add lslocal lslocal-localnet
    ovn-nbctl lsp-set-addresses lslocal-localnet unknown
    ovn-nbctl lsp-set-type lslocal-localnet localnet
    ovn-nbctl lsp-set-options lslocal-localnet network_name=externalnet
    ovn-nbctl lr-nat-add lr1 snat 10.10.40.1 10.10.10.0/24
"#;

fn dgp_yaml(gateway: &str, extra_top: &str, extra_nat: &str) -> String {
    format!(
        "name: seed\n{CHASSIS_YAML}{extra_top}
switches:
  ls1:
    ports:
      ls1-vm1: {{ mac: \"00:00:00:00:00:03\", ip: 10.10.10.2, port-security: true }}
  lslocal:
    ports:
      lslocal-localnet: {{ type: localnet, network: externalnet }}
routers:
  lr1:
    ports:
      - {{ switch: ls1, mac: \"00:00:00:00:00:01\", ip: 10.10.10.1/24, switch-port-addresses: [\"00:00:00:00:00:01\"] }}
      - {{ switch: lslocal, mac: \"00:00:00:00:00:07\", ip: 10.10.40.1/24, switch-port-addresses: [\"00:00:00:00:00:07\"], nat-addresses: none, gateway: {gateway} }}
    nat:
      - {{ type: snat, logical-ip: 10.10.10.0/24, external-ip: 10.10.40.1 }}{extra_nat}
"
    )
}

#[test]
fn distributed_gateway_port_with_gateway_chassis_imports_and_plans_empty() {
    require_ovn!();
    let script = format!(
        "{DGP_BASE}
        ovn-nbctl lrp-set-gateway-chassis lr1-lslocal master 1
        ovn-nbctl lrp-set-gateway-chassis lr1-lslocal node1 2
        "
    );
    parity(
        &script,
        &dgp_yaml("{ chassis: { master: 1, node1: 2 } }", "", ""),
        &["gateway: { chassis: { master: 1, node1: 2 } }"],
    );
}

#[test]
fn distributed_gateway_port_with_an_ha_chassis_group_imports_and_plans_empty() {
    require_ovn!();
    let script = format!(
        "{DGP_BASE}
        ovn-nbctl ha-chassis-group-add ha1
        ovn-nbctl ha-chassis-group-add-chassis ha1 master 1
        ovn-nbctl ha-chassis-group-add-chassis ha1 node1 2
        ovn-nbctl set Logical_Router_Port lr1-lslocal ha_chassis_group={{ha1}}
        "
    );
    parity(
        &script,
        &dgp_yaml(
            "{ ha-group: ha1 }",
            "ha-chassis-groups:\n  ha1: { master: 1, node1: 2 }\n",
            "",
        ),
        &["ha1: { master: 1, node1: 2 }", "gateway: { ha-group: ha1 }"],
    );
}

#[test]
fn floating_ip_imports_and_plans_empty() {
    require_ovn!();
    let script = format!(
        "{DGP_BASE}
        ovn-nbctl lrp-set-gateway-chassis lr1-lslocal master 1
        ovn-nbctl lr-nat-add lr1 dnat_and_snat 10.10.40.50 10.10.10.2 ls1-vm1 00:00:5e:00:02:50
        "
    );
    parity(
        &script,
        &dgp_yaml(
            "{ chassis: { master: 1 } }",
            "",
            "\n      - { type: dnat_and_snat, external-ip: 10.10.40.50, logical-ip: 10.10.10.2, \
             logical-port: ls1-vm1, external-mac: \"00:00:5e:00:02:50\" }",
        ),
        &["logical-port: ls1-vm1, external-mac: \"00:00:5e:00:02:50\""],
    );
}

/// Rows built by Neutron's ovsdbapp: `<lrp>_<chassis>` gateway chassis names, external_ids,
/// an ACL. Import recognises the gateway chassis, imports the ACL and says what it cannot carry.
#[test]
fn import_recognises_ovsdbapp_rows_and_says_what_it_drops() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).start();
    ovn.nbctl(&["init"]);
    chassis(&ovn);
    nbctl_script(&ovn, DGP_BASE);
    ovn.nbctl(&[
        "--",
        "--id=@gc",
        "create",
        "Gateway_Chassis",
        "name=lr1-lslocal_master",
        "chassis_name=master",
        "priority=2",
        "--",
        "add",
        "Logical_Router_Port",
        "lr1-lslocal",
        "gateway_chassis",
        "@gc",
    ]);
    ovn.nbctl(&["acl-add", "ls1", "to-lport", "1000", "ip4", "drop"]);
    ovn.nbctl(&[
        "set",
        "Logical_Switch",
        "ls1",
        "external_ids:\"neutron:network_name\"=net1",
    ]);
    ovn.nbctl(&["lsp-set-options", "ls1-vm1", "mcast_flood=true"]);
    let mut args = vec!["import".to_owned()];
    args.extend(db_args(&ovn));
    let out = TopoCmd::new(args).run().success();
    let (stdout, stderr) = (out.stdout(), out.stderr_flat());
    assert!(
        stdout.contains("gateway: { chassis: { master: 2 }, names: ovsdbapp }"),
        "{stdout}"
    );
    // The ACL is imported with its switch.
    assert!(
        stdout.contains("- { direction: to-lport, priority: 1000, match: ip4, action: drop }"),
        "{stdout}"
    );
    for want in ["neutron:network_name", "mcast_flood=true"] {
        assert!(stderr.contains(want), "missing {want:?} in:\n{stderr}");
    }
    // Neutron's external_ids keys are not topo's to remove: a plan of the import keeps them.
    assert!(
        !stderr.contains("would update Logical_Switch ls1"),
        "{stderr}"
    );
    // The ovsdbapp-named gateway chassis is imported as it is, not replaced.
    assert!(!stderr.contains("Gateway_Chassis"), "{stderr}");
}

/// Every example topology, applied by topo and imported back under its stack: the import
/// plans empty and says nothing would change (the compiler and import agree on every derived
/// name, MAC and option).
/// Security groups, QoS, load balancers (with a health check), DHCP and DNS as ovn-nbctl makes
/// them: imported, adopted (the DHCP options and DNS rows, which OVN keeps no name for, get
/// their `topo:name`) and planned empty.
#[test]
fn services_built_with_ovn_nbctl_import_and_plan_empty() {
    require_ovn!();
    parity(
        r#"
        ovn-nbctl ls-add web
        ovn-nbctl set Logical_Switch web other_config:subnet=10.0.0.0/24
        ovn-nbctl lsp-add web web1
        ovn-nbctl lsp-set-addresses web1 "0a:00:00:00:00:0b 10.0.0.11"
        ovn-nbctl lsp-add web web2
        ovn-nbctl lsp-set-addresses web2 "0a:00:00:00:00:0c 10.0.0.12"
        ovn-nbctl lsp-add web web3
        ovn-nbctl lsp-set-addresses web3 "0a:00:00:00:00:0d 10.0.0.13"
        ovn-nbctl acl-add web to-lport 1000 "ip4 && tcp.dst == 22" allow-related
        ovn-nbctl --log --severity=info --name=deny acl-add web to-lport 900 ip4 drop
        ovn-nbctl pg-add pg_web web1 web2
        ovn-nbctl acl-add pg_web from-lport 1000 "inport == @pg_web && ip4" allow-related
        ovn-nbctl create Address_Set name=admins 'addresses=["10.20.0.0/24","10.30.0.5"]'
        ovn-nbctl qos-add web from-lport 100 ip4 rate=1000 burst=100
        ovn-nbctl lb-add lb0 10.0.0.100:80 10.0.0.11:8080,10.0.0.12:8080 tcp
        ovn-nbctl ls-lb-add web lb0
        ovn-nbctl lb-add lb1 10.0.0.101 10.0.0.11,10.0.0.12
        ovn-nbctl lr-add r1
        ovn-nbctl lr-lb-add r1 lb1
        ovn-nbctl --id=@hc create Load_Balancer_Health_Check 'vip="10.0.0.100:80"' options:interval=5 options:timeout=3 -- add Load_Balancer lb0 health_check @hc
        ovn-nbctl set Load_Balancer lb0 ip_port_mappings:10.0.0.11=web1:10.0.0.254 ip_port_mappings:10.0.0.12=web2:10.0.0.254
        ovn-nbctl dhcp-options-create 10.0.0.0/24
        ovn-nbctl dhcp-options-set-options {dhcp} lease_time=3600 router=10.0.0.1 server_id=10.0.0.1 server_mac=c0:ff:ee:00:00:01 "dns_server={10.0.0.53, 10.0.0.54}"
        ovn-nbctl lsp-set-dhcpv4-options web1 {dhcp}
        ovn-nbctl lsp-set-dhcpv4-options web2 {dhcp}
        ovn-nbctl --id=@d create DNS records:web1.example=10.0.0.11 -- add Logical_Switch web dns_records @d
        "#,
        r#"name: seed
address-sets:
  admins: [10.20.0.0/24, 10.30.0.5]
port-groups:
  pg_web:
    ports: [web1, web2]
    acls:
      - { direction: from-lport, priority: 1000, match: "inport == @pg_web && ip4", action: allow-related }
load-balancers:
  lb0:
    protocol: tcp
    vips: { "10.0.0.100:80": ["10.0.0.11:8080", "10.0.0.12:8080"] }
    health-check: { interval: 5, timeout: 3, source-ips: [10.0.0.254] }
  lb1:
    protocol: tcp
    vips: { "10.0.0.101": [10.0.0.11, 10.0.0.12] }
switches:
  web:
    subnet: 10.0.0.0/24
    acls:
      - { direction: to-lport, priority: 1000, match: "ip4 && tcp.dst == 22", action: allow-related }
      - { direction: to-lport, priority: 900, match: ip4, action: drop, log: true, severity: info, name: deny }
    qos:
      - { direction: from-lport, priority: 100, match: ip4, rate: 1000, burst: 100 }
    load-balancers: [lb0]
    dhcp:
      v4: { router: 10.0.0.1, server-mac: "c0:ff:ee:00:00:01", lease-time: 3600, dns-server: [10.0.0.53, 10.0.0.54] }
    dns-records:
      web1.example: [10.0.0.11]
    ports:
      web1: { mac: "0a:00:00:00:00:0b", ip: 10.0.0.11 }
      web2: { mac: "0a:00:00:00:00:0c", ip: 10.0.0.12 }
      web3: { mac: "0a:00:00:00:00:0d", ip: 10.0.0.13, dhcp: false }
routers:
  r1:
    load-balancers: [lb1]
"#,
        &[
            "dhcp: false",
            "health-check: { interval: 5, timeout: 3, source-ips: [10.0.0.254] }",
            "match: \"inport == @pg_web && ip4\"",
        ],
    );
}

#[test]
fn every_example_round_trips_through_apply_and_import() {
    require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let mut examples: Vec<PathBuf> = std::fs::read_dir("examples/topologies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    for example in examples {
        let ovn = OvnSandbox::builder().northd(false).start();
        ovn.nbctl(&["init"]);
        let text = std::fs::read_to_string(&example).unwrap();
        let stack = text
            .lines()
            .find_map(|l| l.strip_prefix("name: "))
            .unwrap()
            .trim()
            .to_owned();
        let mut apply = vec![
            "apply".to_owned(),
            example.display().to_string(),
            "--yes".into(),
        ];
        apply.extend(db_args(&ovn));
        TopoCmd::new(apply).run().success();

        let imported = dir.path().join(format!("{stack}.yaml"));
        let mut args = vec!["import".to_owned(), "--stack".into(), stack.clone()];
        args.extend(["-o".into(), imported.display().to_string()]);
        args.extend(db_args(&ovn));
        let out = TopoCmd::new(args).run().success();
        let yaml = std::fs::read_to_string(&imported).unwrap();
        assert!(
            !out.stderr().contains("a plan of the import would"),
            "{}: {}\n{yaml}",
            example.display(),
            out.stderr()
        );
        TopoCmd::new(["validate".to_owned(), imported.display().to_string()])
            .run()
            .success();
        let out = plan(&ovn, &imported);
        assert_eq!(
            out.code(),
            Some(0),
            "{}: plan of the import is not empty:\n{}\n{yaml}",
            example.display(),
            out.stdout()
        );
    }
}

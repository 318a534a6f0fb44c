//! Editing one thing in the YAML plans exactly that one change, in the topology's words, and
//! applying it converges. One reviewed snapshot per kind of edit (`tests/apply/snapshots/`);
//! each variant is the example with one textual edit, written by the test.

use std::path::PathBuf;

use super::{apply, assert_converged, edited, example, plan, topo, write};
use crate::require_ovn;
use crate::support::ovn::OvnSandbox;

/// A sandbox with `base` applied, a temp dir for variants.
struct Edit {
    ovn: OvnSandbox,
    dir: tempfile::TempDir,
}

impl Edit {
    fn from_example(name: &str) -> Edit {
        Edit::from_text(&std::fs::read_to_string(example(name)).unwrap())
    }

    fn from_text(base: &str) -> Edit {
        let ovn = OvnSandbox::builder().sb(false).northd(false).start();
        let dir = tempfile::tempdir().unwrap();
        let e = Edit { ovn, dir };
        let file = e.file("base.yaml", base);
        apply(&e.ovn, &file);
        assert_converged(&e.ovn, &file);
        e
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        write(self.dir.path(), name, text)
    }

    /// Plans `variant` (exit 2), applies it, and checks it converged; returns the plan text.
    fn plan_and_apply(&self, variant: &str) -> String {
        let file = self.file("variant.yaml", variant);
        let text = plan(&self.ovn, &file, 2).stdout();
        apply(&self.ovn, &file);
        assert_converged(&self.ovn, &file);
        text
    }
}

const VM3: &str = r#"      ls1-vm2: { mac: "00:00:00:00:00:04", ip: 10.10.10.3, port-security: true, chassis: master }
"#;
const VM3_ADDED: &str = r#"      ls1-vm2: { mac: "00:00:00:00:00:04", ip: 10.10.10.3, port-security: true, chassis: master }
      ls1-vm3: { mac: "00:00:00:00:00:08", ip: 10.10.10.4, port-security: true, chassis: master }
"#;

#[test]
fn add_a_port() {
    require_ovn!();
    let e = Edit::from_example("gateway-router.yaml");
    let text = e.plan_and_apply(&edited("gateway-router.yaml", &[(VM3, VM3_ADDED)]));
    insta::assert_snapshot!(text);
    assert_eq!(
        e.ovn.nbctl(&["lsp-get-addresses", "ls1-vm3"]).trim(),
        "00:00:00:00:00:08 10.10.10.4"
    );
}

#[test]
fn change_a_nat() {
    require_ovn!();
    let e = Edit::from_example("floating-ip.yaml");
    let text = e.plan_and_apply(&edited(
        "floating-ip.yaml",
        &[(
            r#"external-mac: "00:00:5e:00:02:50""#,
            r#"external-mac: "00:00:5e:00:02:51""#,
        )],
    ));
    insta::assert_snapshot!(text);
    assert!(
        e.ovn
            .nbctl(&["lr-nat-list", "lr1"])
            .contains("00:00:5e:00:02:51")
    );
}

/// A NAT's addresses are its identity: changing one replaces the row (create, re-point the
/// router, delete), shown as such.
#[test]
fn change_a_nat_address() {
    require_ovn!();
    let e = Edit::from_example("gateway-router.yaml");
    let text = e.plan_and_apply(&edited(
        "gateway-router.yaml",
        &[(
            "{ type: snat, logical-ip: 10.10.20.0/24, external-ip: 10.10.40.1 }",
            "{ type: snat, logical-ip: 10.10.20.0/24, external-ip: 10.10.40.2 }",
        )],
    ));
    insta::assert_snapshot!(text);
    let nats = e.ovn.nbctl(&["lr-nat-list", "lr2"]);
    assert!(
        nats.contains("10.10.40.2") && nats.lines().count() == 3,
        "{nats}"
    );
}

#[test]
fn move_a_gateway_chassis_priority() {
    require_ovn!();
    let e = Edit::from_example("dgp-gateway-chassis.yaml");
    let text = e.plan_and_apply(&edited(
        "dgp-gateway-chassis.yaml",
        &[("{ gw1: 20, gw2: 10 }", "{ gw1: 5, gw2: 10 }")],
    ));
    insta::assert_snapshot!(text);
    assert_eq!(
        e.ovn.nbctl(&["lrp-get-gateway-chassis", "lr1-ext"]),
        "lr1-ext-gw2    10\nlr1-ext-gw1     5\n"
    );
}

#[test]
fn move_an_ha_chassis_priority() {
    require_ovn!();
    let e = Edit::from_example("dgp-ha-group.yaml");
    let text = e.plan_and_apply(&edited(
        "dgp-ha-group.yaml",
        &[("gw: { gw1: 20, gw2: 10 }", "gw: { gw1: 20, gw2: 30 }")],
    ));
    insta::assert_snapshot!(text);
    assert!(
        e.ovn
            .nbctl(&["ha-chassis-group-list"])
            .contains("priority 30")
    );
}

const LS3: &str = "  lsjoin:\n";
const LS3_ADDED: &str = r#"  ls3:
    subnet: 10.10.50.0/24
    ports:
      ls3-vm1: { mac: "00:00:00:00:00:09", ip: 10.10.50.2, chassis: node1 }
  lsjoin:
"#;

#[test]
fn delete_a_switch() {
    require_ovn!();
    let e = Edit::from_text(&edited("gateway-router.yaml", &[(LS3, LS3_ADDED)]));
    assert!(e.ovn.nbctl(&["ls-list"]).contains("(ls3)"));
    let text = e.plan_and_apply(&std::fs::read_to_string(example("gateway-router.yaml")).unwrap());
    insta::assert_snapshot!(text);
    assert!(!e.ovn.nbctl(&["ls-list"]).contains("(ls3)"));
    assert!(
        e.ovn
            .nbctl(&["--bare", "--columns=name", "list", "Logical_Switch_Port"])
            .lines()
            .all(|l| l != "ls3-vm1")
    );
}

const VLAN_VM2: &str = r#"      vlan100-vm2: { mac: "00:00:00:00:30:02", ip: 203.0.113.12, chassis: hv2, port-security: true }
"#;

/// The same one-port edit as JSON (stable field names; UUIDs replaced by `[uuid]`, which
/// differ per run) and as Markdown.
#[test]
fn plan_formats() {
    require_ovn!();
    let e = Edit::from_example("vlan-provider.yaml");
    let variant = edited(
        "vlan-provider.yaml",
        &[(
            VLAN_VM2,
            &format!(
                "{VLAN_VM2}      vlan100-vm3: {{ mac: \"00:00:00:00:30:03\", ip: 203.0.113.13, chassis: hv2 }}\n"
            ),
        )],
    );
    let file = e.file("variant.yaml", &variant);
    let f = file.to_str().unwrap();
    let json = topo(&e.ovn, &["plan", "--format", "json", f])
        .expect_code(2)
        .stdout();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    redact_uuids(&mut v);
    insta::assert_json_snapshot!(v);
    let md = topo(&e.ovn, &["plan", "--format", "markdown", f])
        .expect_code(2)
        .stdout();
    insta::assert_snapshot!(md);
}

/// UUIDs, and the digests of rows that hold UUIDs, differ per run.
fn redact_uuids(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if uuid::Uuid::parse_str(s).is_ok() => *s = "[uuid]".into(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(redact_uuids),
        serde_json::Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "digest" && x.is_string() {
                    *x = "[digest]".into();
                } else {
                    redact_uuids(x);
                }
            }
        }
        _ => {}
    }
}

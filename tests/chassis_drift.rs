//! The chassis side of drift and apply, in the lab: `topo apply --lab` writes a chassis's
//! bridge mappings; a change made on the chassis with `ovs-vsctl` shows in `topo drift` (at
//! once from the chassis's own database, and from the Southbound's `Chassis.other_config` once
//! ovn-controller published it) and in `topo plan`; an apply of it without `--yes` is refused,
//! a saved plan of it is refused once the chassis moved again and applies when fresh, the next
//! apply puts it back (keeping the entry it does not own), and drift and plan are then clean;
//! the same for the chassis's tunnel endpoint (`ovn-encap-ip`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::support::wait_for;

fn topo(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("OVN_NB_DB")
        .env_remove("OVN_SB_DB")
        .output()
        .expect("run topo");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// Takes the lab down however the test ends.
struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = topo(&["lab", "down", "--dir", self.0.to_str().unwrap_or_default()]);
    }
}

fn lab_possible() -> bool {
    if rustix::process::getuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "the lab needs root under CI"
    );
    eprintln!("skipping: the lab needs root");
    false
}

fn vsctl(db: &str, args: &[&str]) {
    let out = Command::new("ovs-vsctl")
        .arg(format!("--db={db}"))
        .args(args)
        .output()
        .expect("ovs-vsctl");
    assert!(
        out.status.success(),
        "ovs-vsctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bridge_mappings_changed_on_a_chassis_are_drift_and_apply_restores_them() {
    crate::require_ovn!();
    if !lab_possible() {
        return;
    }
    let file = "examples/topologies/gateway-router.yaml";
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("lab");
    let d = dir.to_str().unwrap();
    let _down = Down(dir.clone());
    let (code, out) = topo(&["lab", "up", file, "--dir", d]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = topo(&[
        "apply",
        file,
        "--lab",
        d,
        "--yes",
        "--wait",
        "hv",
        "--timeout",
        "60",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(r#"Chassis master: ovn-bridge-mappings "" → "externalnet:br-ens8""#),
        "{out}"
    );
    let (code, out) = topo(&["drift", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");

    // An operator remaps the network on the chassis and adds a mapping of their own.
    let db = format!("unix:{d}/ch-master/db.sock");
    set_external_id(
        &db,
        "ovn-bridge-mappings",
        "externalnet:br-wrong,theirs:br-theirs",
    );
    // drift reads the chassis's own database at once; the Southbound shows the change once
    // ovn-controller has published it.
    let published = "chassis master maps network externalnet to br-wrong, the topology to br-ens8";
    let drifted = wait_for(
        "drift to see the chassis change in the Southbound",
        Duration::from_secs(20),
        || {
            let (code, out) = topo(&["drift", file, "--lab", d]);
            (code == Some(2) && out.contains(published)).then_some(out)
        },
    );
    assert!(
        drifted.contains(
            "~ chassis master\n    ovn-bridge-mappings: \"externalnet:br-wrong,theirs:br-theirs\" → \"externalnet:br-ens8,theirs:br-theirs\""
        ),
        "{drifted}"
    );

    // The plan shows what apply will write on the chassis: the stack's entry put back, the
    // operator's kept; the rows are in place.
    let (code, out) = topo(&["plan", file, "--lab", d]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(
            "~ chassis master\n    ovn-bridge-mappings: \"externalnet:br-wrong,theirs:br-theirs\" → \"externalnet:br-ens8,theirs:br-theirs\""
        ),
        "{out}"
    );
    assert!(
        out.contains("Plan: 0 to create, 0 to update, 0 to delete, 1 chassis to change."),
        "{out}"
    );

    // A change on the chassis alone still needs a yes: without --yes and without a terminal,
    // apply shows it and writes nothing.
    let (code, out) = topo(&["apply", file, "--lab", d]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("~ chassis master"), "{out}");
    assert!(out.contains("Refusing to apply without --yes"), "{out}");
    assert_eq!(mappings(&db), "externalnet:br-wrong,theirs:br-theirs");

    // A saved plan whose chassis moved since is refused, and the chassis keeps what it has.
    let saved = tmp.path().join("plan.json");
    let saved = saved.to_str().unwrap();
    let (code, out) = topo(&["plan", file, "--lab", d, "-o", saved]);
    assert_eq!(code, Some(2), "{out}");
    let moved = "externalnet:br-moved,theirs:br-theirs";
    set_external_id(&db, "ovn-bridge-mappings", moved);
    let (code, out) = topo(&["apply", saved, "--lab", d, "--yes", "--timeout", "60"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("chassis master changed since the plan read it"),
        "{out}"
    );
    assert_eq!(mappings(&db), moved);

    // A fresh saved plan applies: the stack's entry is restored, the operator's own kept.
    let (code, out) = topo(&["plan", file, "--lab", d, "-o", saved]);
    assert_eq!(code, Some(2), "{out}");
    let (code, out) = topo(&["apply", saved, "--lab", d, "--yes", "--timeout", "60"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            r#"Chassis master: ovn-bridge-mappings "{moved}" → "externalnet:br-ens8,theirs:br-theirs""#
        )),
        "{out}"
    );
    assert_eq!(mappings(&db), "externalnet:br-ens8,theirs:br-theirs");
    let (code, out) = topo(&["plan", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");

    // Changed again, and put back by an apply of the topology itself.
    set_external_id(
        &db,
        "ovn-bridge-mappings",
        "externalnet:br-wrong,theirs:br-theirs",
    );
    let (code, out) = topo(&["apply", file, "--lab", d, "--yes", "--timeout", "60"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(
            r#""externalnet:br-wrong,theirs:br-theirs" → "externalnet:br-ens8,theirs:br-theirs""#
        ),
        "{out}"
    );
    let (code, out) = topo(&["drift", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = topo(&["plan", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");

    // The tunnel endpoint is the topology's too: changed on the chassis, plan shows it and
    // apply puts it back.
    set_external_id(&db, "ovn-encap-ip", "172.17.42.99");
    let (code, out) = topo(&["plan", file, "--lab", d]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("~ chassis master\n    ovn-encap-ip: \"172.17.42.99\" → \"172.17.42.160\""),
        "{out}"
    );
    let (code, out) = topo(&["apply", file, "--lab", d, "--yes", "--timeout", "60"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(r#"; ovn-encap-ip "172.17.42.160"."#), "{out}");
    let (code, out) = topo(&["plan", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
}

/// `ovs-vsctl set Open_vSwitch . external_ids:KEY=VALUE`, as an operator on the chassis would.
fn set_external_id(db: &str, key: &str, value: &str) {
    let id = format!("external_ids:{key}={value}");
    vsctl(db, &["set", "Open_vSwitch", ".", &id]);
}

/// The chassis's `ovn-bridge-mappings`, as ovs-vsctl reads it.
fn mappings(db: &str) -> String {
    let out = Command::new("ovs-vsctl")
        .arg(format!("--db={db}"))
        .args([
            "get",
            "Open_vSwitch",
            ".",
            "external_ids:ovn-bridge-mappings",
        ])
        .output()
        .expect("ovs-vsctl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_matches('"')
        .to_owned()
}

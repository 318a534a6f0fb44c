//! Every example topology in the lab, through the commands a user runs:
//! `topo lab up FILE`, `topo apply FILE --lab DIR --wait hv`, `topo verify FILE --lab DIR`,
//! `topo lab down`. Each example's own `checks` must pass with real packets (east-west over
//! geneve, SNAT seen by the outside host, L2 gateway, distributed gateway ports with gateway
//! chassis and HA groups, floating IPs, VLAN provider networks), and `down` must leave no
//! namespace of the lab behind, also when an assertion fails half-way.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::lab::{SERIAL, lab_available};

fn topo(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("OVN_NB_DB")
        .env_remove("OVN_SB_DB")
        .output()
        .expect("run topo");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Namespaces whose names carry this lab's id.
fn namespaces_of(dir: &Path) -> Vec<String> {
    let Ok(Some(state)) = topo::lab::LabState::load(dir) else {
        return Vec::new();
    };
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|ns| topo::lab::names::is_of_lab(&state.id, ns))
        .map(str::to_owned)
        .collect()
}

/// Takes the lab down when the test ends, however it ends.
struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = topo(&["lab", "down", "--dir", self.0.to_str().unwrap_or_default()]);
    }
}

fn example(name: &str) {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let file = format!("examples/topologies/{name}.yaml");
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("lab");
    let d = dir.to_str().unwrap();
    let down = Down(dir.clone());

    let (code, out) = topo(&["lab", "up", &file, "--dir", d]);
    assert_eq!(code, Some(0), "lab up {name}:\n{out}");
    let (code, out) = topo(&["plan", &file, "--lab", d]);
    assert_eq!(
        code,
        Some(2),
        "plan {name} before apply shows creates:\n{out}"
    );
    let (code, out) = topo(&[
        "apply",
        &file,
        "--lab",
        d,
        "--yes",
        "--wait",
        "hv",
        "--timeout",
        "60",
    ]);
    assert_eq!(code, Some(0), "apply {name}:\n{out}");
    assert!(out.contains("Apply complete"), "{out}");
    let (code, out) = topo(&["plan", &file, "--lab", d]);
    assert_eq!(code, Some(0), "plan {name} after apply is empty:\n{out}");
    let (code, out) = topo(&["verify", &file, "--lab", d, "--deadline", "30"]);
    assert_eq!(code, Some(0), "verify {name}: every check passes:\n{out}");
    assert!(!out.contains("FAIL"), "{out}");

    let before = namespaces_of(&dir);
    assert!(!before.is_empty(), "the lab made namespaces");
    drop(down);
    let after = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns");
    let left: Vec<String> = String::from_utf8_lossy(&after.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|ns| before.iter().any(|b| b == ns))
        .map(str::to_owned)
        .collect();
    assert!(left.is_empty(), "lab down left namespaces behind: {left:?}");
}

#[test]
fn gateway_router_example_passes_its_checks() {
    example("gateway-router");
}

#[test]
fn distributed_router_example_passes_its_checks() {
    example("distributed-router");
}

#[test]
fn l2_gateway_example_passes_its_checks() {
    example("l2-gateway");
}

#[test]
fn dgp_gateway_chassis_example_passes_its_checks() {
    example("dgp-gateway-chassis");
}

#[test]
fn dgp_ha_group_example_passes_its_checks() {
    example("dgp-ha-group");
}

#[test]
fn floating_ip_example_passes_its_checks() {
    example("floating-ip");
}

#[test]
fn vlan_provider_example_passes_its_checks() {
    example("vlan-provider");
}

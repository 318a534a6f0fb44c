//! The chassis side of drift and apply, in the lab: `topo apply --lab` writes a chassis's
//! bridge mappings; a change made on the chassis with `ovs-vsctl` shows in `topo drift` (at
//! once from the chassis's own database, and from the Southbound's `Chassis.other_config` once
//! ovn-controller published it) and in `topo plan`; an apply of it without `--yes` is refused,
//! a saved plan of it is refused once the chassis moved again and applies when fresh, the next
//! apply puts it back (keeping the entry it does not own), and drift and plan are then clean;
//! the same for the chassis's tunnel endpoint (`ovn-encap-ip`). `topo compile`'s chassis rows
//! are what the chassis hold after apply; the mappings are compared as a set (another order
//! is no change, and apply then writes nothing); mappings set by hand and imported plan empty.

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

/// The seed's gateway example, the one every test here brings up.
const FILE: &str = "examples/topologies/gateway-router.yaml";

/// A lab of `FILE` in a temp dir (`dir`, its path `d`; other files go beside it in `tmp`),
/// brought up (its chassis settings left to apply) and taken down however the test ends;
/// `None` where the lab cannot run (not root, outside CI).
struct Lab {
    // Fields drop in order: the lab goes down before its directory is deleted.
    _down: Down,
    tmp: TempDir,
    dir: PathBuf,
}

impl Lab {
    fn up() -> Option<Lab> {
        if !lab_possible() {
            return None;
        }
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("lab");
        let lab = Lab {
            _down: Down(dir.clone()),
            dir,
            tmp,
        };
        let (code, out) = topo(&["lab", "up", FILE, "--dir", lab.d()]);
        assert_eq!(code, Some(0), "{out}");
        Some(lab)
    }

    fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }
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

/// `ovs-vsctl --db=DB ARGS...`, asserted to succeed.
fn vsctl(db: &str, args: &[&str]) {
    vsctl_get(db, args);
}

#[test]
fn bridge_mappings_changed_on_a_chassis_are_drift_and_apply_restores_them() {
    crate::require_ovn!();
    let Some(lab) = Lab::up() else {
        return;
    };
    let (file, tmp, d) = (FILE, &lab.tmp, lab.d());
    let (code, out) = apply_wait_hv(file, d);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(r#"Chassis master: ovn-bridge-mappings "" → "externalnet:br-ens8""#),
        "{out}"
    );
    let (code, out) = topo(&["drift", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    // What `topo compile` says apply writes on each chassis is what the chassis now hold.
    for chassis in ["master", "node1"] {
        compiled_rows_are_in_the_chassis_database(file, chassis, d);
    }

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

    // The mappings are a set: the same entries in another order, with spaces, are no change
    // for plan or drift, and apply writes nothing to the chassis (not even a next_cfg bump).
    let reordered = "theirs:br-theirs, externalnet:br-ens8";
    set_external_id(&db, "ovn-bridge-mappings", reordered);
    let (code, out) = topo(&["plan", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = topo(&["drift", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    let next_cfg = vsctl_get(&db, &["get", "Open_vSwitch", ".", "next_cfg"]);
    let (code, out) = topo(&["apply", file, "--lab", d, "--yes", "--timeout", "60"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("No changes. The live databases match the topology."),
        "{out}"
    );
    assert_eq!(mappings(&db), reordered);
    assert_eq!(
        vsctl_get(&db, &["get", "Open_vSwitch", ".", "next_cfg"]),
        next_cfg
    );

    // The stack destroyed: its rows and its mapping entry go, the operator's entry stays.
    let (code, out) = topo(&["destroy", file, "--lab", d, "--yes", "--timeout", "60"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(mappings(&db), "theirs:br-theirs");
    let (code, out) = topo(&["plan", "--destroy", file, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
}

/// Mappings set by hand, then `topo import --adopt`: the imported file plans empty, the
/// chassis included (the stack's own list of networks is bookkeeping, not a change).
#[test]
fn hand_set_bridge_mappings_imported_and_adopted_plan_empty() {
    crate::require_ovn!();
    // The lab leaves a topology's chassis settings to apply: none are written yet.
    let Some(lab) = Lab::up() else {
        return;
    };
    let (tmp, d) = (&lab.tmp, lab.d());
    let db = format!("unix:{d}/ch-master/db.sock");
    // An operator sets the provider bridge and the mapping by hand, as the seed does.
    vsctl(
        &db,
        &[
            "add-br",
            "br-ens8",
            "--",
            "set",
            "Bridge",
            "br-ens8",
            "datapath_type=netdev",
            "--",
            "add-port",
            "br-ens8",
            "ens8",
        ],
    );
    set_external_id(&db, "ovn-bridge-mappings", "externalnet:br-ens8");
    let config = format!("{d}/topo.toml");
    wait_for(
        "ovn-controller to publish the mapping",
        Duration::from_secs(20),
        || {
            let (code, out) = topo(&["status", "--config", &config]);
            (code == Some(0) && out.contains("bridge mapping externalnet -> br-ens8")).then_some(())
        },
    );
    let imported = tmp.path().join("imported.yaml");
    let imported = imported.to_str().unwrap();
    let (code, out) = topo(&[
        "import", "--stack", "seed", "--adopt", "-o", imported, "--config", &config,
    ]);
    assert_eq!(code, Some(0), "{out}");
    let text = std::fs::read_to_string(imported).unwrap();
    assert!(text.contains("externalnet: br-ens8"), "{text}");
    let (code, out) = topo(&["plan", imported, "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("chassis master"), "{out}");
}

/// `topo compile`'s rows of `chassis` (its `Open_vSwitch` database), each checked against
/// that database with ovs-vsctl: every key the root row sets, every bridge with its ports,
/// every interface's type.
fn compiled_rows_are_in_the_chassis_database(file: &str, chassis: &str, lab: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(["compile", file, "--format", "json"])
        .output()
        .expect("topo compile");
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let db = format!("unix:{lab}/ch-{chassis}/db.sock");
    let of_chassis: Vec<&serde_json::Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["db"] == format!("chassis/{chassis}"))
        .collect();
    assert!(!of_chassis.is_empty(), "no rows for chassis {chassis}");
    let name = |r: &serde_json::Value| r["key"][0].as_str().unwrap().to_owned();
    // A set of references is a list; one reference alone is written as itself.
    let refs = |v: &serde_json::Value| -> Vec<String> {
        let one = |r: &serde_json::Value| r["ref"][1].as_str().unwrap().to_owned();
        match v.as_array() {
            Some(list) => list.iter().map(one).collect(),
            None => vec![one(v)],
        }
    };
    for row in of_chassis {
        let columns = &row["columns"];
        match row["table"].as_str().unwrap() {
            "Open_vSwitch" => {
                for (key, value) in columns["external_ids"].as_object().unwrap() {
                    let id = format!("external_ids:\"{key}\"");
                    assert_eq!(
                        vsctl_get(&db, &["get", "Open_vSwitch", ".", &id]),
                        value.as_str().unwrap(),
                        "{chassis} {key}"
                    );
                }
                if !columns["bridges"].is_null() {
                    let have = vsctl_get(&db, &["list-br"]);
                    for bridge in refs(&columns["bridges"]) {
                        assert!(have.lines().any(|l| l == bridge), "{chassis}: {bridge}");
                    }
                }
            }
            // A bridge's ports and a port's interfaces, by the UUIDs the database holds.
            parent @ ("Bridge" | "Port") => {
                let (column, child) = match parent {
                    "Bridge" => ("ports", "Port"),
                    _ => ("interfaces", "Interface"),
                };
                let holder = name(row);
                let held = vsctl_get(&db, &["get", parent, &holder, column]);
                for member in refs(&columns[column]) {
                    let uuid = vsctl_get(&db, &["get", child, &member, "_uuid"]);
                    assert!(
                        held.contains(&uuid),
                        "{parent} {holder} lacks {member}: {held}"
                    );
                }
            }
            "Interface" => {
                let want = columns["type"].as_str().unwrap_or("");
                let iface = name(row);
                assert_eq!(
                    vsctl_get(&db, &["get", "Interface", &iface, "type"]),
                    want,
                    "{iface}"
                );
            }
            other => panic!("unexpected chassis table {other}"),
        }
    }
}

/// An ovs-vsctl query's output, trimmed and unquoted.
fn vsctl_get(db: &str, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_matches('"')
        .to_owned()
}

/// `ovs-vsctl set Open_vSwitch . external_ids:KEY=VALUE`, as an operator on the chassis would.
fn set_external_id(db: &str, key: &str, value: &str) {
    let id = format!("external_ids:{key}={value}");
    vsctl(db, &["set", "Open_vSwitch", ".", &id]);
}

/// The chassis's `ovn-bridge-mappings`, as ovs-vsctl reads it.
fn mappings(db: &str) -> String {
    vsctl_get(
        db,
        &[
            "get",
            "Open_vSwitch",
            ".",
            "external_ids:ovn-bridge-mappings",
        ],
    )
}

/// `apply --wait hv` while a chassis's ovn-controller is stopped: in a log (not a terminal)
/// plain lines every few seconds name the chassis that lags and the ones that caught up, so
/// the wait never looks hung; the deadline then names it too.
#[test]
fn a_long_wait_names_the_lagging_chassis_in_plain_lines() {
    crate::require_ovn!();
    let Some(lab) = Lab::up() else {
        return;
    };
    let (file, dir, d) = (FILE, &lab.dir, lab.d());
    // The lab's own node1 ovn-controller, by the PID the lab recorded; continued however the
    // test ends.
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lab.json")).unwrap()).unwrap();
    let pid = state["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "node1/ovn-controller")
        .and_then(|p| p["pid"].as_i64())
        .expect("node1's ovn-controller in lab.json");
    let stopped = Stopped::new(i32::try_from(pid).unwrap());
    let started = std::time::Instant::now();
    let (code, out) = topo(&[
        "apply",
        file,
        "--lab",
        d,
        "--yes",
        "--wait",
        "hv",
        "--timeout",
        "8",
    ]);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("waiting for the chassis (hv_cfg)"))
        .collect();
    assert!(lines.len() >= 2, "{out}");
    for l in &lines {
        assert!(l.contains("caught up: master; waiting for: node1"), "{l}");
    }
    // miette wraps long messages: compare with the line breaks folded.
    assert!(
        crate::support::folded(&out).contains("lagging: node1"),
        "{out}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    // Continued, node1 catches up and the same apply completes.
    drop(stopped);
    let (code, out) = apply_wait_hv(file, d);
    assert_eq!(code, Some(0), "{out}");
}

/// `topo apply FILE --lab D --yes --wait hv --timeout 60`.
fn apply_wait_hv(file: &str, d: &str) -> (Option<i32>, String) {
    topo(&[
        "apply",
        file,
        "--lab",
        d,
        "--yes",
        "--wait",
        "hv",
        "--timeout",
        "60",
    ])
}

/// A lab process stopped with SIGSTOP (by PID), continued when dropped.
struct Stopped(rustix::process::Pid);

impl Stopped {
    fn new(pid: i32) -> Stopped {
        let pid = rustix::process::Pid::from_raw(pid).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = rustix::process::kill_process(self.0, rustix::process::Signal::CONT);
    }
}

//! A running lab follows its topology (`topo lab up FILE` again reconciles it) and its
//! chassis can be stopped and started for failover drills (`topo lab chassis`), through the
//! CLI as a user runs them.

use std::collections::BTreeMap;

use super::*;

/// `topo ARGS...`: exit code and output.
fn topo(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// role -> (pid, start time) of every recorded process that runs.
fn running(dir: &Path) -> BTreeMap<String, (i32, u64)> {
    LabState::load(dir)
        .unwrap()
        .unwrap()
        .processes
        .iter()
        .filter(|p| p.alive())
        .map(|p| (p.role.clone(), (p.pid, p.start_time)))
        .collect()
}

fn lab_dir(prefix: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap()
}

/// `topo lab up` of `file` in `dir`, which must succeed; its output.
fn lab_up(file: &Path, dir: &Path) -> String {
    let (code, out) = topo(&[
        "lab",
        "up",
        file.to_str().unwrap(),
        "--lab",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    out
}

fn apply_and_verify(file: &Path, dir: &Path, checks: usize) {
    let state = LabState::load(dir).unwrap().unwrap();
    apply(file, &state);
    let (code, out) = verify(file, dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("{checks} of {checks} checks passed")),
        "{out}"
    );
}

#[test]
fn a_running_lab_adds_and_removes_vms_chassis_and_networks_restarting_nothing_else() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/topologies/distributed-router.yaml"),
    )
    .unwrap();
    let files = TempDir::new().unwrap();
    let file = files.path().join("topology.yaml");
    std::fs::write(&file, &base).unwrap();
    let dir = lab_dir("tlf");
    let _down = DownOnDrop(dir.path().to_owned());
    lab_up(&file, dir.path());
    apply_and_verify(&file, dir.path(), 3);
    let before = running(dir.path());
    let first = LabState::load(dir.path()).unwrap().unwrap();

    // A port added to ls1 on a running chassis, a new chassis with a port of ls2, and a
    // physical network with two hosts.
    let grown = base
        .replace(
            "  node1:  { encap: { type: geneve, ip: 172.17.42.161 } }\n",
            "  node1:  { encap: { type: geneve, ip: 172.17.42.161 } }\n  \
             node2:  { encap: { type: geneve, ip: 172.17.42.162 }, bridge-mappings: { physnet: br-phys } }\n",
        )
        .replace(
            "chassis: master }\n  ls2:",
            "chassis: master }\n      \
             ls1-vm3: { mac: \"00:00:00:00:00:05\", ip: 10.10.10.4, port-security: true, chassis: master }\n  ls2:",
        )
        .replace(
            "chassis: node1 }\n\nrouters:",
            "chassis: node1 }\n      \
             ls2-vm3: { mac: \"00:00:00:00:00:06\", ip: 10.10.20.4, port-security: true, chassis: node2 }\n\nrouters:",
        )
        .replace(
            "checks:\n",
            "lab:\n  networks:\n    physnet:\n      subnet: 172.18.1.0/24\n      \
             hosts: { h1: 172.18.1.10, h2: 172.18.1.20 }\n\nchecks:\n  \
             - { from: ls1-vm3, to: ls2-vm3, expect: reachable }\n  \
             - { from: ls2-vm3, to: ls1-vm2, expect: reachable }\n  \
             - { from: h1, to: h2, expect: reachable }\n",
        );
    assert_eq!(grown.matches("vm3").count(), 5, "{grown}");
    std::fs::write(&file, &grown).unwrap();
    // Before the lab follows, verify cannot run the new checks: no such VM.
    let (code, out) = verify(&file, dir.path());
    assert_eq!(code, Some(1), "{out}");
    let out = lab_up(&file, dir.path());
    for line in [
        "+ chassis node2",
        "+ network physnet",
        "+ host h1 172.18.1.10 on physnet",
        "+ vm ls1-vm3 on master",
        "+ vm ls2-vm3 on node2",
        "~ checks (6)",
        "= 2 chassis, 4 VMs, 0 networks unchanged",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    // Nothing that did not change was restarted: the same PIDs (and start times) run.
    let after = running(dir.path());
    for (role, pid) in &before {
        assert_eq!(after.get(role), Some(pid), "{role} was restarted");
    }
    assert!(after.contains_key("node2/ovn-controller"), "{after:?}");
    apply_and_verify(&file, dir.path(), 6);
    let grown_state = LabState::load(dir.path()).unwrap().unwrap();
    // lab.json and topo.toml say what runs.
    assert!(grown_state.chassis("node2").is_some());
    let targets = lab::targets::Targets::read(dir.path()).unwrap();
    assert!(targets.chassis.contains_key("node2"));

    // The same file again: nothing to do.
    let out = lab_up(&file, dir.path());
    assert!(out.contains("(0 change(s)"), "{out}");
    assert!(
        out.contains("= 3 chassis, 6 VMs, 1 network unchanged"),
        "{out}"
    );
    assert_eq!(running(dir.path()), after);

    // Back to the first topology: what was added goes, and only that.
    std::fs::write(&file, &base).unwrap();
    let out = lab_up(&file, dir.path());
    for line in [
        "- vm ls1-vm3",
        "- vm ls2-vm3",
        "- network physnet",
        "- host h2",
        "- chassis node2",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    assert_eq!(running(dir.path()), before);
    for p in grown_state
        .processes
        .iter()
        .filter(|p| p.role.starts_with("node2/"))
    {
        assert!(!p.alive(), "{} still runs", p.role);
    }
    let gone: Vec<&String> = grown_state
        .namespaces
        .iter()
        .filter(|ns| !first.namespaces.contains(ns))
        .collect();
    assert_eq!(gone.len(), 6, "{gone:?}");
    for ns in gone {
        assert!(!lab::netns::exists(ns), "{ns} left");
    }
    // node2 left the Southbound database with its encap.
    let sb = Command::new("ovn-sbctl")
        .arg(format!("--db={}", first.sb))
        .args(["--bare", "--columns=name", "list", "Chassis"])
        .output()
        .unwrap();
    let sb = String::from_utf8_lossy(&sb.stdout);
    assert!(!sb.contains("node2"), "{sb}");
    apply_and_verify(&file, dir.path(), 3);
    teardown_and_assert_clean(dir.path(), &grown_state);
}

/// Polls `check` (each try bounded by its own deadlines) until it passes or `limit` passes.
fn passes_within(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Some(start.elapsed());
        }
    }
    None
}

#[test]
fn a_stopped_gateway_chassis_fails_over_and_rejoins_when_started() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/topologies/dgp-ha-group.yaml");
    let dir = lab_dir("tlg");
    let _down = DownOnDrop(dir.path().to_owned());
    let d = dir.path().to_str().unwrap();
    lab_up(&file, dir.path());
    apply_and_verify(&file, dir.path(), 2);
    let state = LabState::load(dir.path()).unwrap().unwrap();
    // Right after apply the backup may hold the port until BFD is up between the gateways.
    wait_bound(&rt, &state, "cr-lr1-ext", "gw1");
    let before = running(dir.path());

    let (code, out) = topo(&["lab", "chassis", "stop", "gw1", "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    for daemon in ["ovn-controller", "ovs-vswitchd", "ovsdb-server"] {
        assert!(out.contains(&format!("stopped gw1/{daemon}")), "{out}");
    }
    let (code, out) = topo(&["lab", "status", "--lab", d]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            ": Degraded (stopped: gw1/ovsdb-server, gw1/ovs-vswitchd, gw1/ovn-controller)"
        ),
        "{out}"
    );
    // North-south traffic resumes through gw2 (docs/lab.md has the measured time).
    let north_south = || {
        let out = Command::new(env!("CARGO_BIN_EXE_topo"))
            .arg("verify")
            .arg(&file)
            .args(["--lab", d, "--check", "2"])
            .output()
            .unwrap();
        out.status.success()
    };
    let took = passes_within(Duration::from_secs(60), north_south)
        .expect("no failover to gw2 within 60 s");
    eprintln!("failover: north-south check passes again after {took:?}");
    wait_bound(&rt, &state, "cr-lr1-ext", "gw2");
    let (code, out) = verify(&file, dir.path());
    assert_eq!(code, Some(0), "through gw2:\n{out}");

    let (code, out) = topo(&["lab", "chassis", "start", "gw1", "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("started gw1/ovn-controller"), "{out}");
    let (code, out) = topo(&["lab", "status", "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(": Up\n"), "{out}");
    // gw1 rejoined as itself: the higher priority takes the gateway port back.
    let rejoined = passes_within(Duration::from_secs(60), || {
        std::thread::sleep(Duration::from_millis(100));
        rt.block_on(lab::checks::binding(&state, "cr-lr1-ext"))
            .starts_with("bound to chassis gw1 ")
    })
    .expect("cr-lr1-ext never came back to gw1");
    eprintln!("rejoin: cr-lr1-ext back on gw1 after {rejoined:?}");
    let (code, out) = verify(&file, dir.path());
    assert_eq!(code, Some(0), "after gw1 rejoined:\n{out}");
    // Only gw1's daemons have new PIDs.
    let after = running(dir.path());
    for (role, pid) in &before {
        if role.starts_with("gw1/") {
            assert_ne!(after.get(role), Some(pid), "{role}");
            assert!(after.contains_key(role), "{role} not running");
        } else {
            assert_eq!(after.get(role), Some(pid), "{role} was restarted");
        }
    }
    // `restart` is stop + start; `start` of a running chassis does nothing.
    let (code, out) = topo(&["lab", "chassis", "start", "gw2", "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("nothing to start"), "{out}");
    let (code, out) = topo(&["lab", "chassis", "restart", "hv1", "--lab", d]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stopped hv1/ovs-vswitchd"), "{out}");
    assert!(out.contains("started hv1/ovs-vswitchd"), "{out}");
    let (code, out) = topo(&["lab", "chassis", "stop", "nope", "--lab", d]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no chassis `nope`"), "{out}");
    // hv1 holds tenant-vm1: its traffic flows again after the restart.
    let ok = passes_within(Duration::from_secs(60), || {
        verify(&file, dir.path()).0 == Some(0)
    });
    assert!(ok.is_some(), "{}", verify(&file, dir.path()).1);
    let last = LabState::load(dir.path()).unwrap().unwrap();
    teardown_and_assert_clean(dir.path(), &last);
    for p in &state.processes {
        assert!(!p.alive(), "{} still runs", p.role);
    }
}

//! The bundled lab against the real OVN daemons: each test brings up its own lab in its own
//! directory, builds the logical topology with `ovn-nbctl` (the reference client), sends
//! real packets, and proves that `down` leaves no process, namespace or link behind.
//!
//! Root and the OVN/OVS packages are required. Under `CI=true` a missing requirement fails
//! the test; elsewhere the test is skipped with a note. Lab tests run one at a time (the
//! daemons of two labs at once would crowd a 2-core machine).

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use topo::lab::checks::{CheckOptions, Verdict};
use topo::lab::{self, CheckSpec, Expect, LabSpec, LabState, UpOptions};

mod follow;

static SERIAL: Mutex<()> = Mutex::new(());

const TOOLS: &[&str] = &[
    "ovsdb-server",
    "ovsdb-tool",
    "ovs-vswitchd",
    "ovn-northd",
    "ovn-controller",
    "ovn-nbctl",
    "ovn-trace",
    "ip",
    "ping",
    "tcpdump",
    "socat",
    "busybox",
    "ss",
    "ethtool",
];

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        || Path::new("/usr/sbin").join(tool).is_file()
}

/// Whether the lab can run here; under CI a missing requirement is a failure.
fn lab_available() -> bool {
    let mut missing: Vec<String> = TOOLS
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| t.to_string())
        .collect();
    if !rustix::process::getuid().is_root() {
        missing.push("root".into());
    }
    present_or_skip("lab tests", &missing)
}

/// `true` when nothing is `missing`; otherwise what `what` needs, as a failure under
/// `CI=true` and a loud skip elsewhere.
fn present_or_skip(what: &str, missing: &[impl AsRef<str>]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let names: Vec<&str> = missing.iter().map(AsRef::as_ref).collect();
    let msg = format!("{what} need {} (scripts/install-deps.sh)", names.join(", "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipping: {msg}");
    false
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A running lab that is torn down when dropped, also when the test panics.
struct TestLab {
    dir: TempDir,
    state: LabState,
    finished: bool,
}

impl TestLab {
    fn up(rt: &tokio::runtime::Runtime, spec: LabSpec) -> TestLab {
        // Short path: unix socket paths must stay under 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("tl")
            .tempdir_in("/tmp")
            .unwrap();
        let start = Instant::now();
        let state = rt
            .block_on(lab::up(spec, dir.path(), &UpOptions::default()))
            .unwrap_or_else(|e| panic!("lab up: {:?}", miette::Report::new(e)));
        eprintln!(
            "lab {} up in {:.2} s",
            state.id,
            start.elapsed().as_secs_f64()
        );
        TestLab {
            dir,
            state,
            finished: false,
        }
    }

    fn nbctl(&self, args: &[&str]) {
        let db = format!("--db={}", self.state.nb);
        let out = Command::new("ovn-nbctl")
            .arg(&db)
            .arg("--timeout=10")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ovn-nbctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Builds the logical topology of example `name` (`examples/lab/NAME.nb.sh`).
    fn apply_example(&self, name: &str) {
        let script = examples().join(format!("{name}.nb.sh"));
        let out = Command::new("bash")
            .arg(&script)
            .arg(&self.state.nb)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The example's own checks.
    fn run_spec_checks(&self, rt: &tokio::runtime::Runtime) -> Vec<lab::CheckResult> {
        self.check(rt, &self.state.spec.checks, &CheckOptions::default())
    }

    fn check(
        &self,
        rt: &tokio::runtime::Runtime,
        checks: &[CheckSpec],
        options: &CheckOptions,
    ) -> Vec<lab::CheckResult> {
        rt.block_on(lab::run_checks(&self.state, checks, options))
    }

    /// Tears down and proves nothing of the lab is left.
    fn finish(mut self) {
        self.finished = true;
        teardown_and_assert_clean(self.dir.path(), &self.state);
    }
}

impl Drop for TestLab {
    fn drop(&mut self) {
        if !self.finished {
            let _ = lab::down(self.dir.path());
        }
    }
}

fn teardown_and_assert_clean(dir: &Path, state: &LabState) {
    let report = lab::down(dir).unwrap();
    assert!(!report.absent);
    // Idempotent.
    assert!(lab::down(dir).unwrap().absent);
    for p in &state.processes {
        assert!(!p.alive(), "{} (pid {}) still runs", p.role, p.pid);
    }
    let left: Vec<String> = lab::netns::list()
        .unwrap()
        .into_iter()
        .filter(|ns| lab::names::is_of_lab(&state.id, ns))
        .collect();
    assert!(left.is_empty(), "namespaces left: {left:?}");
    for ns in &state.namespaces {
        assert!(!lab::netns::exists(ns), "{ns} left");
    }
    // Nothing the lab names ever lands in the root namespace.
    let root = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .unwrap();
    let root = String::from_utf8_lossy(&root.stdout);
    for name in ["br-phy", "br-int", "genev_sys_6081"] {
        assert!(
            !root.lines().any(|l| l.split(": ").nth(1) == Some(name)),
            "{name} in the root namespace"
        );
    }
}

fn check(from: &str, to: &str, expect: Expect) -> CheckSpec {
    CheckSpec {
        name: None,
        from: from.into(),
        to: to.into(),
        expect,
        port: None,
    }
}

fn assert_all_pass(results: &[lab::CheckResult]) {
    let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    assert!(
        failed.is_empty(),
        "failed checks:\n{}",
        lab::checks::render(results)
    );
}

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab")
}

/// `examples/lab/NAME.yaml`.
fn example(name: &str) -> LabSpec {
    LabSpec::load(&examples().join(format!("{name}.yaml"))).unwrap()
}

/// Waits for one geneve packet on the underlay bridge while `ping` runs.
fn geneve_seen(state: &LabState, ping: impl FnOnce()) -> String {
    let underlay = lab::names::netns(&state.id, lab::names::Kind::Underlay, "");
    let mut tcpdump = Command::new("timeout")
        .args(["10", "ip", "netns", "exec", &underlay])
        .args([
            "tcpdump",
            "-n",
            "-l",
            "-c",
            "1",
            "-i",
            "br0",
            "udp port 6081",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Ready once it listens (its stderr says so).
    let stderr = tcpdump.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let first = if first.contains("listening") {
        first
    } else {
        lines.next().and_then(Result::ok).unwrap_or_default()
    };
    assert!(first.contains("listening"), "tcpdump: {first}");
    ping();
    let out = tcpdump.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn east_west_between_chassis_runs_over_geneve() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let lab = TestLab::up(&rt, example("east-west"));
    let configured = Instant::now();
    lab.apply_example("east-west");
    let results = lab.run_spec_checks(&rt);
    eprintln!(
        "logical config to first successful ping: {:.2} s",
        configured.elapsed().as_secs_f64()
    );
    assert_all_pass(&results);
    // The packets really crossed the underlay in geneve between the two encap IPs.
    let vm1 = &lab.state.endpoints["vm1"];
    let seen = geneve_seen(&lab.state, || {
        lab::checks::ping(
            &vm1.netns,
            "10.10.10.3".parse().unwrap(),
            Duration::from_secs(5),
        )
        .unwrap();
    });
    assert!(seen.contains("Geneve"), "{seen}");

    // Without vm2's logical port, the check fails; the diagnosis says so and traces both ways.
    lab.nbctl(&["--wait=hv", "lsp-del", "vm2"]);
    let results = lab.check(
        &rt,
        &[check("vm1", "vm2", Expect::Reachable)],
        &CheckOptions {
            reachable_deadline: Duration::from_secs(2),
            ..CheckOptions::default()
        },
    );
    assert!(!results[0].passed);
    let diagnosis = results[0].diagnosis.as_deref().unwrap_or_default();
    assert!(
        diagnosis.contains("binding vm1: bound to chassis ch1"),
        "{diagnosis}"
    );
    assert!(
        diagnosis.contains("binding vm2: no Port_Binding"),
        "{diagnosis}"
    );
    assert!(diagnosis.contains("icmp4.type == 8"), "{diagnosis}");
    assert!(diagnosis.contains("the reply:"), "{diagnosis}");
    assert!(diagnosis.contains("icmp4.type == 0"), "{diagnosis}");
    assert!(
        seen.contains("172.17.42.1") && seen.contains("172.17.42.2"),
        "{seen}"
    );
    lab.finish();
}

#[test]
fn l3_gateway_snat_is_what_the_outside_host_sees() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let lab = TestLab::up(&rt, example("l3-gateway"));
    // The chassis settings went through ch1's own Open_vSwitch database.
    let (ids, ports) = rt.block_on(async {
        let c = lab.state.chassis("ch1").unwrap();
        let vs = topo::live::vswitch::Vswitch::connect(&c.remote, Duration::from_secs(5))
            .await
            .unwrap();
        let ids = vs.external_ids().await.unwrap();
        let ports = vs.ports("br-ex").await.unwrap();
        (ids, ports)
    });
    assert_eq!(ids["ovn-bridge-mappings"], "externalnet:br-ex");
    assert!(ports.contains(&"nic0".to_owned()), "{ports:?}");

    let configured = Instant::now();
    lab.apply_example("l3-gateway");
    let results = lab.run_spec_checks(&rt);
    eprintln!(
        "logical config to all checks passing: {:.2} s",
        configured.elapsed().as_secs_f64()
    );
    assert_all_pass(&results);
    assert!(
        results[0].evidence.contains("ttl=62"),
        "{}",
        results[0].evidence
    );

    // A wrong expectation fails with what was seen.
    let wrong = lab.check(
        &rt,
        &[check(
            "vm1",
            "client",
            Expect::SourceIp("10.10.10.2".parse().unwrap()),
        )],
        &CheckOptions {
            diagnose: false,
            ..CheckOptions::default()
        },
    );
    assert!(!wrong[0].passed);
    assert!(
        wrong[0].evidence.contains("10.10.40.1"),
        "{}",
        wrong[0].evidence
    );

    // Without the return route the reply is lost: reachable fails, with a trace.
    // `--wait=hv`: the chassis have applied it before the check runs.
    lab.nbctl(&["--wait=hv", "lr-route-del", "lr2", "10.10.10.0/24"]);
    let results = lab.check(
        &rt,
        &[check("vm1", "client", Expect::Reachable)],
        &CheckOptions {
            reachable_deadline: Duration::from_secs(3),
            ..CheckOptions::default()
        },
    );
    assert!(!results[0].passed, "{}", lab::checks::render(&results));
    let diagnosis = results[0].diagnosis.as_deref().unwrap_or_default();
    assert!(diagnosis.contains("bound to chassis ch2"), "{diagnosis}");
    assert!(diagnosis.contains("ovn-trace"), "{diagnosis}");
    assert!(diagnosis.contains("lr2-lslocal"), "{diagnosis}");
    lab.finish();
}

#[test]
fn switches_without_a_router_are_unreachable() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let lab = TestLab::up(&rt, example("isolated"));
    lab.apply_example("isolated");
    let results = lab.run_spec_checks(&rt);
    assert_eq!(results.len(), 3);
    assert_eq!(results[1].check.expect, Expect::Unreachable);
    assert_all_pass(&results);
    lab.finish();
}

#[test]
fn ha_gateway_fails_over_to_the_backup_chassis() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    // Three chassis: with only two, the backup sees BFD down to every peer when the active
    // one dies and keeps off the port (OVN's guard against split brain).
    let lab = TestLab::up(&rt, example("ha-gateway"));
    lab.apply_example("ha-gateway");
    assert_all_pass(&lab.run_spec_checks(&rt));
    // Right after the topology is created, before BFD is up between the gateways, the
    // backup may hold the port for a moment: wait until the active one has it.
    wait_bound(&rt, &lab.state, "cr-lr1-ext", "ch1");

    let active = lab.state.process("ch1/ovs-vswitchd").unwrap().clone();
    lab::process::terminate(&active, Duration::from_secs(5)).unwrap();
    // Traffic resumes through ch2 (scripts/lab-bench.sh measures how fast).
    let results = lab.check(
        &rt,
        &[
            check("vm1", "client", Expect::Reachable),
            check(
                "vm1",
                "client",
                Expect::SourceIp("10.10.40.1".parse().unwrap()),
            ),
        ],
        &CheckOptions {
            reachable_deadline: Duration::from_secs(30),
            ..CheckOptions::default()
        },
    );
    assert_all_pass(&results);
    wait_bound(&rt, &lab.state, "cr-lr1-ext", "ch2");
    lab.finish();
}

/// `topo verify FILE --lab DIR`: exit code and output.
fn verify(file: &Path, lab_dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .arg("verify")
        .arg(file)
        .arg("--lab")
        .arg(lab_dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// `topo apply -y FILE --lab DIR --wait hv` against the lab: the NB rows, then each
/// chassis's bridge mappings and provider bridges.
fn apply(file: &Path, state: &LabState) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(["apply", "-y"])
        .arg(file)
        .arg("--lab")
        .arg(&state.dir)
        .args(["--wait", "hv", "--timeout", "60"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "topo apply {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits (at most 10 s) until logical port `port` is bound to `chassis`.
fn wait_bound(rt: &tokio::runtime::Runtime, state: &LabState, port: &str, chassis: &str) {
    let want = format!("bound to chassis {chassis} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let bound = rt.block_on(lab::checks::binding(state, port));
        if bound.starts_with(&want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{port}: {bound}, not on {chassis}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The lab a topology file describes.
fn topology_lab(path: &Path) -> LabSpec {
    let loaded = topo::spec::load_paths(&[path.to_owned()]);
    assert!(
        !loaded.diagnostics.has_errors(),
        "{}: {:?}",
        path.display(),
        loaded.diagnostics
    );
    let (model, diags) = topo::compiler::check(&loaded.topology);
    let model = model.unwrap_or_else(|| panic!("{}: {diags:?}", path.display()));
    LabSpec::from_model(&model).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_example_topology_comes_up_applies_and_passes_its_checks() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/topologies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    for file in &files {
        let spec = topology_lab(file);
        assert!(spec.chassis.len() >= 2, "{}", file.display());
        assert!(
            !spec.checks.is_empty(),
            "{} declares no checks",
            file.display()
        );
        let lab = TestLab::up(&rt, spec);
        let applied = Instant::now();
        apply(file, &lab.state);
        let plan = Command::new(env!("CARGO_BIN_EXE_topo"))
            .arg("plan")
            .arg(file)
            .arg("--lab")
            .arg(&lab.state.dir)
            .output()
            .unwrap();
        assert_eq!(
            plan.status.code(),
            Some(0),
            "{}: plan after apply is not empty:\n{}",
            file.display(),
            String::from_utf8_lossy(&plan.stdout)
        );
        let (code, out) = verify(file, &lab.state.dir);
        eprintln!(
            "{}: apply to all checks passing in {:.2} s",
            file.display(),
            applied.elapsed().as_secs_f64()
        );
        assert_eq!(code, Some(0), "{}:\n{out}", file.display());
        let n = lab.state.spec.checks.len();
        assert!(out.contains(&format!("{n} of {n} checks passed")), "{out}");
        lab.finish();
    }
}

#[test]
fn verify_fails_on_a_missing_return_route_with_a_trace() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    // The seed's gateway router without its return routes to the tenant networks.
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/topologies/gateway-router.yaml"),
    )
    .unwrap();
    let routes = "    routes:\n      # Return routes to the tenant networks behind lr1.\n      \
                  - { prefix: 10.10.10.0/24, nexthop: 10.10.30.1 }\n      \
                  - { prefix: 10.10.20.0/24, nexthop: 10.10.30.1 }\n";
    let broken = good.replace(routes, "");
    assert_ne!(broken, good);
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("no-return-route.yaml");
    std::fs::write(&file, broken).unwrap();

    let lab = TestLab::up(&rt, topology_lab(&file));
    apply(&file, &lab.state);
    let (code, out) = verify(&file, &lab.state.dir);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ls1-vm1 -> client reachable             FAIL"),
        "{out}"
    );
    // The request still leaves through the SNAT: only the way back is missing.
    assert!(
        out.contains("client saw an echo request from 10.10.40.1"),
        "{out}"
    );
    assert!(
        out.contains("binding ls1-vm1: bound to chassis master"),
        "{out}"
    );
    assert!(out.contains("ovn-trace"), "{out}");
    assert!(out.contains("lr2-lslocal"), "{out}");
    lab.finish();
}

/// The IPv6 checks fail for OVN's reason: without lr2's IPv6 SNAT of ls2 the outside host
/// sees ls2-vm1's own address, and without lr2's IPv6 return route to ls1 the host's ping
/// to ls1-vm1 gets no reply; the IPv4 checks of the same topology still pass.
#[test]
fn ipv6_checks_fail_without_the_ipv6_snat_and_return_route() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/topologies/dual-stack.yaml"),
    )
    .unwrap();
    let route = "      - { prefix: \"fd00:10::/64\", nexthop: \"fd00:30::1\" }\n";
    let snat =
        "      - { type: snat, logical-ip: \"fd00:20::/64\", external-ip: \"fd00:40::1\" }\n";
    assert!(good.contains(route) && good.contains(snat));
    let broken = good.replace(route, "").replace(snat, "");
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("no-ipv6-snat.yaml");
    std::fs::write(&file, broken).unwrap();

    let lab = TestLab::up(&rt, topology_lab(&file));
    assert_eq!(
        lab.state.endpoints["ls2-vm1"].ipv6,
        ["fd00:20::2".parse::<std::net::Ipv6Addr>().unwrap()]
    );
    apply(&file, &lab.state);
    let (code, out) = verify(&file, &lab.state.dir);
    assert_eq!(code, Some(1), "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{out}"))
            .to_owned()
    };
    let snat = line("snat-v6");
    assert!(snat.contains("FAIL"), "{out}");
    assert!(
        snat.contains("client saw an echo request from fd00:20::2"),
        "{out}"
    );
    assert!(line("in-v6").contains("FAIL"), "{out}");
    assert!(line("in-v6").contains("no reply from fd00:10::2"), "{out}");
    for passing in ["snat-v4", "east-west-v6", "ssh-v6", "nowhere-v6"] {
        assert!(line(passing).contains("pass"), "{passing}:\n{out}");
    }
    // The diagnosis traces the IPv6 packet.
    assert!(
        out.contains("ip6.src == fd00:20::2 && ip6.dst == fd00:40::10"),
        "{out}"
    );
    assert!(out.contains("icmp6.type == 128"), "{out}");
    lab.finish();
}

/// `topo ARGS FILE --lab DIR` ([`topo_lab`] with flags): exit code, stdout and stderr.
fn topo_lab_with(args: &[&str], file: &Path, lab_dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(args)
        .arg(file)
        .arg("--lab")
        .arg(lab_dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The seed's DGP as the seed writes it (priorities master 1, node1 2; only master maps
/// `externalnet`), in the lab: node1 runs without the mapping, and plan reads it from the real
/// Southbound. Without `unmapped-ok`, plan exits 1 naming node1, lr1-lslocal and externalnet,
/// and apply refuses, writing nothing; with it, apply goes through, plan exits 0 with the
/// warning, and OVN binds the gateway (`cr-lr1-lslocal`) on node1, the active chassis that
/// lacks the network, as the finding says.
#[test]
fn the_seeds_dgp_in_the_lab_names_node1_from_the_real_southbound() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/topologies/dgp-seed-gateway-chassis.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let ack = "    unmapped-ok: [externalnet]\n";
    assert_eq!(text.matches(ack).count(), 1);
    let dir = TempDir::new().unwrap();
    let noack = dir.path().join("noack.yaml");
    std::fs::write(&noack, text.replace(ack, "")).unwrap();
    let names_node1 = |out: &str| {
        let line = out
            .lines()
            .find(|l| l.contains("does not map externalnet in the Southbound"))
            .unwrap_or_else(|| panic!("no finding in:\n{out}"));
        for word in [
            "chassis node1",
            "lr1-lslocal",
            "priority 2",
            "the active one",
        ] {
            assert!(line.contains(word), "{word}: {line}");
        }
        line.to_owned()
    };

    let lab = TestLab::up(&rt, topology_lab(&file));
    let (code, out) = topo_lab_with(&["plan"], &noack, &lab.state.dir);
    assert_eq!(code, Some(1), "{out}");
    assert!(names_node1(&out).contains("error (blocks apply)"), "{out}");
    let (code, out) = topo_lab_with(&["apply", "--yes"], &noack, &lab.state.dir);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("nothing was written"), "{out}");
    let (code, out) = topo_lab_with(&["plan"], &noack, &lab.state.dir);
    assert_eq!(code, Some(1), "still nothing applied:\n{out}");

    apply(&file, &lab.state);
    let (code, out) = topo_lab_with(&["plan"], &file, &lab.state.dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("No changes."), "{out}");
    assert!(names_node1(&out).contains("warning: "), "{out}");
    wait_bound(&rt, &lab.state, "cr-lr1-lslocal", "node1");
    lab.finish();
}

#[test]
fn down_cleans_up_a_crashed_lab_and_strays() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let lab = TestLab::up(&rt, example("east-west"));
    // A daemon died, `up` never finished (as after a crash), and something the lab did not
    // record runs in one of its namespaces.
    let vswitchd = lab.state.process("ch2/ovs-vswitchd").unwrap().clone();
    lab::process::terminate(&vswitchd, Duration::from_millis(10)).unwrap();
    let mut crashed = LabState::load(lab.dir.path()).unwrap().unwrap();
    crashed.phase = lab::state::Phase::Starting;
    crashed.save().unwrap();
    let vm1 = lab.state.endpoints["vm1"].netns.clone();
    let stray = Command::new("ip")
        .args(["netns", "exec", &vm1, "sleep", "300"])
        .spawn()
        .unwrap();
    let stray_pid = i32::try_from(stray.id()).unwrap();
    std::thread::spawn(move || {
        let mut stray = stray;
        let _ = stray.wait();
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !lab::netns::pids(&vm1).unwrap().contains(&stray_pid) {
        assert!(Instant::now() < deadline, "stray never entered {vm1}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = lab::status(lab.dir.path()).unwrap().unwrap();
    assert!(!status.healthy());
    assert!(
        status
            .processes
            .iter()
            .any(|p| p.role == "ch2/ovs-vswitchd" && !p.running)
    );
    let dir = lab.dir.path().to_owned();
    let state = lab.state.clone();
    lab.finish();
    assert!(
        lab::process::start_time(stray_pid).is_none(),
        "stray survived"
    );
    assert!(lab::status(&dir).unwrap().is_none());
    drop(state);
}

#[test]
fn cli_lab_up_status_check_down_and_two_labs_side_by_side() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let spec_dir = TempDir::new().unwrap();
    let file = spec_dir.path().join("lab.yaml");
    // Outside hosts on one physical network need no OVN logical config: the checks pass
    // as soon as the lab is up.
    std::fs::write(
        &file,
        r#"
name: physical
chassis:
  - { name: ch1, encap_ip: 172.17.42.1 }
networks:
  - name: physnet
    subnet: 172.18.1.0/24
    hosts: { client: 172.18.1.10, server: 172.18.1.20 }
    mapped_on: { ch1: br-ex }
checks:
  - { from: client, to: server, expect: reachable }
  - { from: server, to: client, expect: { source-ip: 172.18.1.20 } }
"#,
    )
    .unwrap();
    let topo = env!("CARGO_BIN_EXE_topo");
    let run = |args: &[&str]| {
        let out = Command::new(topo).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let a = tempfile::Builder::new()
        .prefix("tla")
        .tempdir_in("/tmp")
        .unwrap();
    let b = tempfile::Builder::new()
        .prefix("tlb")
        .tempdir_in("/tmp")
        .unwrap();
    let guard_a = DownOnDrop(a.path().to_owned());
    let guard_b = DownOnDrop(b.path().to_owned());
    let file = file.to_str().unwrap();
    for dir in [a.path(), b.path()] {
        let dir = dir.to_str().unwrap();
        let (code, out) = run(&["lab", "up", file, "--dir", dir]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("is up"), "{out}");
    }
    // A second `up` in the same directory follows the file: here, nothing changed.
    let (code, out) = run(&["lab", "up", file, "--dir", a.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("= 1 chassis, 0 VMs, 1 network unchanged"),
        "{out}"
    );
    // While another command changes the lab (its lock held), up, down and chassis commands
    // are refused at once and change nothing; status still reads it.
    {
        let held = std::fs::File::open(a.path().join("lab.lock")).unwrap();
        held.lock().unwrap();
        let dir = a.path().to_str().unwrap();
        for args in [
            vec!["lab", "up", file, "--lab", dir],
            vec!["lab", "down", "--lab", dir],
            vec!["lab", "chassis", "restart", "ch1", "--lab", dir],
        ] {
            let (code, out) = run(&args);
            assert_eq!(code, Some(1), "{args:?}: {out}");
            assert!(out.contains("topo::lab::busy"), "{args:?}: {out}");
        }
        let (code, out) = run(&["lab", "status", "--lab", dir]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(": Up"), "{out}");
    }

    let state_a = LabState::load(a.path()).unwrap().unwrap();
    let state_b = LabState::load(b.path()).unwrap().unwrap();
    assert_ne!(state_a.id, state_b.id);
    let targets = lab::targets::Targets::read(a.path()).unwrap();
    assert_eq!(targets.northbound.remote, state_a.nb);
    assert_eq!(targets.chassis["ch1"].remote, state_a.chassis[0].remote);
    assert_eq!(targets.chassis["ch1"].nics["physnet"], "nic0");

    for dir in [a.path(), b.path()] {
        let dir = dir.to_str().unwrap();
        let (code, out) = run(&["lab", "status", "--lab", dir]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("ch1/ovn-controller"), "{out}");
        let (code, out) = run(&["lab", "check", "--lab", dir]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("2 of 2 checks passed"), "{out}");
        // `--lab DIR` where a lab is a target: status and import too.
        let (code, out) = run(&["status", "--lab", dir]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("ch1"), "{out}");
        let (code, out) = run(&["import", "--lab", dir]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("name: imported"), "{out}");
    }
    for (dir, state) in [(a.path(), &state_a), (b.path(), &state_b)] {
        let d = dir.to_str().unwrap();
        let (code, out) = run(&["lab", "down", "--dir", d]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("lab removed"), "{out}");
        let (code, out) = run(&["lab", "down", "--dir", d]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("no lab"), "{out}");
        let (code, _) = run(&["lab", "status", "--dir", d]);
        assert_eq!(code, Some(1));
        for p in &state.processes {
            assert!(!p.alive(), "{} still runs", p.role);
        }
        assert!(
            !lab::netns::list()
                .unwrap()
                .iter()
                .any(|ns| lab::names::is_of_lab(&state.id, ns))
        );
    }
    drop((guard_a, guard_b));
}

/// Tears a lab down when dropped (for labs started through the CLI).
struct DownOnDrop(std::path::PathBuf);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        let _ = lab::down(&self.0);
    }
}

/// The check kinds the topology language cannot set up yet (services.nb.sh writes the rows
/// by hand): TCP and UDP ports through a switch and through ACLs that drop them, a lease
/// from OVN's DHCP, a load balancer spreading connections over two backends and, once one
/// backend's listener stops, its health check taking that backend out. Also: `--check`
/// runs a subset in the checks' order, and a check that cannot leave its namespace is a
/// setup error.
#[test]
fn port_dhcp_and_load_balancer_checks_against_hand_written_rows() {
    if !lab_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let lab = TestLab::up(&rt, example("services"));
    lab.apply_example("services");
    for (port, chassis) in [("client", "ch1"), ("web1", "ch1"), ("web2", "ch2")] {
        wait_bound(&rt, &lab.state, port, chassis);
    }
    let checks = &lab.state.spec.checks;
    let health = checks
        .iter()
        .position(|c| c.name.as_deref() == Some("web-health"))
        .unwrap();
    let all_but_health: Vec<usize> = (0..checks.len()).filter(|i| *i != health).collect();
    let start = Instant::now();
    let results = lab.check(
        &rt,
        checks,
        &CheckOptions {
            only: all_but_health.clone(),
            ..CheckOptions::default()
        },
    );
    eprintln!(
        "{} checks in {:.1} s:\n{}",
        results.len(),
        start.elapsed().as_secs_f64(),
        lab::checks::render(&results)
    );
    assert_all_pass(&results);
    let order: Vec<usize> = results.iter().map(|r| r.index - 1).collect();
    assert_eq!(order, all_but_health, "reported in the checks' order");
    let web = results
        .iter()
        .find(|r| r.check.name.as_deref() == Some("web"))
        .unwrap();
    assert!(
        web.evidence.contains("web1 x") && web.evidence.contains("web2 x"),
        "{}",
        web.evidence
    );
    let lease = results
        .iter()
        .find(|r| r.check.name.as_deref() == Some("lease"))
        .unwrap();
    assert!(
        lease.evidence.contains("10.0.1.10/24"),
        "{}",
        lease.evidence
    );

    // The health check takes the stopped backend out.
    let results = lab.check(
        &rt,
        checks,
        &CheckOptions {
            only: vec![health],
            ..CheckOptions::default()
        },
    );
    assert_all_pass(&results);
    assert!(
        results[0].evidence.contains("web2 stopped"),
        "{}",
        results[0].evidence
    );

    // No route out of `lonely`: not a pass, a setup error.
    let no_route = CheckSpec {
        name: Some("no-route".into()),
        ..check("lonely", "192.0.2.1", Expect::Unreachable)
    };
    let results = lab.check(&rt, &[no_route], &CheckOptions::default());
    assert_eq!(
        results[0].verdict,
        Verdict::Error,
        "{}",
        lab::checks::render(&results)
    );
    assert!(
        results[0].evidence.contains("no route"),
        "{}",
        results[0].evidence
    );

    // `--check NAME|INDEX` from the command line, in the checks' order.
    let topo = env!("CARGO_BIN_EXE_topo");
    let dir = lab.state.dir.to_str().unwrap();
    let out = Command::new(topo)
        .args([
            "lab", "check", "--lab", dir, "--check", "dns", "--check", "1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ssh = text.find("1. ssh").unwrap();
    let dns = text.find("2. dns").unwrap();
    assert!(ssh < dns && text.contains("2 of 2 checks passed"), "{text}");
    let out = Command::new(topo)
        .args(["lab", "check", "--lab", dir, "--check", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no check `nope`"));

    // Every listener and DHCP client was stopped: nothing runs in the VMs.
    for vm in ["client", "web1", "web2", "lonely"] {
        let ns = &lab.state.endpoints[vm].netns;
        assert_eq!(lab::netns::pids(ns).unwrap(), Vec::<i32>::new(), "{vm}");
    }
    lab.finish();
}

/// Whether the VTEP emulator and `ovn-controller-vtep` are installed (Debian's
/// `openvswitch-vtep` and `ovn-controller-vtep`); under CI a missing one is a failure.
fn vtep_available() -> bool {
    let missing: Vec<&str> = ["ovn-controller-vtep", "vtep-ctl"]
        .into_iter()
        .filter(|t| !on_path(t))
        .chain(
            (!Path::new("/usr/share/openvswitch/scripts/ovs-vtep").is_file()).then_some("ovs-vtep"),
        )
        .collect();
    present_or_skip("the VTEP lab tests", &missing)
}

/// `topo SUBCOMMAND FILE --lab DIR`: exit code and output.
fn topo_lab(subcommand: &str, file: &Path, lab_dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .arg(subcommand)
        .arg(file)
        .arg("--lab")
        .arg(lab_dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn vtep_gateway_host_and_vms_reach_each_other_and_a_removed_binding_is_drift() {
    if !lab_available() || !vtep_available() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/topologies/vtep-gateway.yaml");
    let lab = TestLab::up(&rt, topology_lab(&file));
    let vtep = lab.state.vteps.first().expect("the lab's VTEP").clone();
    apply(&file, &lab.state);
    let (code, out) = topo_lab("plan", &file, &lab.state.dir);
    assert_eq!(code, Some(0), "plan after apply:\n{out}");
    let (code, out) = verify(&file, &lab.state.dir);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("4 of 4 checks passed"), "{out}");
    // ovn-controller-vtep set the VTEP logical switch's tunnel key (topo never writes it).
    let vtep_ctl = |args: &[&str]| {
        let out = Command::new("vtep-ctl")
            .arg(format!("--db={}", vtep.remote))
            .arg("--timeout=10")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "vtep-ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let key = vtep_ctl(&["get", "Logical_Switch", "vtep-ls1", "tunnel_key"]);
    assert!(
        key.parse::<i64>().is_ok_and(|k| k > 0),
        "tunnel_key {key:?}"
    );
    // `topo compile`'s rows of the VTEP are what the database holds after apply.
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(["compile", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let of_vtep: Vec<&serde_json::Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["db"] == "vtep/vtep1")
        .collect();
    assert_eq!(of_vtep.len(), 3, "{of_vtep:?}");
    for row in of_vtep {
        let c = &row["columns"];
        let name = c["name"].as_str().unwrap();
        match row["table"].as_str().unwrap() {
            "Physical_Switch" => assert_eq!(
                vtep_ctl(&["get", "Physical_Switch", name, "tunnel_ips"]),
                format!("[\"{}\"]", c["tunnel_ips"].as_str().unwrap())
            ),
            "Logical_Switch" => assert!(vtep_ctl(&["list-ls"]).lines().any(|l| l == name)),
            "Physical_Port" => {
                let want: Vec<String> = c["vlan_bindings"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(vlan, ls)| {
                        let vlan: u16 = vlan.parse().unwrap();
                        format!("{vlan:04} {}", ls["ref"][1].as_str().unwrap())
                    })
                    .collect();
                assert_eq!(vtep_ctl(&["list-bindings", "vtep1", name]), want.join("\n"));
            }
            other => panic!("unexpected VTEP table {other}"),
        }
    }
    // A binding removed by hand is drift, and apply puts it back.
    vtep_ctl(&["unbind-ls", "vtep1", "p0", "0"]);
    // A plan saved now goes stale when the VTEP moves again: apply refuses it.
    let saved = lab.dir.path().join("vtep.plan.json");
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .arg("plan")
        .arg(&file)
        .arg("--lab")
        .arg(&lab.state.dir)
        .arg("--out")
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    vtep_ctl(&["bind-ls", "vtep1", "p0", "7", "vtep-ls1"]);
    vtep_ctl(&[
        "set",
        "Physical_Switch",
        "vtep1",
        "tunnel_ips=172.17.42.181",
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(["apply", "-y"])
        .arg(&saved)
        .arg("--lab")
        .arg(&lab.state.dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("VTEP vtep1 changed since the plan read it"),
        "{err}"
    );
    vtep_ctl(&[
        "set",
        "Physical_Switch",
        "vtep1",
        "tunnel_ips=172.17.42.180",
    ]);
    let (code, out) = topo_lab("drift", &file, &lab.state.dir);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("~ vtep vtep1"), "{out}");
    assert!(out.contains("+ binding p0 vlan 0 → vtep-ls1"), "{out}");
    apply(&file, &lab.state);
    let (code, out) = topo_lab("drift", &file, &lab.state.dir);
    assert_eq!(code, Some(0), "{out}");
    // Apply restored the stack's binding and left the one made by hand (VLAN 7).
    assert_eq!(
        vtep_ctl(&["list-bindings", "vtep1", "p0"]),
        "0000 vtep-ls1\n0007 vtep-ls1"
    );
    let (code, out) = verify(&file, &lab.state.dir);
    assert_eq!(code, Some(0), "after the binding came back:\n{out}");
    // The topology moves the server to VLAN 5: apply removes the binding it wrote (VLAN 0)
    // and keeps the one made by hand (VLAN 7), which it never wrote.
    let moved = lab.dir.path().join("vtep-moved.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(r#"{ "0": vtep-ls1 }"#));
    std::fs::write(
        &moved,
        text.replace(r#"{ "0": vtep-ls1 }"#, r#"{ "5": vtep-ls1 }"#),
    )
    .unwrap();
    let (code, out) = topo_lab("plan", &moved, &lab.state.dir);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("+ binding p0 vlan 5 → vtep-ls1"), "{out}");
    assert!(out.contains("- binding p0 vlan 0 → vtep-ls1"), "{out}");
    assert!(!out.contains("vlan 7"), "{out}");
    apply(&moved, &lab.state);
    assert_eq!(
        vtep_ctl(&["list-bindings", "vtep1", "p0"]),
        "0005 vtep-ls1\n0007 vtep-ls1"
    );
    let (code, out) = topo_lab("plan", &moved, &lab.state.dir);
    assert_eq!(code, Some(0), "plan after the move:\n{out}");
    // Without the lab: a topo.toml target names the VTEP's database, as for a real switch.
    let config = lab.dir.path().join("target.toml");
    std::fs::write(
        &config,
        format!(
            "[targets.t]\nnb = \"{}\"\nsb = \"{}\"\n[targets.t.vteps.vtep1]\nremote = \"{}\"\n",
            lab.state.nb, lab.state.sb, vtep.remote
        ),
    )
    .unwrap();
    let plan_with_config = |file: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_topo"))
            .arg("plan")
            .arg(file)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = plan_with_config(&moved);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = plan_with_config(&file);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("+ binding p0 vlan 0 → vtep-ls1"), "{out}");
    // Import: the VTEP's Southbound chassis (registered by ovn-controller-vtep) becomes a
    // `vteps` entry with its bindings read from its own database, not a `chassis` entry.
    let out = Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(["import", "--stack", "vtepgw", "--lab"])
        .arg(&lab.state.dir)
        .output()
        .unwrap();
    let yaml = String::from_utf8_lossy(&out.stdout);
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{notes}");
    assert!(
        yaml.contains("vteps:\n  vtep1:\n    tunnel-ip: 172.17.42.180\n    ports:\n      p0: { vlan-bindings: { \"5\": vtep-ls1, \"7\": vtep-ls1 } }"),
        "{yaml}"
    );
    assert!(!yaml.contains("vtep1: { encap"), "{yaml}");
    assert!(!notes.contains("VTEP"), "{notes}");
    // The imported file plans nothing on the VTEP.
    let imported = lab.dir.path().join("imported.yaml");
    std::fs::write(&imported, yaml.as_bytes()).unwrap();
    let (code, out) = topo_lab("plan", &imported, &lab.state.dir);
    assert!(!out.contains("~ vtep"), "{out}");
    assert!(code == Some(0) || code == Some(2), "{out}");
    lab.finish();
}

//! Running a lab's checks with real packets and saying what was seen.
//!
//! - `reachable`: `ping` from the source namespace until one reply or the deadline (the
//!   first packets of a fresh topology may be spent on ARP and flow setup).
//! - `unreachable`: no reply within a shorter window.
//! - `source-ip`: `tcpdump` on the destination captures the first echo request while the
//!   source pings; its source address is what the destination sees (e.g. the SNAT IP).
//!
//! Each works over IPv4 or IPv6: the family of the target address (an endpoint's IPv6
//! address, or for `source-ip` the expected source's family; an endpoint's name alone is
//! its IPv4 address).
//!
//! Every external command is bounded in time. On a failure the result carries a
//! diagnosis: the ports' binding state in the Southbound database and the `ovn-trace` of
//! the packet from the source VM.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use super::command::{in_netns, output};
use super::error::LabError;
use super::probe::{self, Claims, Listener, PortKey};
use super::spec::{Balanced, CheckSpec, DhcpExpect, Expect, L4Port, Proto};
use super::state::{Endpoint, EndpointKind, LabState};
use crate::ovsdb::{Client, Columns, ColumnsExt, Condition, ConnectOptions};
use crate::poll::poll_until;

/// Bounds of the checks.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// How long a `reachable` / `source-ip` check keeps trying for a first reply.
    pub reachable_deadline: Duration,
    /// How long an `unreachable` check waits for a reply that must not come.
    pub unreachable_window: Duration,
    /// How long a `balanced` check with `stop_backend` waits for the health check to take
    /// the stopped backend out.
    pub health_deadline: Duration,
    /// Checks run at once (each in its own namespaces).
    pub parallel: usize,
    /// Gather `ovn-trace` and bindings for failed checks.
    pub diagnose: bool,
    /// Run only these checks (indexes into the list, from 0); all when empty.
    pub only: Vec<usize>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            reachable_deadline: Duration::from_secs(3),
            unreachable_window: Duration::from_secs(2),
            health_deadline: Duration::from_secs(30),
            parallel: 4,
            diagnose: true,
            only: Vec::new(),
        }
    }
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    /// The check could not test OVN: a missing route in the source namespace, a tool that
    /// did not start, a listener that could not bind.
    Error,
}

/// The outcome of one check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckResult {
    /// Its place in the topology's `checks` (from 1), what `--check INDEX` takes.
    pub index: usize,
    pub check: CheckSpec,
    pub passed: bool,
    pub verdict: Verdict,
    /// What was seen: the reply, the captured source, or its absence.
    pub evidence: String,
    /// For failures: bindings and `ovn-trace`.
    pub diagnosis: Option<String>,
    /// How long the check took, in seconds.
    pub seconds: f64,
}

/// The checks `wanted` names (a check's `name`, or its index from 1), as indexes from 0 in
/// the topology's order; an unknown one is an error naming the choices.
pub fn select_checks(checks: &[CheckSpec], wanted: &[String]) -> Result<Vec<usize>, String> {
    let mut out = std::collections::BTreeSet::new();
    for w in wanted {
        let by_name = checks
            .iter()
            .position(|c| c.name.as_deref() == Some(w.as_str()));
        let by_index = w
            .parse::<usize>()
            .ok()
            .filter(|i| (1..=checks.len()).contains(i))
            .map(|i| i - 1);
        match by_name.or(by_index) {
            Some(i) => {
                out.insert(i);
            }
            None => {
                let names: Vec<&str> = checks.iter().filter_map(|c| c.name.as_deref()).collect();
                return Err(format!(
                    "no check `{w}`: name one of [{}] or give an index 1..{}",
                    names.join(", "),
                    checks.len()
                ));
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Runs `checks` (or `options.only` of them), `options.parallel` at a time, each on its own
/// thread; the results come back in the checks' order.
pub async fn run_checks(
    state: &LabState,
    checks: &[CheckSpec],
    options: &CheckOptions,
) -> Vec<CheckResult> {
    let todo: Vec<usize> = if options.only.is_empty() {
        (0..checks.len()).collect()
    } else {
        options
            .only
            .iter()
            .copied()
            .filter(|i| *i < checks.len())
            .collect()
    };
    let slots: Vec<Mutex<Option<CheckResult>>> = todo.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let claims = Claims::default();
    let workers = options.parallel.clamp(1, todo.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = todo.get(k) else { break };
                    let check = &checks[i];
                    let result = match &rt {
                        Ok(rt) => rt.block_on(one(state, i, check, options, &claims)),
                        Err(e) => CheckResult {
                            index: i + 1,
                            check: check.clone(),
                            passed: false,
                            verdict: Verdict::Error,
                            evidence: format!("error: no runtime: {e}"),
                            diagnosis: None,
                            seconds: 0.0,
                        },
                    };
                    if let Some(slot) = slots.get(k) {
                        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

async fn one(
    state: &LabState,
    index: usize,
    check: &CheckSpec,
    options: &CheckOptions,
    claims: &Claims,
) -> CheckResult {
    let start = Instant::now();
    // 100..1099 bytes of payload: distinct per check, within any MTU.
    let tag = 100 + u16::try_from(index % 1000).unwrap_or(0);
    let (verdict, evidence) = match run_one(state, check, options, claims, tag).await {
        Ok((true, e)) => (Verdict::Pass, e),
        Ok((false, e)) => (Verdict::Fail, e),
        Err(e) => (Verdict::Error, format!("error: {e}")),
    };
    let seconds = start.elapsed().as_secs_f64();
    let diagnosis = if verdict != Verdict::Pass && options.diagnose {
        Some(diagnose(state, check).await)
    } else {
        None
    };
    CheckResult {
        index: index + 1,
        check: check.clone(),
        passed: verdict == Verdict::Pass,
        verdict,
        evidence,
        diagnosis,
        seconds,
    }
}

fn endpoint<'a>(state: &'a LabState, name: &str) -> Result<&'a Endpoint, LabError> {
    state
        .endpoints
        .get(name)
        .ok_or_else(|| LabError::Spec(format!("`{name}` is neither a vm nor a host of this lab")))
}

/// Where a check's packets go: the address, and the VM or host that has it (if any).
struct Target<'a> {
    ip: IpAddr,
    endpoint: Option<(&'a str, &'a Endpoint)>,
}

/// `to` resolved: an endpoint's name is its IPv4 address (its first IPv6 one when `ipv6`);
/// an address is itself, and the endpoint whose address it is, if any.
fn target<'a>(state: &'a LabState, to: &'a str, ipv6: bool) -> Result<Target<'a>, LabError> {
    if let Some(e) = state.endpoints.get(to) {
        let ip = if ipv6 {
            let a = e
                .ipv6
                .first()
                .ok_or_else(|| LabError::Spec(format!("`{to}` has no IPv6 address in this lab")))?;
            IpAddr::V6(*a)
        } else {
            IpAddr::V4(e.ip)
        };
        return Ok(Target {
            ip,
            endpoint: Some((to, e)),
        });
    }
    let ip: IpAddr = to.parse().map_err(|_| {
        LabError::Spec(format!(
            "`{to}` is neither a vm, a host of this lab nor an IP address"
        ))
    })?;
    Ok(Target {
        ip,
        endpoint: owner(state, ip),
    })
}

/// The VM or host whose address `ip` is.
fn owner(state: &LabState, ip: IpAddr) -> Option<(&str, &Endpoint)> {
    state
        .endpoints
        .iter()
        .find(|(_, e)| match ip {
            IpAddr::V4(a) => e.ip == a,
            IpAddr::V6(a) => e.ipv6.contains(&a),
        })
        .map(|(n, e)| (n.as_str(), e))
}

/// Whether `check` runs over IPv6 when `to` names an endpoint (a `source-ip` check expects
/// a source of the family it pings with).
fn wants_ipv6(check: &CheckSpec) -> bool {
    matches!(check.expect, Expect::SourceIp(IpAddr::V6(_)))
}

/// A check that needs a route the source namespace does not have cannot test OVN: it is a
/// setup error (an `unreachable` check must not pass because the packet never left).
fn route_to(ns: &str, to: IpAddr) -> Result<(), LabError> {
    let to_s = to.to_string();
    let out = output(&in_netns(ns, &["ip", "route", "get", &to_s]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Setup(format!(
            "no route to {to} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// `tag` tells this check's packets from those of checks running at the same time (the
/// echo requests' payload size, for `source-ip`).
async fn run_one(
    state: &LabState,
    check: &CheckSpec,
    options: &CheckOptions,
    claims: &Claims,
    tag: u16,
) -> Result<(bool, String), LabError> {
    let from = endpoint(state, &check.from)?;
    if let Expect::Dhcp(want) = &check.expect {
        let _claim = claims.claim(vec![(from.netns.clone(), dhcp_client_port())]);
        return run_dhcp(state, check, from, want);
    }
    let target = target(state, &check.to, wants_ipv6(check))?;
    let to = target.ip;
    route_to(&from.netns, to)?;
    match (&check.expect, check.port) {
        (Expect::Reachable, None) => {
            let p = ping(&from.netns, to, options.reachable_deadline)?.local_error(&from.netns)?;
            Ok((p.reply.is_some(), p.describe(to)))
        }
        (Expect::Unreachable, None) => {
            let p = ping(&from.netns, to, options.unreachable_window)?.local_error(&from.netns)?;
            Ok((p.reply.is_none(), p.describe(to)))
        }
        (Expect::Reachable | Expect::Unreachable, Some(port)) => {
            let reachable = check.expect == Expect::Reachable;
            let keys: Vec<PortKey> = target
                .endpoint
                .map(|(_, t)| (t.netns.clone(), port))
                .into_iter()
                .collect();
            let _claim = claims.claim(keys);
            let _listener = match target.endpoint {
                Some((name, t)) => Some(Listener::start(&t.netns, port, name, to.is_ipv6()).await?),
                None => None,
            };
            let window = if reachable {
                options.reachable_deadline
            } else {
                options.unreachable_window
            };
            let start = Instant::now();
            let got = first_answer(&from.netns, to, port, window).await?;
            let secs = start.elapsed().as_secs_f64();
            Ok(match got {
                Ok(who) => (
                    reachable,
                    format!("`{who}` answered on {to}:{port} after {secs:.1} s"),
                ),
                Err(last) => (
                    !reachable,
                    format!("no answer from {to}:{port} within {secs:.1} s ({last})"),
                ),
            })
        }
        (Expect::SourceIp(expected), _) => {
            let (_, to_ep) = target.endpoint.ok_or_else(|| {
                LabError::Spec(format!(
                    "source-ip: `{}` is no vm or host to capture on",
                    check.to
                ))
            })?;
            let seen = capture_source(from, to_ep, to, options.reachable_deadline, tag)?;
            Ok(match seen {
                Some(src) => (
                    src == *expected,
                    format!("{} saw an echo request from {src}", check.to),
                ),
                None => (
                    false,
                    format!(
                        "{} saw no echo request within {:.0} s",
                        check.to,
                        options.reachable_deadline.as_secs_f64()
                    ),
                ),
            })
        }
        (Expect::Balanced(b), Some(port)) => {
            run_balanced(state, b, from, to, port, options, claims).await
        }
        (Expect::Balanced(_), None) => {
            Err(LabError::Spec("a balanced check needs a `port`".into()))
        }
        (Expect::Dhcp(_), _) => Err(LabError::Spec("dhcp is handled above".into())),
    }
}

/// The DHCP client's port.
fn dhcp_client_port() -> L4Port {
    L4Port {
        port: 68,
        proto: Proto::Udp,
    }
}

/// Connects until a listener answers (`Ok(name)`) or `window` passes (`Err(last error)`).
async fn first_answer(
    ns: &str,
    to: IpAddr,
    port: L4Port,
    window: Duration,
) -> Result<Result<String, String>, LabError> {
    poll_until(window, Duration::from_millis(200), || {
        std::future::ready(probe::connect(ns, to, port).map(|a| match a.reply {
            Some(who) => Ok(who),
            None => Err(a.error.unwrap_or_else(|| "no answer".into())),
        }))
    })
    .await
}

/// Up to `n` connections, one after the other: who answered each, until the first that
/// failed (its error last).
fn round(
    ns: &str,
    to: IpAddr,
    port: L4Port,
    n: u32,
) -> Result<Vec<Result<String, String>>, LabError> {
    let mut out = Vec::new();
    for _ in 0..n {
        let a = probe::connect(ns, to, port)?;
        match a.reply {
            Some(who) => out.push(Ok(who)),
            None => {
                out.push(Err(a.error.unwrap_or_else(|| "no answer".into())));
                break;
            }
        }
    }
    Ok(out)
}

/// `12 of 12 answered: web1 x7, web2 x5` (and the first error, if any).
fn tally(answers: &[Result<String, String>], n: u32) -> (BTreeMap<String, usize>, String) {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    let mut first_error = None;
    for a in answers {
        match a {
            Ok(who) => *by.entry(who.clone()).or_default() += 1,
            Err(e) => {
                first_error.get_or_insert(e.clone());
            }
        }
    }
    let answered: usize = by.values().sum();
    let who: Vec<String> = by.iter().map(|(k, n)| format!("{k} x{n}")).collect();
    let mut s = format!("{answered} of {n} answered");
    if !who.is_empty() {
        s.push_str(&format!(": {}", who.join(", ")));
    }
    if let Some(e) = first_error {
        s.push_str(&format!(" (failed: {e})"));
    }
    (by, s)
}

#[allow(clippy::too_many_arguments)]
async fn run_balanced(
    state: &LabState,
    b: &Balanced,
    from: &Endpoint,
    vip: IpAddr,
    port: L4Port,
    options: &CheckOptions,
    claims: &Claims,
) -> Result<(bool, String), LabError> {
    let backend_port = L4Port {
        port: b.backend_port.unwrap_or(port.port),
        proto: port.proto,
    };
    let mut backends = Vec::new();
    for name in &b.backends {
        backends.push((name.as_str(), endpoint(state, name)?));
    }
    let keys: Vec<PortKey> = backends
        .iter()
        .map(|(_, e)| (e.netns.clone(), backend_port))
        .collect();
    let _claim = claims.claim(keys);
    let mut listeners = Vec::new();
    for (name, e) in &backends {
        let listener = Listener::start(&e.netns, backend_port, name, vip.is_ipv6()).await?;
        listeners.push((*name, listener));
    }
    // The backends' listeners start with the check: a health check may still count them
    // as down for a few intervals, so the rounds are asked again until one is spread over
    // two backends or more.
    let n = b.connections;
    let spread = poll_until(options.health_deadline, Duration::from_millis(500), || {
        std::future::ready(round(&from.netns, vip, port, n).map(|answers| {
            let (by, said) = tally(&answers, n);
            let all = by.values().sum::<usize>() == n as usize;
            if all && by.len() >= 2 {
                Ok(said)
            } else {
                Err(said)
            }
        }))
    })
    .await?;
    let said = match spread {
        Ok(said) => said,
        Err(last) => {
            return Ok((
                false,
                format!(
                    "{vip}:{port}: {last}; not answered by two backends within {:.0} s",
                    options.health_deadline.as_secs_f64()
                ),
            ));
        }
    };
    let Some(stopped) = &b.stop_backend else {
        return Ok((true, format!("{vip}:{port}: {said}")));
    };
    if let Some(i) = listeners.iter().position(|(n, _)| n == stopped) {
        listeners.remove(i).1.stop();
    }
    let start = Instant::now();
    let after = poll_until(options.health_deadline, Duration::from_millis(500), || {
        std::future::ready(round(&from.netns, vip, port, n).map(|answers| {
            let (by, said) = tally(&answers, n);
            let all = by.values().sum::<usize>() == n as usize;
            if all && !by.contains_key(stopped.as_str()) {
                Ok(said)
            } else {
                Err(said)
            }
        }))
    })
    .await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(match after {
        Ok(now) => (
            true,
            format!("{vip}:{port}: {said}; {stopped} stopped: {now} after {secs:.1} s"),
        ),
        Err(last) => (
            false,
            format!(
                "{vip}:{port}: {said}; {stopped} stopped, still after {secs:.1} s: {last} (is a health check on the load balancer?)"
            ),
        ),
    })
}

fn run_dhcp(
    state: &LabState,
    check: &CheckSpec,
    from: &Endpoint,
    want: &DhcpExpect,
) -> Result<(bool, String), LabError> {
    let vm = state.spec.vms.iter().find(|v| v.name == check.from);
    let address = want.address.or(vm.map(|v| v.ip.addr()));
    let router = want.router.or(vm.and_then(|v| v.gateway));
    let Some(lease) = probe::dhcp(&state.dir, &from.netns, &from.ifname)? else {
        return Ok((false, "no DHCP offer within 3 tries".into()));
    };
    let mut wrong = Vec::new();
    if let Some(a) = address
        && lease.address != Some(a)
    {
        wrong.push(format!("address {a}"));
    }
    if let Some(r) = router
        && !lease.routers.contains(&r)
    {
        wrong.push(format!("router {r}"));
    }
    if let Some(d) = want.dns
        && !lease.dns.contains(&d)
    {
        wrong.push(format!("dns {d}"));
    }
    Ok(if wrong.is_empty() {
        (true, format!("lease: {lease}"))
    } else {
        (
            false,
            format!("lease: {lease}; expected {}", wrong.join(", ")),
        )
    })
}

/// What a bounded ping saw.
#[derive(Debug)]
pub struct Ping {
    /// The first reply line (`64 bytes from ...: icmp_seq=3 ttl=62 time=0.5 ms`).
    pub reply: Option<String>,
    /// What ping said on stderr (e.g. `connect: Network is unreachable`).
    pub error: Option<String>,
    pub elapsed: Duration,
    /// ping's exit code: 2 is a local error (no route, no such device), not silence.
    pub exit: Option<i32>,
}

impl Ping {
    /// A ping that failed before a packet left is a setup error, never a pass.
    fn local_error(self, ns: &str) -> Result<Ping, LabError> {
        if self.reply.is_none() && self.exit == Some(2) {
            return Err(LabError::Setup(format!(
                "ping in {ns} failed locally: {}",
                self.error.as_deref().unwrap_or("exit 2")
            )));
        }
        Ok(self)
    }
}

impl Ping {
    fn describe(&self, to: IpAddr) -> String {
        match &self.reply {
            Some(line) => {
                let ttl = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("ttl="))
                    .unwrap_or("?");
                format!(
                    "reply from {to} ttl={ttl} after {:.1} s",
                    self.elapsed.as_secs_f64()
                )
            }
            None => {
                let mut s = format!(
                    "no reply from {to} within {:.1} s",
                    self.elapsed.as_secs_f64()
                );
                if let Some(e) = &self.error {
                    s.push_str(&format!(" ({e})"));
                }
                s
            }
        }
    }
}

/// Pings `to` (IPv4 or IPv6) from namespace `ns` every 0.2 s until the first reply or
/// `deadline`.
pub fn ping(ns: &str, to: IpAddr, deadline: Duration) -> Result<Ping, LabError> {
    let secs = deadline.as_secs().max(1).to_string();
    let to_s = to.to_string();
    let argv = in_netns(
        ns,
        &[
            "ping", "-n", "-c", "1", "-i", "0.2", "-W", "1", "-w", &secs, &to_s,
        ],
    );
    let start = Instant::now();
    let out = output(&argv)?;
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reply = stdout
        .lines()
        .find(|l| l.contains("bytes from") && l.contains("icmp_seq"))
        .map(str::to_owned);
    let error = String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .map(|l| l.trim_start_matches("ping: ").to_owned());
    Ok(Ping {
        reply,
        error,
        elapsed,
        exit: out.status.code(),
    })
}

/// Captures, on `to`, the source of the first echo request addressed to its address
/// `to_ip` while `from` pings it (over `to_ip`'s family). `None` if none arrived before the
/// deadline. The echo requests carry `size` bytes of payload, and only those are captured:
/// other checks running at the same time may ping `to` too (NAT changes addresses, never
/// the length).
fn capture_source(
    from: &Endpoint,
    to: &Endpoint,
    to_ip: IpAddr,
    deadline: Duration,
    size: u16,
) -> Result<Option<IpAddr>, LabError> {
    let filter = capture_filter(to_ip, size);
    let mut child = Command::new("ip")
        .args([
            "netns", "exec", &to.netns, "tcpdump", "-n", "-l", "-c", "1", "-i",
        ])
        .arg(&to.ifname)
        .arg(&filter)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LabError::Command {
            argv: format!("tcpdump in {}", to.netns),
            status: "not started".into(),
            stderr: e.to_string(),
        })?;
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    if let Some(stderr) = child.stderr.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send((false, line));
            }
        });
    }
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send((true, line));
            }
        });
    }
    let stop = |mut child: std::process::Child| {
        let pid = child.id();
        if child.try_wait().ok().flatten().is_none() {
            let rec = super::process::ProcessRecord {
                role: "check helper".into(),
                pid: i32::try_from(pid).unwrap_or(i32::MAX),
                start_time: super::process::start_time(i32::try_from(pid).unwrap_or(i32::MAX))
                    .unwrap_or(0),
                netns: Some(to.netns.clone()),
                output: Default::default(),
            };
            let _ = super::process::terminate(&rec, Duration::from_secs(1));
        }
        let _ = child.wait();
    };
    // Ready once tcpdump says it listens.
    let start = Instant::now();
    let mut listening = false;
    let mut said = Vec::new();
    while start.elapsed() < Duration::from_secs(5) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok((false, line)) => {
                listening |= line.contains("listening on");
                said.push(line);
                if listening {
                    break;
                }
            }
            Ok((true, _)) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if !listening {
        stop(child);
        return Err(LabError::Setup(format!(
            "tcpdump in {} did not start: {}",
            to.netns,
            said.join("; ")
        )));
    }
    // Ping in the background until tcpdump has seen a request or the deadline passes.
    let secs = deadline.as_secs().max(1).to_string();
    let to_ip = to_ip.to_string();
    let size_s = size.to_string();
    let pinger = Command::new("ip")
        .args([
            "netns",
            "exec",
            &from.netns,
            "ping",
            "-n",
            "-q",
            "-s",
            &size_s,
            "-i",
            "0.2",
            "-W",
            "1",
            "-w",
        ])
        .args([&secs, &to_ip])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut seen = None;
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok((true, line)) => {
                seen = parse_source(&line);
                if seen.is_some() {
                    break;
                }
            }
            Ok((false, _)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Ok(p) = pinger {
        stop(p);
    }
    stop(child);
    Ok(seen)
}

/// The results as a table (index, check, result, time, evidence) in the checks' order,
/// then the diagnosis of each failure.
pub fn render(results: &[CheckResult]) -> String {
    let name = |r: &CheckResult| format!("{}. {}", r.index, r.check.label());
    let width = results
        .iter()
        .map(|r| name(r).len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<width$}  {:<6}  {:>5}  EVIDENCE\n",
        "CHECK", "RESULT", "TIME"
    );
    for r in results {
        let verdict = match r.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        };
        out.push_str(&format!(
            "{:<width$}  {verdict:<6}  {:>4.1}s  {}\n",
            name(r),
            r.seconds,
            r.evidence
        ));
    }
    let passed = results.iter().filter(|r| r.passed).count();
    let errors = results
        .iter()
        .filter(|r| r.verdict == Verdict::Error)
        .count();
    out.push_str(&format!("{passed} of {} checks passed", results.len()));
    if errors > 0 {
        out.push_str(&format!(" ({errors} could not run: setup error)"));
    }
    out.push('\n');
    for r in results.iter().filter(|r| !r.passed) {
        if let Some(d) = &r.diagnosis {
            out.push_str(&format!("\n--- {} ---\n{d}", name(r)));
        }
    }
    out
}

/// tcpdump's filter for echo requests to `to` with `size` bytes of payload: the IPv4 total
/// length is 20 + 8 + size; the IPv6 payload length (no extension headers) 8 + size.
fn capture_filter(to: IpAddr, size: u16) -> String {
    match to {
        IpAddr::V4(a) => format!(
            "icmp[icmptype] == icmp-echo and dst host {a} and ip[2:2] == {}",
            u32::from(size) + 28
        ),
        IpAddr::V6(a) => format!(
            "icmp6 and ip6[40] == 128 and dst host {a} and ip6[4:2] == {}",
            u32::from(size) + 8
        ),
    }
}

/// `12:00:00.000 IP 10.10.40.1 > 10.10.40.10: ICMP echo request, ...` -> 10.10.40.1;
/// `... IP6 fd00:40::1 > fd00:40::10: ICMP6, echo request, ...` -> fd00:40::1.
fn parse_source(line: &str) -> Option<IpAddr> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == "IP" || *w == "IP6")?;
    words.next()?.parse().ok()
}

/// Bindings of the VMs involved and the `ovn-trace` of the packet.
async fn diagnose(state: &LabState, check: &CheckSpec) -> String {
    let mut out = String::new();
    let from = state.endpoints.get(&check.from);
    let target = target(state, &check.to, wants_ipv6(check)).ok();
    let to = target.as_ref().and_then(|t| t.endpoint);
    let to_name = to.map_or(check.to.as_str(), |(n, _)| n);
    let to = to.map(|(_, e)| e);
    for (name, ep) in [(check.from.as_str(), from), (to_name, to)] {
        if let Some(ep) = ep
            && ep.kind == EndpointKind::Vm
        {
            out.push_str(&format!("binding {name}: {}\n", binding(state, name).await));
        }
    }
    if matches!(check.expect, Expect::Dhcp(_)) {
        if let Some(from) = from {
            out.push_str(&trace_dhcp(state, &check.from, from).await);
        }
        return out;
    }
    let to_ip = target.map(|t| t.ip);
    if let (Some(from), Some(to_ip)) = (from, to_ip) {
        // The source's address of the target's family.
        let from_ip = match to_ip {
            IpAddr::V4(_) => Some(IpAddr::V4(from.ip)),
            IpAddr::V6(_) => from.ipv6.first().map(|a| IpAddr::V6(*a)),
        };
        if let (EndpointKind::Vm, Some(from_ip)) = (from.kind, from_ip) {
            let to_mac = to.and_then(|t| t.mac.clone());
            out.push_str(
                &trace(
                    state,
                    &check.from,
                    from,
                    (from_ip, to_ip),
                    to_mac,
                    Packet::request(check),
                )
                .await,
            );
        } else if from.kind == EndpointKind::Vm {
            out.push_str(&format!(
                "no ovn-trace: {} has no address of {to_ip}'s family\n",
                check.from
            ));
        } else {
            out.push_str(&format!(
                "no ovn-trace: {} is an outside host, not an OVN port\n",
                check.from
            ));
        }
        // The way back matters as much: the reply from a destination VM.
        if let (Some(to), Some(from_ip)) = (to.filter(|t| t.kind == EndpointKind::Vm), from_ip) {
            out.push_str("the reply:\n");
            let from_mac = from.mac.clone();
            out.push_str(
                &trace(
                    state,
                    to_name,
                    to,
                    (to_ip, from_ip),
                    from_mac,
                    Packet::reply(check),
                )
                .await,
            );
        }
    }
    out
}

async fn connect(remote: &str, database: &str) -> Option<Client> {
    let options = ConnectOptions {
        database: Some(database.to_owned()),
        deadline: Duration::from_secs(3),
        request_timeout: Some(Duration::from_secs(5)),
        ..ConnectOptions::default()
    };
    Client::connect(remote, options).await.ok()
}

/// The rows a diagnosis reads; none when the read fails (the diagnosis says less).
async fn select(
    client: &Client,
    database: &str,
    table: &str,
    conditions: Vec<Condition>,
    columns: &[&str],
) -> Vec<Columns> {
    client
        .select(database, table, conditions, columns)
        .await
        .unwrap_or_default()
}

/// Where logical port `port` is bound, in words: `bound to chassis ch1 (up=true)`, `not
/// bound to any chassis`, `no Port_Binding ...`.
pub async fn binding(state: &LabState, port: &str) -> String {
    let Some(sb) = connect(&state.sb, "OVN_Southbound").await else {
        return "Southbound database unreachable".into();
    };
    let rows = select(
        &sb,
        "OVN_Southbound",
        "Port_Binding",
        vec![Condition::eq("logical_port", port)],
        &["up", "chassis"],
    )
    .await;
    let Some(pb) = rows.first() else {
        return "no Port_Binding (is the logical switch port in the Northbound database?)".into();
    };
    let up = pb
        .boolean("up")
        .map_or_else(|| "unset".to_owned(), |b| b.to_string());
    let Some(uuid) = pb.uuid("chassis") else {
        return format!("not bound to any chassis (up={up})");
    };
    let chassis = crate::live::southbound::all(&sb).await.unwrap_or_default();
    let name = chassis
        .iter()
        .find(|c| c.uuid == Some(uuid))
        .map_or("?", |c| c.name.as_str());
    format!("bound to chassis {name} (up={up})")
}

/// The packet a diagnosis traces: the check's request or its reply.
#[derive(Debug, Clone, Copy)]
enum Packet {
    /// ICMP echo request (8) or reply (0).
    Icmp(u8),
    /// To the port (request) or from it (reply).
    ToPort(L4Port),
    FromPort(L4Port),
}

impl Packet {
    fn request(check: &CheckSpec) -> Packet {
        check.port.map_or(Packet::Icmp(8), Packet::ToPort)
    }
    fn reply(check: &CheckSpec) -> Packet {
        check.port.map_or(Packet::Icmp(0), Packet::FromPort)
    }
    /// The L4 part of the trace's flow; ICMP echo in IPv6 is ICMPv6 128 / 129.
    fn flow(self, ipv6: bool) -> String {
        let l4 = |p: L4Port| match p.proto {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        };
        match self {
            Packet::Icmp(t) if ipv6 => format!("icmp6.type == {}", if t == 8 { 128 } else { 129 }),
            Packet::Icmp(t) => format!("icmp4.type == {t}"),
            Packet::ToPort(p) => format!("{0}.src == 40000 && {0}.dst == {1}", l4(p), p.port),
            Packet::FromPort(p) => format!("{0}.src == {1} && {0}.dst == 40000", l4(p), p.port),
        }
    }
}

/// `ovn-trace` of a DHCP discover from VM `name`.
async fn trace_dhcp(state: &LabState, name: &str, from: &Endpoint) -> String {
    let flow = format!(
        "inport == \"{name}\" && eth.src == {} && eth.dst == ff:ff:ff:ff:ff:ff && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && ip.ttl == 64 && udp.src == 68 && udp.dst == 67",
        from.mac.as_deref().unwrap_or("00:00:00:00:00:00"),
    );
    run_trace(state, &flow)
}

fn run_trace(state: &LabState, flow: &str) -> String {
    let db = format!("--db={}", state.sb);
    let argv = ["timeout", "10", "ovn-trace", &db, "--summary", flow];
    match output(&argv) {
        Ok(out) => format!(
            "ovn-trace --summary '{flow}':\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => format!("ovn-trace failed: {e}\n"),
    }
}

/// `ovn-trace` of the check's packet (or its reply) from VM `name`, addresses `(src, dst)`
/// (both of one family).
async fn trace(
    state: &LabState,
    name: &str,
    from: &Endpoint,
    (src, dst): (IpAddr, IpAddr),
    to_mac: Option<String>,
    packet: Packet,
) -> String {
    let gateway_mac = match (state.spec.vms.iter().find(|v| v.name == name), dst) {
        (Some(vm), IpAddr::V4(d)) if vm.ip.contains(&d) => to_mac,
        (Some(vm), IpAddr::V6(d)) if vm.ipv6.iter().any(|n| n.contains(&d)) => to_mac,
        (Some(vm), _) => {
            let gw = match dst {
                IpAddr::V4(_) => vm.gateway.map(IpAddr::V4),
                IpAddr::V6(_) => vm.ipv6_gateway.map(IpAddr::V6),
            };
            match gw {
                Some(gw) => router_mac(state, gw).await,
                None => None,
            }
        }
        (None, _) => None,
    };
    let eth_dst = gateway_mac.unwrap_or_else(|| "ff:ff:ff:ff:ff:ff".into());
    let ip = if dst.is_ipv6() { "ip6" } else { "ip4" };
    let flow = format!(
        "inport == \"{name}\" && eth.src == {} && eth.dst == {eth_dst} && {ip}.src == {src} && {ip}.dst == {dst} && ip.ttl == 64 && {}",
        from.mac.as_deref().unwrap_or("00:00:00:00:00:00"),
        packet.flow(dst.is_ipv6())
    );
    run_trace(state, &flow)
}

/// The MAC of the logical router port that owns `ip`.
async fn router_mac(state: &LabState, ip: IpAddr) -> Option<String> {
    let nb = connect(&state.nb, "OVN_Northbound").await?;
    let rows = select(
        &nb,
        "OVN_Northbound",
        "Logical_Router_Port",
        vec![],
        &["networks", "mac"],
    )
    .await;
    rows.iter().find_map(|row| {
        let owns = row
            .strings("networks")
            .iter()
            .any(|n| n.split('/').next().and_then(|a| a.parse::<IpAddr>().ok()) == Some(ip));
        owns.then(|| row.string("mac").map(str::to_owned)).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_selected_by_name_or_index_in_their_order() {
        let spec: crate::lab::LabSpec = serde_saphyr::from_str(
            "name: x\nchassis: [{ name: c, encap_ip: 172.17.0.1 }]\nchecks:\n  - { from: a, to: b, expect: reachable }\n  - { name: ssh, from: a, to: b, expect: reachable, port: 22/tcp }\n",
        )
        .unwrap();
        let c = &spec.checks;
        assert_eq!(
            select_checks(c, &["ssh".into(), "1".into()]),
            Ok(vec![0, 1])
        );
        assert_eq!(select_checks(c, &["2".into(), "2".into()]), Ok(vec![1]));
        let e = select_checks(c, &["3".into()]).unwrap_err();
        assert!(e.contains("no check `3`") && e.contains("[ssh]"), "{e}");
        assert_eq!(c[1].label(), "ssh");
        assert_eq!(c[0].label(), "a -> b reachable");
    }

    #[test]
    fn tcpdump_lines_give_the_source() {
        let line = "10:00:00.123456 IP 10.10.40.1 > 10.10.40.10: ICMP echo request, id 7, seq 1, length 64";
        assert_eq!(parse_source(line), Some("10.10.40.1".parse().unwrap()));
        assert_eq!(parse_source("listening on eth0"), None);
        let line = "10:00:00.123456 IP6 fd00:40::1 > fd00:40::10: ICMP6, echo request, id 7, seq 1, length 108";
        assert_eq!(parse_source(line), Some("fd00:40::1".parse().unwrap()));
    }

    #[test]
    fn the_capture_matches_the_pings_length_in_either_family() {
        assert_eq!(
            capture_filter("10.0.0.1".parse().unwrap(), 100),
            "icmp[icmptype] == icmp-echo and dst host 10.0.0.1 and ip[2:2] == 128"
        );
        assert_eq!(
            capture_filter("fd00::1".parse().unwrap(), 100),
            "icmp6 and ip6[40] == 128 and dst host fd00::1 and ip6[4:2] == 108"
        );
    }
}

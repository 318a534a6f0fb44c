//! Running a lab's checks with real packets and saying what was seen.
//!
//! - `reachable`: `ping` from the source namespace until one reply or the deadline (the
//!   first packets of a fresh topology may be spent on ARP and flow setup).
//! - `unreachable`: no reply within a shorter window.
//! - `source-ip`: `tcpdump` on the destination captures the first echo request while the
//!   source pings; its source address is what the destination sees (e.g. the SNAT IP).
//!
//! Every external command is bounded in time. On a failure the result carries a
//! diagnosis: the ports' binding state in the Southbound database and the `ovn-trace` of
//! the packet from the source VM.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::command::{in_netns, output};
use super::error::LabError;
use super::spec::{CheckSpec, Expect};
use super::state::{Endpoint, EndpointKind, LabState};
use crate::ovsdb::{Client, Columns, ColumnsExt, Condition, ConnectOptions};

/// Bounds of the checks.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// How long a `reachable` / `source-ip` check keeps pinging for a first reply.
    pub reachable_deadline: Duration,
    /// How long an `unreachable` check waits for a reply that must not come.
    pub unreachable_window: Duration,
    /// Gather `ovn-trace` and bindings for failed checks.
    pub diagnose: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            reachable_deadline: Duration::from_secs(10),
            unreachable_window: Duration::from_secs(3),
            diagnose: true,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckResult {
    pub check: CheckSpec,
    pub passed: bool,
    /// What was seen: the reply, the captured source, or its absence.
    pub evidence: String,
    /// For failures: bindings and `ovn-trace`.
    pub diagnosis: Option<String>,
}

/// Runs `checks` (in order) against the lab.
pub async fn run_checks(
    state: &LabState,
    checks: &[CheckSpec],
    options: &CheckOptions,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for check in checks {
        let (passed, evidence) = match run_one(state, check, options) {
            Ok(r) => r,
            Err(e) => (false, format!("error: {e}")),
        };
        let diagnosis = if !passed && options.diagnose {
            Some(diagnose(state, check).await)
        } else {
            None
        };
        out.push(CheckResult {
            check: check.clone(),
            passed,
            evidence,
            diagnosis,
        });
    }
    out
}

fn endpoint<'a>(state: &'a LabState, name: &str) -> Result<&'a Endpoint, LabError> {
    state
        .endpoints
        .get(name)
        .ok_or_else(|| LabError::Spec(format!("`{name}` is neither a vm nor a host of this lab")))
}

/// The address of endpoint `to`, or `to` itself if it is an address.
fn target_ip(state: &LabState, to: &str) -> Result<Ipv4Addr, LabError> {
    match state.endpoints.get(to) {
        Some(e) => Ok(e.ip),
        None => to.parse().map_err(|_| {
            LabError::Spec(format!(
                "`{to}` is neither a vm, a host of this lab nor an IPv4 address"
            ))
        }),
    }
}

fn run_one(
    state: &LabState,
    check: &CheckSpec,
    options: &CheckOptions,
) -> Result<(bool, String), LabError> {
    let from = endpoint(state, &check.from)?;
    match check.expect {
        Expect::Reachable => {
            let to = target_ip(state, &check.to)?;
            let p = ping(&from.netns, to, options.reachable_deadline)?;
            Ok((p.reply.is_some(), p.describe(to)))
        }
        Expect::Unreachable => {
            let to = target_ip(state, &check.to)?;
            let p = ping(&from.netns, to, options.unreachable_window)?;
            Ok((p.reply.is_none(), p.describe(to)))
        }
        Expect::SourceIp(expected) => {
            let to = endpoint(state, &check.to)?;
            let seen = capture_source(from, to, options.reachable_deadline)?;
            Ok(match seen {
                Some(src) => (
                    src == expected,
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
    }
}

/// What a bounded ping saw.
#[derive(Debug)]
pub struct Ping {
    /// The first reply line (`64 bytes from ...: icmp_seq=3 ttl=62 time=0.5 ms`).
    pub reply: Option<String>,
    /// What ping said on stderr (e.g. `connect: Network is unreachable`).
    pub error: Option<String>,
    pub elapsed: Duration,
}

impl Ping {
    fn describe(&self, to: Ipv4Addr) -> String {
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

/// Pings `to` from namespace `ns` every 0.2 s until the first reply or `deadline`.
pub fn ping(ns: &str, to: Ipv4Addr, deadline: Duration) -> Result<Ping, LabError> {
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
    })
}

/// Captures, on `to`, the source of the first echo request addressed to it while `from`
/// pings it. `None` if none arrived before the deadline.
fn capture_source(
    from: &Endpoint,
    to: &Endpoint,
    deadline: Duration,
) -> Result<Option<Ipv4Addr>, LabError> {
    let filter = format!("icmp[icmptype] == icmp-echo and dst host {}", to.ip);
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
    let to_ip = to.ip.to_string();
    let pinger = Command::new("ip")
        .args([
            "netns",
            "exec",
            &from.netns,
            "ping",
            "-n",
            "-q",
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

/// The results as a table (check, result, evidence), then the diagnosis of each failure.
pub fn render(results: &[CheckResult]) -> String {
    let name = |r: &CheckResult| format!("{} -> {} {}", r.check.from, r.check.to, r.check.expect);
    let width = results
        .iter()
        .map(|r| name(r).len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!("{:<width$}  {:<6}  EVIDENCE\n", "CHECK", "RESULT");
    for r in results {
        let verdict = if r.passed { "pass" } else { "FAIL" };
        out.push_str(&format!(
            "{:<width$}  {verdict:<6}  {}\n",
            name(r),
            r.evidence
        ));
    }
    let passed = results.iter().filter(|r| r.passed).count();
    out.push_str(&format!("{passed} of {} checks passed\n", results.len()));
    for r in results.iter().filter(|r| !r.passed) {
        if let Some(d) = &r.diagnosis {
            out.push_str(&format!("\n--- {} ---\n{d}", name(r)));
        }
    }
    out
}

/// `12:00:00.000 IP 10.10.40.1 > 10.10.40.10: ICMP echo request, ...` -> 10.10.40.1.
fn parse_source(line: &str) -> Option<Ipv4Addr> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == "IP")?;
    words.next()?.parse().ok()
}

/// Bindings of the VMs involved and the `ovn-trace` of the packet.
async fn diagnose(state: &LabState, check: &CheckSpec) -> String {
    let mut out = String::new();
    let from = state.endpoints.get(&check.from);
    let to = state.endpoints.get(&check.to);
    for (name, ep) in [(&check.from, from), (&check.to, to)] {
        if let Some(ep) = ep
            && ep.kind == EndpointKind::Vm
        {
            out.push_str(&format!("binding {name}: {}\n", binding(state, name).await));
        }
    }
    let to_ip = target_ip(state, &check.to).ok();
    if let (Some(from), Some(to_ip)) = (from, to_ip) {
        if from.kind == EndpointKind::Vm {
            let to_mac = to.and_then(|t| t.mac.clone());
            out.push_str(&trace(state, &check.from, from, to_ip, to_mac, 8).await);
        } else {
            out.push_str(&format!(
                "no ovn-trace: {} is an outside host, not an OVN port\n",
                check.from
            ));
        }
        // The way back matters as much: the reply from a destination VM.
        if let Some(to) = to.filter(|t| t.kind == EndpointKind::Vm) {
            out.push_str("the reply:\n");
            let from_mac = from.mac.clone();
            out.push_str(&trace(state, &check.to, to, from.ip, from_mac, 0).await);
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

/// `ovn-trace` of an ICMP echo request (`icmp_type` 8) or reply (0) from VM `name` to `to`.
async fn trace(
    state: &LabState,
    name: &str,
    from: &Endpoint,
    to_ip: Ipv4Addr,
    to_mac: Option<String>,
    icmp_type: u8,
) -> String {
    let gateway_mac = match state.spec.vms.iter().find(|v| v.name == name) {
        Some(vm) if vm.ip.contains(&to_ip) => to_mac,
        Some(vm) => match vm.gateway {
            Some(gw) => router_mac(state, gw).await,
            None => None,
        },
        None => None,
    };
    let eth_dst = gateway_mac.unwrap_or_else(|| "ff:ff:ff:ff:ff:ff".into());
    let flow = format!(
        "inport == \"{name}\" && eth.src == {} && eth.dst == {eth_dst} && ip4.src == {} && ip4.dst == {} && ip.ttl == 64 && icmp4.type == {icmp_type}",
        from.mac.as_deref().unwrap_or("00:00:00:00:00:00"),
        from.ip,
        to_ip
    );
    let db = format!("--db={}", state.sb);
    let argv = ["timeout", "10", "ovn-trace", &db, "--summary", &flow];
    match output(&argv) {
        Ok(out) => format!(
            "ovn-trace --summary '{flow}':\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => format!("ovn-trace failed: {e}\n"),
    }
}

/// The MAC of the logical router port that owns `ip`.
async fn router_mac(state: &LabState, ip: Ipv4Addr) -> Option<String> {
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
            .any(|n| n.split('/').next().and_then(|a| a.parse::<Ipv4Addr>().ok()) == Some(ip));
        owns.then(|| row.string("mac").map(str::to_owned)).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpdump_lines_give_the_source() {
        let line = "10:00:00.123456 IP 10.10.40.1 > 10.10.40.10: ICMP echo request, id 7, seq 1, length 64";
        assert_eq!(parse_source(line), Some("10.10.40.1".parse().unwrap()));
        assert_eq!(parse_source("listening on eth0"), None);
    }
}

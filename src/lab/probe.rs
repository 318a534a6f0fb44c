//! What a check runs inside a VM or host namespace besides `ping`: a listener that answers
//! with the endpoint's name (`socat`), a TCP or UDP client of it, and a DHCP client
//! (`busybox udhcpc`) that reports its lease without configuring anything.
//!
//! - Over IPv4 or IPv6, as the check's target address is (`TCP6-LISTEN`, `TCP6:[addr]:port`).
//! - A listener runs for the check's lifetime, is ready once `ss` in its namespace shows the
//!   port bound (polled, never slept for), and is stopped by PID and start time when dropped.
//!   TCP: every connection's first line is answered with one line, the endpoint's name,
//!   then closed. UDP: every datagram is answered with one datagram holding the name;
//!   "reachable" over UDP means that reply arrived. The client sends a line either way.
//! - Two checks that need the same port in the same namespace (two listeners, or two DHCP
//!   clients on port 68) never overlap: [`Claims`] hands the port to one check at a time.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::command::{in_netns, output};
use super::error::LabError;
use super::process::{ProcessRecord, start_time, terminate};
use super::spec::{L4Port, Proto};
use crate::poll::poll_until;

/// One port in one namespace.
pub(crate) type PortKey = (String, L4Port);

/// Ports in use by running checks; a check claims all it needs at once (so two checks
/// never wait for each other in a cycle) and waits while any of them is taken.
#[derive(Default)]
pub(crate) struct Claims {
    taken: Mutex<BTreeSet<PortKey>>,
    freed: Condvar,
}

/// Held while a check uses its ports.
pub(crate) struct Claim<'a> {
    claims: &'a Claims,
    keys: Vec<PortKey>,
}

impl Claims {
    pub(crate) fn claim(&self, keys: Vec<PortKey>) -> Claim<'_> {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        while keys.iter().any(|k| taken.contains(k)) {
            taken = self.freed.wait(taken).unwrap_or_else(|e| e.into_inner());
        }
        taken.extend(keys.iter().cloned());
        Claim { claims: self, keys }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut taken = self.claims.taken.lock().unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            taken.remove(k);
        }
        self.claims.freed.notify_all();
    }
}

/// A listener in a namespace, stopped (by PID and start time) when dropped.
pub(crate) struct Listener {
    record: ProcessRecord,
    child: Child,
}

impl Listener {
    /// Starts a listener on `port` in `netns` that answers with `name` over IPv6 (`ipv6`)
    /// or IPv4, and waits until the port is bound.
    pub(crate) async fn start(
        netns: &str,
        port: L4Port,
        name: &str,
        ipv6: bool,
    ) -> Result<Self, LabError> {
        let v = if ipv6 { 6 } else { 4 };
        let local = match port.proto {
            Proto::Tcp => format!("TCP{v}-LISTEN:{},reuseaddr,fork", port.port),
            Proto::Udp => format!("UDP{v}-RECVFROM:{},fork", port.port),
        };
        // The answer reads the client's line before it writes its name: `EXEC:echo NAME`
        // could exit before socat handed it the datagram, and socat's write then failed
        // (EPIPE) and ended the child before the name went out, so about one UDP reply in
        // three was lost. The shell sees only plain names (checked by the spec).
        let answer = format!("SYSTEM:read line; echo {name}");
        let child = Command::new("ip")
            .args(["netns", "exec", netns, "socat", &local, &answer])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| LabError::Command {
                argv: format!("socat {local} in {netns}"),
                status: "not started".into(),
                stderr: e.to_string(),
            })?;
        let pid =
            i32::try_from(child.id()).map_err(|_| LabError::Setup("pid out of range".into()))?;
        let mut listener = Listener {
            record: ProcessRecord {
                role: format!("listener {port}"),
                pid,
                start_time: start_time(pid).unwrap_or(0),
                netns: Some(netns.to_owned()),
                output: PathBuf::new(),
            },
            child,
        };
        let ready = poll_until(Duration::from_secs(5), Duration::from_millis(20), || {
            std::future::ready(listener.bound(netns, port))
        })
        .await?;
        match ready {
            Ok(()) => Ok(listener),
            Err(seen) => Err(LabError::Setup(format!(
                "the listener on {port} in {netns} was not bound within 5 s: {seen}"
            ))),
        }
    }

    /// `Ok(Ok(()))` once `ss` shows the port; an error if the listener exited.
    fn bound(&mut self, netns: &str, port: L4Port) -> Result<Result<(), String>, LabError> {
        if let Ok(Some(status)) = self.child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
            }
            return Err(LabError::Setup(format!(
                "the listener on {port} in {netns} exited ({status}): {}",
                stderr.trim()
            )));
        }
        let flags = match port.proto {
            Proto::Tcp => "-Hltn",
            Proto::Udp => "-Hlun",
        };
        let filter = format!("sport = :{}", port.port);
        let out = output(&in_netns(netns, &["ss", flags, &filter]))?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(if text.trim().is_empty() {
            Err("not bound yet".to_owned())
        } else {
            Ok(())
        })
    }

    /// Stops the listener now (what dropping it does).
    pub(crate) fn stop(self) {}
}

impl Drop for Listener {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = terminate(&self.record, Duration::from_secs(1));
        }
        let _ = self.child.wait();
    }
}

/// What one connection attempt got: the listener's answer, or what went wrong.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub reply: Option<String>,
    pub error: Option<String>,
}

/// One connection from `netns` to `ip`:`port` (at most ~1 s): TCP connects and reads a
/// line; UDP sends one datagram and waits 0.5 s for a reply.
pub(crate) fn connect(netns: &str, ip: IpAddr, port: L4Port) -> Result<Answer, LabError> {
    // socat's address: `TCP4:10.0.0.1:22`, `TCP6:[fd00::1]:22`.
    let (v, host) = match ip {
        IpAddr::V4(a) => (4, a.to_string()),
        IpAddr::V6(a) => (6, format!("[{a}]")),
    };
    let (remote, timing) = match port.proto {
        Proto::Tcp => (
            format!("TCP{v}:{host}:{},connect-timeout=1", port.port),
            ["-T", "1"],
        ),
        Proto::Udp => (format!("UDP{v}:{host}:{}", port.port), ["-T", "0.5"]),
    };
    let mut argv = vec!["timeout", "3", "socat"];
    argv.extend_from_slice(&timing);
    argv.extend_from_slice(&["-t", "0.5", "-", &remote]);
    let argv = in_netns(netns, &argv);
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| LabError::Setup("empty command".into()))?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LabError::Command {
            argv: argv.join(" "),
            status: "not started".into(),
            stderr: e.to_string(),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A UDP listener answers a datagram; TCP ignores it.
        let _ = stdin.write_all(b"topo\n");
    }
    let out = child.wait_with_output().map_err(|e| LabError::Command {
        argv: argv.join(" "),
        status: "lost".into(),
        stderr: e.to_string(),
    })?;
    let reply = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned);
    let error = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .map(|l| match l.find(" E ") {
            Some(i) => l[i + 3..].to_owned(),
            None => l.to_owned(),
        });
    Ok(Answer { reply, error })
}

/// What a DHCP client got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lease {
    pub address: Option<Ipv4Addr>,
    pub prefix: Option<u8>,
    pub routers: Vec<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
}

impl std::fmt::Display for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[Ipv4Addr]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }
        };
        match self.address {
            Some(a) => write!(f, "address {a}")?,
            None => f.write_str("no address")?,
        }
        if let Some(p) = self.prefix {
            write!(f, "/{p}")?;
        }
        write!(f, " router {} dns {}", list(&self.routers), list(&self.dns))
    }
}

/// udhcpc calls its script with the lease in the environment; this one prints it and
/// configures nothing (the VM keeps its static address).
const DHCP_SCRIPT: &str = "#!/bin/sh\n\
# topo verify: report the lease, configure nothing.\n\
[ \"$1\" = bound ] && echo \"topo-lease ip=$ip mask=$mask router=$router dns=$dns\"\n\
exit 0\n";

/// Runs a DHCP client on `ifname` in `netns` (3 discovers, 1 s apart) and returns the lease;
/// `None` when no server answered. The script lives in the lab directory `dir`.
pub(crate) fn dhcp(dir: &Path, netns: &str, ifname: &str) -> Result<Option<Lease>, LabError> {
    let script = dir.join("udhcpc-report.sh");
    write_script(&script)?;
    let script_s = script.to_string_lossy();
    let argv = in_netns(
        netns,
        &[
            "timeout", "8", "busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1", "-i",
            ifname, "-s", &script_s,
        ],
    );
    let out = output(&argv)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(stdout
        .lines()
        .find_map(|l| l.strip_prefix("topo-lease "))
        .map(parse_lease))
}

fn write_script(path: &Path) -> Result<(), LabError> {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::read_to_string(path).is_ok_and(|s| s == DHCP_SCRIPT) {
        return Ok(());
    }
    // Written aside and renamed: concurrent checks never run a half-written script. Checks
    // run on threads of one process, so the aside name is unique per call, not per process.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, DHCP_SCRIPT).map_err(|e| LabError::io(&tmp, e))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| LabError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LabError::io(path, e))
}

/// `ip=10.0.0.5 mask=24 router=10.0.0.1 dns=8.8.8.8 8.8.4.4`.
fn parse_lease(line: &str) -> Lease {
    let mut lease = Lease::default();
    let mut key = "";
    for word in line.split_whitespace() {
        let value = match word.split_once('=') {
            Some((k, v)) => {
                key = k;
                v
            }
            None => word,
        };
        match key {
            "ip" => lease.address = value.parse().ok(),
            "mask" => lease.prefix = value.parse().ok(),
            "router" => lease.routers.extend(value.parse::<Ipv4Addr>().ok()),
            "dns" => lease.dns.extend(value.parse::<Ipv4Addr>().ok()),
            _ => {}
        }
    }
    lease
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_lines_parse() {
        let l = parse_lease("ip=10.0.0.5 mask=24 router=10.0.0.1 dns=8.8.8.8 8.8.4.4");
        assert_eq!(l.address, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(l.prefix, Some(24));
        assert_eq!(l.routers, vec!["10.0.0.1".parse::<Ipv4Addr>().unwrap()]);
        assert_eq!(l.dns.len(), 2);
        let l = parse_lease("ip=10.0.0.5 mask=24 router= dns=");
        assert!(l.routers.is_empty() && l.dns.is_empty());
        assert_eq!(l.to_string(), "address 10.0.0.5/24 router none dns none");
    }

    #[test]
    fn claims_wait_for_the_port() {
        let claims = Claims::default();
        let key: PortKey = ("ns".into(), "22/tcp".parse().unwrap());
        let first = claims.claim(vec![key.clone()]);
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _second = claims.claim(vec![key.clone()]);
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            std::thread::sleep(Duration::from_millis(50));
            assert!(!done.load(std::sync::atomic::Ordering::SeqCst));
            drop(first);
        });
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));
    }
}

//! Network namespaces, veth pairs and Linux bridges, through `ip` with argv arrays.
//!
//! The lab keeps every link and bridge inside namespaces it created, so deleting those
//! namespaces removes them all and nothing is left in the root namespace; interface names
//! are then only unique within their namespace, but are still checked against the kernel's
//! limit (15 bytes).

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;

use super::command::run;
use super::error::LabError;

/// The kernel's limit on interface names (IFNAMSIZ - 1).
pub(crate) const IFNAME_MAX: usize = 15;

/// Accepts a name `ip link` takes as is: 1-15 bytes of `[A-Za-z0-9_.-]`, not `.` or `..`.
pub(crate) fn check_ifname(name: &str) -> Result<(), LabError> {
    let ok = !name.is_empty()
        && name.len() <= IFNAME_MAX
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(LabError::Spec(format!(
            "interface name `{name}` must be 1-{IFNAME_MAX} characters of A-Z a-z 0-9 - _ ."
        )))
    }
}

/// Whether namespace `ns` exists (`/run/netns/NS`).
pub fn exists(ns: &str) -> bool {
    Path::new("/run/netns").join(ns).exists()
}

/// Creates namespace `ns` with its loopback up.
pub(crate) fn add(ns: &str) -> Result<(), LabError> {
    run(&["ip", "netns", "add", ns])?;
    run(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
    Ok(())
}

/// Deletes namespace `ns` if it exists (and with it every link and bridge inside).
pub(crate) fn delete(ns: &str) -> Result<(), LabError> {
    if exists(ns) {
        run(&["ip", "netns", "delete", ns])?;
    }
    Ok(())
}

/// The names of all namespaces.
pub fn list() -> Result<Vec<String>, LabError> {
    let out = run(&["ip", "netns", "list"])?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// PIDs of the processes running in namespace `ns` (none if it does not exist).
pub fn pids(ns: &str) -> Result<Vec<i32>, LabError> {
    if !exists(ns) {
        return Ok(Vec::new());
    }
    let out = run(&["ip", "netns", "pids", ns])?;
    Ok(out
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// The names of the links in namespace `ns` (a veth's `@peer` suffix dropped).
pub(crate) fn links(ns: &str) -> Result<Vec<String>, LabError> {
    let out = run(&["ip", "-n", ns, "-o", "link", "show"])?;
    Ok(out
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect())
}

/// The smallest `N` for which `ns` has no link `<prefix>N`: a free name for the next link
/// of that kind, also after links were removed (a running lab that follows its topology).
pub(crate) fn free_index(ns: &str, prefix: &str) -> Result<usize, LabError> {
    let taken: Vec<usize> = links(ns)?
        .iter()
        .filter_map(|l| l.strip_prefix(prefix)?.parse().ok())
        .collect();
    Ok((0..).find(|i| !taken.contains(i)).unwrap_or(0))
}

/// A veth pair: `a` in namespace `ns_a`, its peer `b` in `ns_b`; both up.
pub(crate) fn add_veth(ns_a: &str, a: &str, ns_b: &str, b: &str) -> Result<(), LabError> {
    check_ifname(a)?;
    check_ifname(b)?;
    run(&[
        "ip", "-n", ns_a, "link", "add", a, "type", "veth", "peer", "name", b, "netns", ns_b,
    ])?;
    link_up(ns_a, a)?;
    link_up(ns_b, b)
}

/// A Linux bridge `name` in namespace `ns`, up.
pub(crate) fn add_bridge(ns: &str, name: &str) -> Result<(), LabError> {
    check_ifname(name)?;
    run(&["ip", "-n", ns, "link", "add", name, "type", "bridge"])?;
    link_up(ns, name)
}

/// Makes `ifname` a port of bridge `bridge` (both in `ns`).
pub(crate) fn set_master(ns: &str, ifname: &str, bridge: &str) -> Result<(), LabError> {
    run(&["ip", "-n", ns, "link", "set", ifname, "master", bridge])?;
    Ok(())
}

pub(crate) fn link_up(ns: &str, ifname: &str) -> Result<(), LabError> {
    run(&["ip", "-n", ns, "link", "set", ifname, "up"])?;
    Ok(())
}

pub(crate) fn set_mac(ns: &str, ifname: &str, mac: &str) -> Result<(), LabError> {
    run(&["ip", "-n", ns, "link", "set", ifname, "address", mac])?;
    Ok(())
}

/// Adds `addr` (with its prefix length) to `ifname`. An IPv6 address skips duplicate
/// address detection (`nodad`): it is usable at once, not "tentative" for a second or two
/// while the first check runs (the lab gives each address to one namespace only).
pub(crate) fn add_addr(ns: &str, ifname: &str, addr: impl Into<IpNet>) -> Result<(), LabError> {
    let addr: IpNet = addr.into();
    let a = addr.to_string();
    let mut argv = vec!["ip", "-n", ns, "addr", "add", &a, "dev", ifname];
    if addr.addr().is_ipv6() {
        argv.push("nodad");
    }
    run(&argv)?;
    Ok(())
}

/// The default route of `gateway`'s family via `gateway`.
pub(crate) fn add_default_route(ns: &str, gateway: impl Into<IpAddr>) -> Result<(), LabError> {
    let gateway: IpAddr = gateway.into();
    let family = if gateway.is_ipv6() { "-6" } else { "-4" };
    let via = gateway.to_string();
    run(&[
        "ip", "-n", ns, family, "route", "add", "default", "via", &via,
    ])?;
    Ok(())
}

/// Readies `ifname` in `ns` for static IPv6: IPv6 on (a namespace may inherit it off) and
/// router advertisements ignored (`accept_ra=0`), so a router port with `ipv6-ra` adds no
/// SLAAC address or second default route beside the lab's static ones.
pub(crate) fn static_ipv6(ns: &str, ifname: &str) -> Result<(), LabError> {
    let off = format!("net.ipv6.conf.{ifname}.disable_ipv6=0");
    let ra = format!("net.ipv6.conf.{ifname}.accept_ra=0");
    run(&["ip", "netns", "exec", ns, "sysctl", "-q", "-w", &off, &ra])?;
    Ok(())
}

/// Turns off transmit checksum offload on `ifname` in `ns`. A veth hands its peer TCP and
/// UDP packets whose checksum is left for the NIC to fill in; ovs-vswitchd's userspace
/// datapath fills in none, so its conntrack (OVN's ACLs and load balancers) saw bad
/// checksums and dropped the packets, and the far end's kernel did as well. ICMP (ping)
/// always carries a full checksum, which is why only TCP and UDP were hit.
pub(crate) fn disable_tx_offload(ns: &str, ifname: &str) -> Result<(), LabError> {
    run(&[
        "ip", "netns", "exec", ns, "ethtool", "-K", ifname, "tx", "off",
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifnames_are_checked_against_the_kernel_limit() {
        assert!(check_ifname("br-ex").is_ok());
        assert!(check_ifname("abcdefghijklmno").is_ok());
        assert!(check_ifname("abcdefghijklmnop").is_err());
        assert!(check_ifname("").is_err());
        assert!(check_ifname("a b").is_err());
        assert!(check_ifname("a/b").is_err());
        assert!(check_ifname("..").is_err());
    }
}

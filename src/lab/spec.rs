//! The lab's own input: which chassis, physical networks, VMs and checks to bring to life.
//!
//! [`LabSpec`] is deliberately small and independent of the topology language: the
//! topology compiler builds it from a parsed topology (chassis and their encap IPs, the
//! `lab.networks` section, VIF ports that name a `chassis`, the `checks`). Until then
//! `topo lab up` reads it directly from a JSON or YAML file (interim format):
//!
//! ```yaml
//! name: demo
//! chassis:
//!   - { name: ch1, encap_ip: 172.17.42.1 }
//!   - { name: ch2, encap_ip: 172.17.42.2 }
//! networks:
//!   - name: externalnet
//!     subnet: 10.10.40.0/24
//!     hosts: { client: 10.10.40.10 }
//!     ipv6_prefix: fd00:40::/64
//!     ipv6_hosts: { client: ["fd00:40::10"] }
//!     ipv6_gateway: fd00:40::1
//!     mapped_on: { ch1: br-ex }
//! vms:
//!   - { name: vm1, chassis: ch1, mac: "00:00:00:00:00:03", ip: 10.10.10.2/24, gateway: 10.10.10.1,
//!       ipv6: ["fd00:10::2/64"], ipv6_gateway: "fd00:10::1" }
//! checks:
//!   - { from: vm1, to: client, expect: reachable }
//!   - { from: vm1, to: "fd00:40::10", expect: reachable }
//!   - { from: vm1, to: client, expect: { source-ip: 10.10.40.1 } }
//!   - { from: vm1, to: client, expect: { source-ip: "fd00:40::1" } }
//!   - { name: ssh, from: vm1, to: client, expect: reachable, port: 22/tcp }
//!   - { from: vm1, expect: { dhcp: { dns: 10.0.0.53 } } }
//!   - { from: client, to: 172.16.0.100, port: 80/tcp,
//!       expect: { balanced: { backends: [vm1, vm2], backend_port: 8080, stop_backend: vm2 } } }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use super::error::LabError;

/// Everything the lab builds. Names of chassis, networks, VMs and hosts are
/// `[A-Za-z0-9_.-]{1,32}` and unique across VMs and hosts (checks name them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabSpec {
    /// The stack name (informational; the lab's unique names come from a random lab id).
    pub name: String,
    /// Prefix length of the underlay subnet that holds the encap IPs (default 24).
    #[serde(default = "default_underlay_prefix")]
    pub underlay_prefix: u8,
    pub chassis: Vec<ChassisSpec>,
    #[serde(default)]
    pub networks: Vec<NetworkSpec>,
    #[serde(default)]
    pub vms: Vec<VmSpec>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    /// Emulated hardware VTEPs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vteps: Vec<VtepSpec>,
}

/// An emulated hardware VTEP: its own namespace with an `ovsdb-server` serving
/// `Open_vSwitch` and `hardware_vtep`, `ovs-vswitchd`, the `ovs-vtep` emulator (whose OVS
/// bridge `name` is the physical switch, its ports the physical ports) and
/// `ovn-controller-vtep`; on the underlay like a chassis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VtepSpec {
    /// The physical switch name (its Southbound chassis name).
    pub name: String,
    pub tunnel_ip: Ipv4Addr,
    /// Its physical ports.
    pub ports: Vec<String>,
    /// Hosts behind a port (untagged): name -> (port, address with prefix).
    #[serde(default)]
    pub hosts: BTreeMap<String, (String, Ipv4Net)>,
}

fn default_underlay_prefix() -> u8 {
    24
}

/// A hypervisor or gateway: its own namespace, Open_vSwitch database, vswitchd and
/// ovn-controller, registered in the Southbound database under `name` (its `system-id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChassisSpec {
    pub name: String,
    /// Geneve tunnel endpoint, on the chassis's underlay interface.
    pub encap_ip: Ipv4Addr,
}

/// A physical network: a Linux bridge with outside hosts, wired to the provider bridge of
/// each chassis that maps it (the seed's `br-ens8` with its NIC `ens8`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// The OVN network name (`localnet` ports' `network_name`, `ovn-bridge-mappings` key).
    pub name: String,
    pub subnet: Ipv4Net,
    /// Outside hosts: name -> address in `subnet`.
    #[serde(default)]
    pub hosts: BTreeMap<String, Ipv4Addr>,
    /// Chassis that reach this network -> their provider bridge (e.g. `br-ex`).
    #[serde(default)]
    pub mapped_on: BTreeMap<String, String>,
    /// Chassis -> name of its NIC on this network (default `nic<N>`, N the network's
    /// index), the port to add to the provider bridge (the seed's `ens8`).
    #[serde(default)]
    pub nics: BTreeMap<String, String>,
    /// Host -> VLAN it sits on, as behind a localnet port with a `tag` (the host's port on
    /// the network's switch is an access port of that VLAN; chassis ports are trunks).
    #[serde(default)]
    pub vlans: BTreeMap<String, u16>,
    /// The hosts' default route (for a topology: the router port on this network), so a
    /// host's packets to anywhere reach OVN, and an `unreachable` check tests OVN rather
    /// than the host's routing table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// The network's IPv6 prefix (a dual-stack network): the hosts' IPv6 addresses are in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_prefix: Option<Ipv6Net>,
    /// Hosts' IPv6 addresses (each host also has its IPv4 address in `hosts`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ipv6_hosts: BTreeMap<String, Vec<Ipv6Addr>>,
    /// The hosts' IPv6 default route (the router port's IPv6 address on this network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_gateway: Option<Ipv6Addr>,
}

/// A VM: a namespace plugged into its chassis's `br-int` as the VIF of the logical switch
/// port `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmSpec {
    /// The logical switch port name (`external_ids:iface-id`).
    pub name: String,
    pub chassis: String,
    pub mac: String,
    /// Address with prefix length, e.g. `10.10.10.2/24`.
    pub ip: Ipv4Net,
    /// Default route, usually the logical router port's address.
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
    /// IPv6 addresses with prefix length, e.g. `fd00:10::2/64` (the port's IPv6 addresses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6: Vec<Ipv6Net>,
    /// IPv6 default route, usually the logical router port's IPv6 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// OVN assigns the address (`addresses: dynamic`): the VM is plugged in with no
    /// address (and `mac` may be empty), `ip` is `0.0.0.0` with the switch's prefix, and the
    /// VM takes the port's `dynamic_addresses` once they exist (`lab::dynamic`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dynamic: bool,
}

/// One declared check from an endpoint (VM or host name) to an endpoint or an IP address
/// (`source-ip` needs an endpoint, or one of its addresses: the capture runs there; `dhcp`
/// needs no `to`). An endpoint is reached at its IPv4 address, or for `source-ip` at its
/// address of the expected source's family; an endpoint's IPv6 address picks IPv6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// For `topo verify --check NAME` and the report (default: `from -> to expect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub from: String,
    #[serde(default)]
    pub to: String,
    pub expect: Expect,
    /// `reachable` / `unreachable` / `balanced`: a connection to this port (`22/tcp`,
    /// `53/udp`) instead of ICMP echo. A listener runs on `to` (when it is an endpoint)
    /// for the check's lifetime and answers with the endpoint's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<L4Port>,
}

impl CheckSpec {
    /// The name in the report and for `--check`: `name`, else `from -> to expect`.
    pub fn label(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let port = self.port.map(|p| format!(" {p}")).unwrap_or_default();
        if self.to.is_empty() {
            format!("{} {}{port}", self.from, self.expect)
        } else {
            format!("{} -> {} {}{port}", self.from, self.to, self.expect)
        }
    }
}

/// A transport port: `22/tcp`, `53/udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct L4Port {
    pub port: u16,
    pub proto: Proto,
}

/// The transport of an [`L4Port`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl std::str::FromStr for L4Port {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not PORT/tcp or PORT/udp (e.g. 22/tcp, 53/udp)");
        let (port, proto) = s.split_once('/').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        if port == 0 {
            return Err(bad());
        }
        let proto = match proto {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return Err(bad()),
        };
        Ok(L4Port { port, proto })
    }
}

impl TryFrom<String> for L4Port {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<L4Port> for String {
    fn from(p: L4Port) -> String {
        p.to_string()
    }
}

impl std::fmt::Display for L4Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let proto = match self.proto {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        };
        write!(f, "{}/{proto}", self.port)
    }
}

/// What a check expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// ICMP echo (or a connection to `port`) from `from` to `to` gets a reply.
    Reachable,
    /// No reply within the check's window.
    Unreachable,
    /// `to` sees the echo request arrive with this source address (e.g. the SNAT IP); its
    /// family is the family of the ping.
    SourceIp(IpAddr),
    /// VM `from` gets an address, router and DNS server from OVN's native DHCP.
    Dhcp(DhcpExpect),
    /// Connections to the load balancer VIP `to`:`port` are answered by at least two of
    /// the backends.
    Balanced(Balanced),
}

/// What `expect: dhcp` compares the lease with; unset fields are not compared, except
/// `address` and `router`, which default to the VM's own address and gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpExpect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Ipv4Addr>,
}

/// `expect: balanced`: the backends (endpoints that get a listener on `backend_port`,
/// default the check's port), how many connections to open, and optionally a backend whose
/// listener is stopped, after which every connection must succeed on the others (the load
/// balancer's health check removed it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Balanced {
    pub backends: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_port: Option<u16>,
    #[serde(default = "default_connections")]
    pub connections: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_backend: Option<String>,
}

/// Connections a `balanced` check opens by default: with two backends, the chance that
/// all land on one is 2^-11.
pub const DEFAULT_CONNECTIONS: u32 = 12;

fn default_connections() -> u32 {
    DEFAULT_CONNECTIONS
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Reachable => f.write_str("reachable"),
            Expect::Unreachable => f.write_str("unreachable"),
            Expect::SourceIp(ip) => write!(f, "source-ip {ip}"),
            Expect::Dhcp(_) => f.write_str("dhcp"),
            Expect::Balanced(b) => match &b.stop_backend {
                Some(s) => write!(f, "balanced without {s}"),
                None => f.write_str("balanced"),
            },
        }
    }
}

impl LabSpec {
    /// The VM or host whose address `ip` is.
    pub(crate) fn owner_of(&self, ip: IpAddr) -> Option<&str> {
        let vm = self.vms.iter().find(|v| match ip {
            IpAddr::V4(a) => v.ip.addr() == a,
            IpAddr::V6(a) => v.ipv6.iter().any(|n| n.addr() == a),
        });
        if let Some(v) = vm {
            return Some(&v.name);
        }
        self.networks
            .iter()
            .find_map(|n| match ip {
                IpAddr::V4(a) => n
                    .hosts
                    .iter()
                    .find(|(_, h)| **h == a)
                    .map(|(h, _)| h.as_str()),
                IpAddr::V6(a) => n
                    .ipv6_hosts
                    .iter()
                    .find(|(_, h)| h.contains(&a))
                    .map(|(h, _)| h.as_str()),
            })
            .or_else(|| {
                self.vteps.iter().find_map(|v| {
                    v.hosts
                        .iter()
                        .find(|(_, (_, net))| IpAddr::V4(net.addr()) == ip)
                        .map(|(h, _)| h.as_str())
                })
            })
    }

    /// Reads a spec from a `.json` file, or YAML otherwise.
    pub fn load(path: &Path) -> Result<LabSpec, LabError> {
        let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
        let is_json = path.extension().is_some_and(|e| e == "json");
        let spec: LabSpec = if is_json {
            serde_json::from_str(&text).map_err(|e| LabError::Spec(format!("{e}")))?
        } else {
            serde_saphyr::from_str(&text).map_err(|e| LabError::Spec(format!("{e}")))?
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Checks names, references and addresses; every error names what is wrong.
    pub(crate) fn validate(&self) -> Result<(), LabError> {
        let err = |m: String| Err(LabError::Spec(m));
        check_name("lab name", &self.name)?;
        if !(8..=30).contains(&self.underlay_prefix) {
            return err(format!(
                "underlay_prefix {} is not between 8 and 30",
                self.underlay_prefix
            ));
        }
        if self.chassis.is_empty() {
            return err("a lab needs at least one chassis".into());
        }
        let mut chassis = BTreeSet::new();
        let mut encaps = BTreeSet::new();
        for c in &self.chassis {
            check_name("chassis", &c.name)?;
            if !chassis.insert(c.name.as_str()) {
                return err(format!("chassis `{}` is declared twice", c.name));
            }
            if !encaps.insert(c.encap_ip) {
                return err(format!("encap IP {} is used twice", c.encap_ip));
            }
        }
        let underlay = Ipv4Net::new(self.chassis[0].encap_ip, self.underlay_prefix)
            .map_err(|e| LabError::Spec(e.to_string()))?
            .trunc();
        for c in &self.chassis {
            if !underlay.contains(&c.encap_ip) {
                return err(format!(
                    "encap IP {} of chassis `{}` is outside the underlay {underlay}",
                    c.encap_ip, c.name
                ));
            }
        }
        let mut endpoints = BTreeSet::new();
        let mut networks = BTreeSet::new();
        for n in &self.networks {
            check_name("network", &n.name)?;
            if !networks.insert(n.name.as_str()) {
                return err(format!("network `{}` is declared twice", n.name));
            }
            for (host, ip) in &n.hosts {
                check_name("host", host)?;
                if !endpoints.insert(host.as_str()) {
                    return err(format!("endpoint `{host}` is declared twice"));
                }
                if !n.subnet.contains(ip) {
                    return err(format!(
                        "host `{host}` address {ip} is outside {} of network `{}`",
                        n.subnet, n.name
                    ));
                }
            }
            if let Some(gw) = n.gateway
                && !n.subnet.contains(&gw)
            {
                return err(format!(
                    "network `{}`: gateway {gw} is outside {}",
                    n.name, n.subnet
                ));
            }
            let v6_inside = |ip: &Ipv6Addr| n.ipv6_prefix.is_some_and(|p| p.contains(ip));
            for (host, ips) in &n.ipv6_hosts {
                if !n.hosts.contains_key(host) {
                    return err(format!(
                        "network `{}` gives an IPv6 address to unknown host `{host}`",
                        n.name
                    ));
                }
                if let Some(ip) = ips.iter().find(|ip| !v6_inside(ip)) {
                    return err(format!(
                        "host `{host}` address {ip} is outside the IPv6 prefix of network `{}`",
                        n.name
                    ));
                }
            }
            if let Some(gw) = n.ipv6_gateway
                && !v6_inside(&gw)
            {
                return err(format!(
                    "network `{}`: IPv6 gateway {gw} is outside its IPv6 prefix",
                    n.name
                ));
            }
            for (ch, bridge) in &n.mapped_on {
                if !chassis.contains(ch.as_str()) {
                    return err(format!(
                        "network `{}` is mapped on unknown chassis `{ch}`",
                        n.name
                    ));
                }
                super::netns::check_ifname(bridge)?;
                if RESERVED_IFNAMES.contains(&bridge.as_str()) {
                    return err(format!(
                        "network `{}`: `{bridge}` is the lab's own bridge on chassis `{ch}`",
                        n.name
                    ));
                }
            }
            for (host, tag) in &n.vlans {
                if !n.hosts.contains_key(host) {
                    return err(format!(
                        "network `{}` gives a VLAN to unknown host `{host}`",
                        n.name
                    ));
                }
                if !(1..=4094).contains(tag) {
                    return err(format!("host `{host}`: VLAN {tag} is not in 1..4094"));
                }
            }
            for (ch, nic) in &n.nics {
                if !n.mapped_on.contains_key(ch) {
                    return err(format!(
                        "network `{}` names a NIC on chassis `{ch}`, which does not map it",
                        n.name
                    ));
                }
                super::netns::check_ifname(nic)?;
                let vif_like = nic
                    .strip_prefix("vif")
                    .is_some_and(|r| r.bytes().all(|b| b.is_ascii_digit()));
                if RESERVED_IFNAMES.contains(&nic.as_str()) || vif_like {
                    return err(format!(
                        "network `{}`: NIC name `{nic}` is taken by the lab on chassis `{ch}`",
                        n.name
                    ));
                }
            }
        }
        for v in &self.vteps {
            check_name("VTEP", &v.name)?;
            super::netns::check_ifname(&v.name)?;
            if chassis.contains(v.name.as_str()) || RESERVED_IFNAMES.contains(&v.name.as_str()) {
                return err(format!(
                    "VTEP `{}` has the name of a chassis or a lab bridge",
                    v.name
                ));
            }
            if !encaps.insert(v.tunnel_ip) {
                return err(format!("tunnel IP {} is used twice", v.tunnel_ip));
            }
            if !underlay.contains(&v.tunnel_ip) {
                return err(format!(
                    "tunnel IP {} of VTEP `{}` is outside the underlay {underlay}",
                    v.tunnel_ip, v.name
                ));
            }
            for p in &v.ports {
                super::netns::check_ifname(p)?;
                if RESERVED_IFNAMES.contains(&p.as_str()) {
                    return err(format!("VTEP `{}`: port name `{p}` is the lab's", v.name));
                }
            }
            for (host, (port, _)) in &v.hosts {
                check_name("host", host)?;
                if !endpoints.insert(host.as_str()) {
                    return err(format!("endpoint `{host}` is declared twice"));
                }
                if !v.ports.contains(port) {
                    return err(format!(
                        "host `{host}`: VTEP `{}` has no port `{port}`",
                        v.name
                    ));
                }
                if v.hosts.iter().filter(|(_, (p, _))| p == port).count() > 1 {
                    return err(format!(
                        "VTEP `{}` port `{port}` has more than one host (one veth per port)",
                        v.name
                    ));
                }
            }
        }
        for vm in &self.vms {
            check_name("vm", &vm.name)?;
            if !endpoints.insert(vm.name.as_str()) {
                return err(format!("endpoint `{}` is declared twice", vm.name));
            }
            if !chassis.contains(vm.chassis.as_str()) {
                return err(format!(
                    "vm `{}` is on unknown chassis `{}`",
                    vm.name, vm.chassis
                ));
            }
            let mac_later = vm.dynamic && vm.mac.is_empty();
            if !mac_later && !is_unicast_mac(&vm.mac) {
                return err(format!(
                    "vm `{}` MAC `{}` is not a unicast MAC address",
                    vm.name, vm.mac
                ));
            }
            if let Some(gw) = vm.gateway
                && !vm.dynamic
                && !vm.ip.contains(&gw)
            {
                return err(format!(
                    "vm `{}` gateway {gw} is outside its subnet {}",
                    vm.name,
                    vm.ip.trunc()
                ));
            }
            if let Some(gw) = vm.ipv6_gateway
                && !vm.ipv6.iter().any(|n| n.contains(&gw))
            {
                return err(format!(
                    "vm `{}` IPv6 gateway {gw} is outside its IPv6 networks",
                    vm.name
                ));
            }
        }
        let vms: BTreeSet<&str> = self.vms.iter().map(|v| v.name.as_str()).collect();
        let mut names = BTreeSet::new();
        for c in &self.checks {
            let label = c.label();
            if let Some(n) = &c.name
                && (n.is_empty() || !names.insert(n.as_str()))
            {
                return err(format!("check name `{n}` is empty or used twice"));
            }
            if !endpoints.contains(c.from.as_str()) {
                return err(format!(
                    "check {label}: `{}` is neither a vm nor a host",
                    c.from
                ));
            }
            let to_ip = c.to.parse::<IpAddr>().ok();
            let needs_to = !matches!(c.expect, Expect::Dhcp(_));
            if needs_to && !endpoints.contains(c.to.as_str()) && to_ip.is_none() {
                return err(format!(
                    "check {label}: `{}` is neither a vm, a host nor an IP address",
                    c.to
                ));
            }
            let owned = to_ip.is_some_and(|ip| self.owner_of(ip).is_some());
            match &c.expect {
                Expect::SourceIp(_) if !endpoints.contains(c.to.as_str()) && !owned => {
                    return err(format!(
                        "check {label}: source-ip needs a vm or host (or its address) to capture on"
                    ));
                }
                Expect::Dhcp(_) if !vms.contains(c.from.as_str()) => {
                    return err(format!("check {label}: dhcp runs in a vm, not a host"));
                }
                Expect::Balanced(b) => {
                    if c.port.is_none() {
                        return err(format!("check {label}: balanced needs a `port`"));
                    }
                    if b.backends.len() < 2 || b.connections < 2 {
                        return err(format!(
                            "check {label}: balanced needs two backends or more and two connections or more"
                        ));
                    }
                    for backend in b.backends.iter().chain(&b.stop_backend) {
                        if !endpoints.contains(backend.as_str()) {
                            return err(format!(
                                "check {label}: backend `{backend}` is neither a vm nor a host"
                            ));
                        }
                    }
                    if let Some(s) = &b.stop_backend
                        && !b.backends.contains(s)
                    {
                        return err(format!(
                            "check {label}: stop_backend `{s}` is not one of the backends"
                        ));
                    }
                }
                _ => {}
            }
            if c.port.is_some() && matches!(c.expect, Expect::SourceIp(_) | Expect::Dhcp(_)) {
                return err(format!(
                    "check {label}: `port` is for reachable, unreachable and balanced"
                ));
            }
        }
        Ok(())
    }
}

/// Interface names the lab itself uses inside a chassis namespace.
pub(crate) const RESERVED_IFNAMES: &[&str] = &["lo", "underlay", "br-int", "br-phy", "ovs-netdev"];

/// Names end up in namespace names and file names: keep them plain.
fn check_name(what: &str, name: &str) -> Result<(), LabError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(LabError::Spec(format!(
            "{what} name `{name}` must be 1-32 characters of A-Z a-z 0-9 - _ . (not starting with .)"
        )))
    }
}

fn is_unicast_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        && u8::from_str_radix(parts[0], 16).is_ok_and(|b| b & 1 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> &'static str {
        r#"
name: demo
chassis:
  - { name: ch1, encap_ip: 172.17.42.1 }
  - { name: ch2, encap_ip: 172.17.42.2 }
networks:
  - name: externalnet
    subnet: 10.10.40.0/24
    hosts: { client: 10.10.40.10 }
    mapped_on: { ch1: br-ex }
vms:
  - { name: vm1, chassis: ch1, mac: "00:00:00:00:00:03", ip: 10.10.10.2/24, gateway: 10.10.10.1 }
checks:
  - { from: vm1, to: client, expect: reachable }
  - { from: vm1, to: client, expect: { source-ip: 10.10.40.1 } }
"#
    }

    #[test]
    fn yaml_example_parses_and_validates() {
        let spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.validate().unwrap();
        assert_eq!(spec.underlay_prefix, 24);
        assert_eq!(
            spec.checks[1].expect,
            Expect::SourceIp("10.10.40.1".parse().unwrap())
        );
        assert_eq!(spec.networks[0].mapped_on["ch1"], "br-ex");
    }

    #[test]
    fn ports_parse_and_print() {
        let p: L4Port = "22/tcp".parse().unwrap();
        assert_eq!((p.port, p.proto), (22, Proto::Tcp));
        assert_eq!("53/udp".parse::<L4Port>().unwrap().to_string(), "53/udp");
        for bad in ["22", "0/tcp", "22/sctp", "70000/udp", "/tcp", "x/tcp"] {
            assert!(bad.parse::<L4Port>().is_err(), "{bad}");
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let mut spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.vms[0].chassis = "nope".into();
        let e = spec.validate().unwrap_err().to_string();
        assert!(e.contains("unknown chassis `nope`"), "{e}");

        let mut spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.vms[0].mac = "01:00:00:00:00:01".into();
        assert!(spec.validate().is_err());

        let mut spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.chassis[1].encap_ip = "172.17.43.2".parse().unwrap();
        let e = spec.validate().unwrap_err().to_string();
        assert!(e.contains("outside the underlay"), "{e}");

        let mut spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.checks[0].to = "ghost".into();
        assert!(spec.validate().is_err());
        spec.checks[0].to = "10.10.40.99".into();
        spec.validate().unwrap();
        spec.checks[1].to = "10.10.40.99".into();
        assert!(spec.validate().is_err());

        let mut spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.networks[0]
            .nics
            .insert("ch1".into(), "underlay".into());
        assert!(spec.validate().is_err());
        spec.networks[0].nics.insert("ch1".into(), "ens8".into());
        spec.validate().unwrap();
        spec.networks[0].nics.insert("ch2".into(), "ens8".into());
        assert!(spec.validate().is_err());

        let mut spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.vms[0].name = "a/b".into();
        assert!(spec.validate().is_err());
    }

    #[test]
    fn ipv6_addresses_are_validated_and_name_their_endpoint() {
        let mut spec: LabSpec = serde_saphyr::from_str(demo()).unwrap();
        spec.vms[0].ipv6 = vec!["fd00:10::2/64".parse().unwrap()];
        spec.vms[0].ipv6_gateway = Some("fd00:10::1".parse().unwrap());
        let net = &mut spec.networks[0];
        net.ipv6_prefix = Some("fd00:40::/64".parse().unwrap());
        net.ipv6_hosts
            .insert("client".into(), vec!["fd00:40::10".parse().unwrap()]);
        // source-ip over IPv6, captured on the endpoint that has the address.
        spec.checks[1].expect = Expect::SourceIp("fd00:40::1".parse().unwrap());
        spec.checks[1].to = "fd00:40::10".into();
        spec.validate().unwrap();
        spec.checks[1].to = "fd00:40::99".into();
        let e = spec.validate().unwrap_err().to_string();
        assert!(e.contains("capture on"), "{e}");

        let mut bad = spec.clone();
        bad.networks[0]
            .ipv6_hosts
            .insert("client".into(), vec!["fd00:41::10".parse().unwrap()]);
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("outside the IPv6 prefix"), "{e}");
        let mut bad = spec.clone();
        bad.vms[0].ipv6_gateway = Some("fd00:11::1".parse().unwrap());
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("IPv6 gateway"), "{e}");
    }
}

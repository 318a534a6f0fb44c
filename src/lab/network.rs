//! Physical networks: a Linux bridge in the network's namespace standing for the wire,
//! outside hosts as namespaces on it, and for each chassis that maps the network a veth
//! whose chassis end is the NIC of that chassis's provider bridge (the seed's `ens8`).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::error::LabError;
use super::netns;
use super::state::{Endpoint, EndpointKind};

/// The bridge inside a network's namespace.
pub const BRIDGE: &str = "br0";
/// A host's interface inside its namespace.
pub const HOST_IFNAME: &str = "eth0";

/// The network's bridge, in namespace `ns` (already created).
pub fn create(ns: &str) -> Result<(), LabError> {
    netns::add_bridge(ns, BRIDGE)
}

/// Host number `index` with address `ip` (prefix from `subnet`) in namespace `host_ns`
/// (already created), on the network in `net_ns`.
pub fn add_host(
    net_ns: &str,
    host_ns: &str,
    index: usize,
    ip: Ipv4Addr,
    subnet: Ipv4Net,
) -> Result<Endpoint, LabError> {
    let outer = format!("h{index}");
    netns::add_veth(net_ns, &outer, host_ns, HOST_IFNAME)?;
    netns::set_master(net_ns, &outer, BRIDGE)?;
    let addr = Ipv4Net::new(ip, subnet.prefix_len()).map_err(|e| LabError::Spec(e.to_string()))?;
    netns::add_addr(host_ns, HOST_IFNAME, addr)?;
    Ok(Endpoint {
        kind: EndpointKind::Host,
        netns: host_ns.to_owned(),
        ifname: HOST_IFNAME.into(),
        ip,
        mac: None,
        chassis: None,
    })
}

/// Wires chassis number `index` (namespace `chassis_ns`) to the network; its end is `nic`.
pub fn wire_chassis(
    net_ns: &str,
    chassis_ns: &str,
    index: usize,
    nic: &str,
) -> Result<(), LabError> {
    let outer = format!("c{index}");
    netns::add_veth(net_ns, &outer, chassis_ns, nic)?;
    netns::set_master(net_ns, &outer, BRIDGE)
}

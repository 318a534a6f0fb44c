//! Physical networks: a switch in the network's namespace standing for the wire, outside
//! hosts as namespaces on it (with their IPv6 addresses on a dual-stack network), and for each chassis that maps the network a veth whose
//! chassis end is the NIC of that chassis's provider bridge (the seed's `ens8`).
//!
//! The switch is a Linux bridge; a network with VLANs (hosts behind a localnet port with a
//! `tag`) gets an Open vSwitch bridge instead (its own ovsdb-server and ovs-vswitchd in the
//! network's namespace), with hosts on access ports and chassis on trunks, because the
//! kernel may lack 8021q and bridge VLAN filtering (it does on the machines topo is
//! developed on).

use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::BTreeMap;

use super::error::LabError;
use super::netns;
use super::spec::NetworkSpec;
use super::state::{Endpoint, EndpointKind};
use crate::live::vswitch::{BridgeSpec, PortSpec, Vswitch};

/// The switch inside a network's namespace.
pub(crate) const BRIDGE: &str = "br0";
/// A host's interface inside its namespace.
pub(crate) const HOST_IFNAME: &str = "eth0";

/// Host number `index`, `host` of network `net`, in namespace `host_ns` (already created),
/// wired into the network's namespace `net_ns`: its address (prefix from the network's
/// subnet, default route via its gateway) and its IPv6 addresses (prefix and default route
/// likewise). Returns the port to put on the switch, and the endpoint.
pub(crate) fn add_host(
    net_ns: &str,
    host_ns: &str,
    index: usize,
    net: &NetworkSpec,
    host: &str,
) -> Result<(String, Endpoint), LabError> {
    let ip = *net
        .hosts
        .get(host)
        .ok_or_else(|| LabError::Spec(format!("no host `{host}` on network `{}`", net.name)))?;
    let outer = format!("h{index}");
    netns::add_veth(net_ns, &outer, host_ns, HOST_IFNAME)?;
    netns::disable_tx_offload(host_ns, HOST_IFNAME)?;
    let addr =
        Ipv4Net::new(ip, net.subnet.prefix_len()).map_err(|e| LabError::Spec(e.to_string()))?;
    netns::add_addr(host_ns, HOST_IFNAME, addr)?;
    if let Some(gw) = net.gateway {
        netns::add_default_route(host_ns, gw)?;
    }
    let ipv6 = net.ipv6_hosts.get(host).cloned().unwrap_or_default();
    if let (Some(prefix), false) = (net.ipv6_prefix, ipv6.is_empty()) {
        netns::static_ipv6(host_ns, HOST_IFNAME)?;
        for a in &ipv6 {
            let addr =
                Ipv6Net::new(*a, prefix.prefix_len()).map_err(|e| LabError::Spec(e.to_string()))?;
            netns::add_addr(host_ns, HOST_IFNAME, addr)?;
        }
        if let Some(gw) = net.ipv6_gateway {
            netns::add_default_route(host_ns, gw)?;
        }
    }
    Ok((
        outer,
        Endpoint {
            kind: EndpointKind::Host,
            netns: host_ns.to_owned(),
            ifname: HOST_IFNAME.into(),
            ip,
            ipv6,
            mac: None,
            chassis: None,
        },
    ))
}

/// Wires chassis number `index` (namespace `chassis_ns`) to the network; its end is `nic`.
/// Returns the port to put on the switch.
pub(crate) fn wire_chassis(
    net_ns: &str,
    chassis_ns: &str,
    index: usize,
    nic: &str,
) -> Result<String, LabError> {
    let outer = format!("c{index}");
    netns::add_veth(net_ns, &outer, chassis_ns, nic)?;
    Ok(outer)
}

/// A Linux bridge holding `ports` (VLANs ignored: none are asked for).
pub(crate) fn linux_switch(ns: &str, ports: &[(String, Option<u16>)]) -> Result<(), LabError> {
    netns::add_bridge(ns, BRIDGE)?;
    for (port, _) in ports {
        netns::set_master(ns, port, BRIDGE)?;
    }
    Ok(())
}

/// An Open vSwitch bridge holding `ports`: a port with a VLAN is an access port of that
/// VLAN, one without is a trunk.
pub(crate) async fn ovs_switch(
    vs: &Vswitch,
    ports: &[(String, Option<u16>)],
) -> Result<(), LabError> {
    let specs: Vec<PortSpec> = ports
        .iter()
        .map(|(name, tag)| PortSpec {
            name: name.clone(),
            tag: *tag,
            ..PortSpec::default()
        })
        .collect();
    vs.ensure_bridge(
        &BridgeSpec {
            name: BRIDGE.into(),
            datapath_type: "netdev".into(),
            fail_mode: String::new(),
            external_ids: BTreeMap::new(),
        },
        &specs,
    )
    .await?;
    Ok(())
}

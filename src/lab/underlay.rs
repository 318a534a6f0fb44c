//! The underlay: the segment the chassis tunnel over. A Linux bridge in the lab's underlay
//! namespace; per chassis a veth whose inner end (`underlay`) is a port of the chassis's netdev
//! bridge `br-phy`, whose own interface carries the chassis's encap IP. Geneve between
//! chassis crosses that bridge (`ip netns exec topo-<id>-underlay tcpdump -ni br0` shows it).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::error::LabError;
use super::netns;
use crate::live::vswitch::{BridgeSpec, PortSpec, Vswitch};

/// The Linux bridge inside the underlay namespace.
pub(crate) const BRIDGE: &str = "br0";
/// The chassis's netdev bridge holding the encap IP.
pub(crate) const PHY_BRIDGE: &str = "br-phy";
/// The chassis's end of its underlay veth (a name no topology NIC will want).
pub(crate) const UPLINK: &str = "underlay";

/// Creates the underlay bridge in namespace `ns` (which must exist).
pub(crate) fn create(ns: &str) -> Result<(), LabError> {
    netns::add_bridge(ns, BRIDGE)
}

/// Wires chassis number `index` (namespace `chassis_ns`) to the underlay.
pub(crate) fn wire(underlay_ns: &str, chassis_ns: &str, index: usize) -> Result<(), LabError> {
    let outer = format!("ch{index}");
    netns::add_veth(underlay_ns, &outer, chassis_ns, UPLINK)?;
    netns::set_master(underlay_ns, &outer, BRIDGE)
}

/// Declares `br-phy` with the uplink in the chassis's database.
pub(crate) async fn configure(vs: &Vswitch) -> Result<(), LabError> {
    vs.ensure_bridge(
        &BridgeSpec {
            name: PHY_BRIDGE.into(),
            datapath_type: "netdev".into(),
            ..BridgeSpec::default()
        },
        &[PortSpec::system(UPLINK)],
    )
    .await?;
    Ok(())
}

/// Puts the encap IP on `br-phy` (once `ovs-vswitchd` has created its interface).
pub(crate) fn address(chassis_ns: &str, ip: Ipv4Addr, prefix: u8) -> Result<(), LabError> {
    let net = Ipv4Net::new(ip, prefix).map_err(|e| LabError::Spec(e.to_string()))?;
    netns::add_addr(chassis_ns, PHY_BRIDGE, net)?;
    netns::link_up(chassis_ns, PHY_BRIDGE)
}

/// Puts the encap IP on `br-phy` again after `ovs-vswitchd` restarted (the new interface has
/// none; an address still there is kept).
pub(crate) fn readdress(chassis_ns: &str, ip: Ipv4Addr, prefix: u8) -> Result<(), LabError> {
    let net = Ipv4Net::new(ip, prefix).map_err(|e| LabError::Spec(e.to_string()))?;
    super::command::run(&[
        "ip",
        "-n",
        chassis_ns,
        "addr",
        "replace",
        &net.to_string(),
        "dev",
        PHY_BRIDGE,
    ])?;
    netns::link_up(chassis_ns, PHY_BRIDGE)
}

//! VMs: a namespace per VIF port, whose `eth0` has the port's MAC, IP and default route,
//! and its IPv6 addresses and IPv6 default route when the port has any (static, see
//! `netns::static_ipv6`; no transmit checksum offload: see `netns::disable_tx_offload`),
//! and whose peer is a port of the chassis's `br-int` with `external_ids:iface-id` set to
//! the logical switch port name, so ovn-controller binds the port to that chassis.

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::LabError;
use super::netns;
use super::spec::VmSpec;
use super::state::{ChassisState, Endpoint, EndpointKind};
use crate::live::vswitch::{PortSpec, Vswitch};

/// The integration bridge.
pub(crate) const BR_INT: &str = "br-int";
/// The VM's interface inside its namespace.
pub(crate) const IFNAME: &str = "eth0";

/// Builds VM `vm` in namespace `vm_ns` (already created) and plugs it into `chassis` as
/// port `vif<index>`.
pub(crate) async fn plug(
    vm: &VmSpec,
    vm_ns: &str,
    chassis: &ChassisState,
    index: usize,
) -> Result<Endpoint, LabError> {
    let outer = format!("vif{index}");
    netns::add_veth(&chassis.netns, &outer, vm_ns, IFNAME)?;
    if !vm.mac.is_empty() {
        netns::set_mac(vm_ns, IFNAME, &vm.mac)?;
    }
    netns::disable_tx_offload(vm_ns, IFNAME)?;
    // A port with dynamic addresses gets them later (`lab::dynamic`).
    if !vm.dynamic {
        netns::add_addr(vm_ns, IFNAME, vm.ip)?;
        if let Some(gw) = vm.gateway {
            netns::add_default_route(vm_ns, gw)?;
        }
    }
    if !vm.ipv6.is_empty() {
        netns::static_ipv6(vm_ns, IFNAME)?;
        for a in &vm.ipv6 {
            netns::add_addr(vm_ns, IFNAME, *a)?;
        }
        if let Some(gw) = vm.ipv6_gateway {
            netns::add_default_route(vm_ns, gw)?;
        }
    }
    let vs = Vswitch::connect(&chassis.remote, Duration::from_secs(10)).await?;
    vs.add_port(
        BR_INT,
        &PortSpec {
            name: outer,
            kind: String::new(),
            external_ids: BTreeMap::from([("iface-id".to_owned(), vm.name.clone())]),
            tag: None,
        },
    )
    .await?;
    Ok(Endpoint {
        kind: EndpointKind::Vm,
        netns: vm_ns.to_owned(),
        ifname: IFNAME.into(),
        ip: vm.ip.addr(),
        ipv6: vm.ipv6.iter().map(|n| n.addr()).collect(),
        mac: (!vm.mac.is_empty()).then(|| vm.mac.clone()),
        chassis: Some(chassis.name.clone()),
    })
}

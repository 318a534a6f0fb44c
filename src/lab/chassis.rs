//! One chassis, in the order that works: its Open_vSwitch database, configured through
//! topo's OVSDB client (`system-id`, `ovn-remote`, geneve encap, `br-int` of the netdev
//! datapath with `fail-mode=secure`, `br-phy` on the underlay), then `ovs-vswitchd`, the
//! encap IP on `br-phy` once vswitchd created it, then `ovn-controller`.

use std::collections::BTreeMap;

use super::daemons;
use super::error::LabError;
use super::spec::ChassisSpec;
use super::state::{ChassisState, LabState};
use super::underlay;
use super::vm;
use crate::live::vswitch::{BridgeSpec, Vswitch};

/// Builds chassis `c` (number `index`) in namespace `ns` (already created) and wires it to
/// the underlay in `underlay_ns`.
pub(crate) async fn build(
    state: &mut LabState,
    c: &ChassisSpec,
    index: usize,
    ns: &str,
    underlay_ns: &str,
) -> Result<ChassisState, LabError> {
    underlay::wire(underlay_ns, ns, index)?;
    let subdir = format!("ch-{}", c.name);
    daemons::start_ovsdb(state, &c.name, &subdir, ns).await?;
    let (dir, remote) = daemons::chassis_paths(&state.dir, &c.name);
    let vs = Vswitch::connect(&remote, daemons::READY).await?;
    vs.init().await?;
    let encap_ip = c.encap_ip.to_string();
    let ids = [
        ("system-id", c.name.as_str()),
        ("hostname", c.name.as_str()),
        ("ovn-remote", state.sb.as_str()),
        ("ovn-encap-type", "geneve"),
        ("ovn-encap-ip", encap_ip.as_str()),
        ("ovn-bridge-datapath-type", "netdev"),
    ];
    vs.set_external_ids(&ids.map(|(k, v)| (k.to_owned(), v.to_owned())).into())
        .await?;
    vs.ensure_bridge(
        &BridgeSpec {
            name: vm::BR_INT.into(),
            datapath_type: "netdev".into(),
            fail_mode: "secure".into(),
            ..BridgeSpec::default()
        },
        &[],
    )
    .await?;
    underlay::configure(&vs).await?;
    daemons::start_vswitchd(state, &c.name, &subdir, ns)?;
    vs.wait_applied(daemons::READY).await?;
    underlay::address(ns, c.encap_ip, state.spec.underlay_prefix)?;
    daemons::start_controller(state, &c.name, ns)?;
    Ok(ChassisState {
        name: c.name.clone(),
        netns: ns.to_owned(),
        dir,
        remote,
        encap_ip: c.encap_ip,
        nics: BTreeMap::new(),
    })
}

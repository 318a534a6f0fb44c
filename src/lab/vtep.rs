//! One emulated hardware VTEP, in the order that works: its own `ovsdb-server` serving
//! `Open_vSwitch` and `hardware_vtep`; `br-phy` on the underlay (as a chassis has); the
//! physical switch, an OVS bridge named after it (netdev datapath) whose ports are the
//! physical ports (a veth to each host behind one, else a veth left dangling); `ovs-vswitchd`;
//! the tunnel IP on `br-phy`; the `Physical_Switch` row with its tunnel IP (written by
//! `live::vtep`, the writer apply uses: `ovs-vtep` refuses to start without it); the
//! `ovs-vtep` emulator, until it has published the ports as `Physical_Port` rows; then
//! `ovn-controller-vtep`, until the switch is a Southbound chassis. The bindings are the
//! topology's: `topo apply` writes them.

use std::time::Duration;

use super::daemons;
use super::error::LabError;
use super::netns;
use super::spec::VtepSpec;
use super::state::{Endpoint, EndpointKind, LabState, VtepState};
use super::underlay;
use crate::diff::VtepChange;
use crate::live::vswitch::{BridgeSpec, PortSpec, Vswitch};
use crate::live::vtep::Vtep;
use crate::poll::poll_until;

/// The emulator of Debian's `openvswitch-vtep`.
pub(crate) const OVS_VTEP: &str = "/usr/share/openvswitch/scripts/ovs-vtep";

fn setup(e: impl std::fmt::Display) -> LabError {
    LabError::Setup(e.to_string())
}

/// Builds VTEP `v` (underlay veth number `index`) in namespace `ns`; it and each host's
/// namespace (`names::netns(id, Kind::Host, host)`) are already created.
pub(crate) async fn build(
    state: &mut LabState,
    v: &VtepSpec,
    index: usize,
    ns: &str,
    underlay_ns: &str,
) -> Result<VtepState, LabError> {
    let id = state.id.clone();
    let host_ns = |h: &str| super::names::netns(&id, super::names::Kind::Host, h);
    underlay::wire(underlay_ns, ns, index)?;
    let subdir = format!("vtep-{}", v.name);
    let remote = daemons::start_ovsdb_with(state, &v.name, &subdir, ns, true).await?;
    let vs = Vswitch::connect(&remote, daemons::READY).await?;
    vs.init().await?;
    underlay::configure(&vs).await?;
    let mut ports = Vec::new();
    for (i, p) in v.ports.iter().enumerate() {
        match v.hosts.iter().find(|(_, (port, _))| port == p) {
            Some((host, (_, ip))) => {
                let hns = host_ns(host);
                netns::add_veth(ns, p, &hns, HOST_IFNAME)?;
                netns::add_addr(&hns, HOST_IFNAME, *ip)?;
                state.endpoints.insert(
                    host.clone(),
                    Endpoint {
                        kind: EndpointKind::Host,
                        netns: hns,
                        ifname: HOST_IFNAME.into(),
                        ip: ip.addr(),
                        ipv6: Vec::new(),
                        mac: None,
                        chassis: None,
                    },
                );
            }
            None => netns::add_veth(ns, p, ns, &format!("peer{i}"))?,
        }
        ports.push(PortSpec::system(p));
    }
    vs.ensure_bridge(
        &BridgeSpec {
            name: v.name.clone(),
            datapath_type: "netdev".into(),
            ..BridgeSpec::default()
        },
        &ports,
    )
    .await?;
    daemons::start_vswitchd(state, &v.name, &subdir, ns)?;
    vs.wait_applied(daemons::READY).await?;
    underlay::address(ns, v.tunnel_ip, state.spec.underlay_prefix)?;

    // The physical switch row, as `vtep-ctl add-ps` + `set tunnel_ips` would make it.
    let db = Vtep::connect(&remote, daemons::READY, true)
        .await
        .map_err(setup)?;
    db.write(&VtepChange {
        vtep: v.name.clone(),
        remote: remote.clone(),
        switch_created: true,
        tunnel_ips: None,
        logical_switches_added: Vec::new(),
        bindings: Vec::new(),
        missing_ports: Vec::new(),
        tunnel_ip: v.tunnel_ip.to_string(),
        stack: String::new(),
        wanted_bindings: Default::default(),
    })
    .await
    .map_err(setup)?;

    let emulator = daemons::start_in(
        state,
        &v.name,
        &subdir,
        ns,
        "ovs-vtep",
        vec![OVS_VTEP.to_owned(), v.name.clone()],
    )?;
    let want = v.ports.len();
    let published = poll_until(daemons::READY, Duration::from_millis(100), || async {
        let current = db.current(&v.name).await.map_err(setup)?;
        if current.ports.len() >= want {
            return Ok(Ok(()));
        }
        if !emulator.alive() {
            return Err(LabError::Setup(format!(
                "ovs-vtep of {} exited during startup:\n{}",
                v.name,
                super::process::tail(&state.dir.join(&subdir).join("ovs-vtep.log"), 10)
            )));
        }
        Ok(Err(current.ports.len()))
    })
    .await?;
    published.map_err(|n| LabError::Timeout {
        what: format!(
            "ovs-vtep to publish {want} physical ports of {} (saw {n})",
            v.name
        ),
        seconds: daemons::READY.as_secs_f64(),
    })?;

    daemons::start_in(
        state,
        &v.name,
        &subdir,
        ns,
        "ovn-controller-vtep",
        vec![
            "ovn-controller-vtep".to_owned(),
            format!("--vtep-db={remote}"),
            format!("--ovnsb-db={}", state.sb),
        ],
    )?;
    daemons::wait_chassis_registered(state, std::slice::from_ref(&v.name)).await?;
    let (dir, _) = daemons::ovs_paths(&state.dir, &subdir);
    Ok(VtepState {
        name: v.name.clone(),
        netns: ns.to_owned(),
        dir,
        remote,
        tunnel_ip: v.tunnel_ip,
    })
}

/// A host's interface behind a VTEP port.
const HOST_IFNAME: &str = "eth0";

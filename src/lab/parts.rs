//! Adding and removing one part of a lab: a chassis, a physical network with its hosts, a
//! VTEP with its hosts, a VM. `up` builds every part with the `add_*` functions;
//! `reconcile` (a running lab following its topology) adds and removes only the parts that
//! changed, with the same functions.
//!
//! Each function keeps `lab.json` true at every step, as `up` does: a namespace is
//! recorded before it is created and forgotten after it is deleted, a process is recorded
//! right after it started and forgotten once stopped. A part whose earlier `add_*` failed
//! half-way (its namespace or daemons left behind) is cleared before it is added again.

use std::time::Duration;

use super::chassis;
use super::daemons;
use super::error::LabError;
use super::names::{self, Kind};
use super::netns;
use super::network;
use super::process::{self, ProcessRecord};
use super::spec::{ChassisSpec, NetworkSpec, VmSpec, VtepSpec};
use super::state::LabState;
use super::vm;
use crate::live::vswitch::Vswitch;

/// How long a stopped daemon gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Records namespace `ns`, then creates it (deleting a leftover of a failed attempt first).
pub(crate) fn new_netns(state: &mut LabState, ns: &str) -> Result<(), LabError> {
    state.record_netns(ns)?;
    if netns::exists(ns) {
        stop_inside(ns)?;
        netns::delete(ns)?;
    }
    netns::add(ns)
}

/// Stops whatever runs inside `ns` (the lab started it; by PID and start time).
fn stop_inside(ns: &str) -> Result<(), LabError> {
    for pid in netns::pids(ns)? {
        let Some(start_time) = process::start_time(pid) else {
            continue;
        };
        process::terminate(
            &ProcessRecord {
                role: format!("process in {ns}"),
                pid,
                start_time,
                netns: Some(ns.to_owned()),
                output: Default::default(),
            },
            GRACE,
        )?;
    }
    Ok(())
}

/// Deletes namespace `ns` (and everything in it), then forgets it.
fn delete_netns(state: &mut LabState, ns: &str) -> Result<(), LabError> {
    stop_inside(ns)?;
    netns::delete(ns)?;
    state.namespaces.retain(|n| n != ns);
    state.save()
}

/// Stops the recorded processes of `owner` (roles `<owner>/...`), newest first, and forgets
/// them.
fn stop_owned(state: &mut LabState, owner: &str) -> Result<(), LabError> {
    let prefix = format!("{owner}/");
    let owned: Vec<ProcessRecord> = state
        .processes
        .iter()
        .rev()
        .filter(|p| p.role.starts_with(&prefix))
        .cloned()
        .collect();
    for p in &owned {
        process::terminate(p, GRACE)?;
    }
    state.processes.retain(|p| !p.role.starts_with(&prefix));
    state.save()
}

/// Removes chassis or VTEP `name` from the Southbound database (its `Chassis`, `Encap`
/// and `Chassis_Private` rows), so a later chassis may take its name or encap IP.
fn forget_in_southbound(state: &LabState, name: &str) -> Result<(), LabError> {
    super::command::run(&[
        "ovn-sbctl",
        &format!("--db={}", state.sb),
        "--timeout=10",
        "--if-exists",
        "chassis-del",
        name,
    ])?;
    Ok(())
}

/// Builds chassis `c` and wires it to the underlay (the caller waits for it to register).
pub(crate) async fn add_chassis(state: &mut LabState, c: &ChassisSpec) -> Result<(), LabError> {
    stop_owned(state, &c.name)?;
    let underlay_ns = names::netns(&state.id, Kind::Underlay, "");
    let ns = names::netns(&state.id, Kind::Chassis, &c.name);
    new_netns(state, &ns)?;
    let index = netns::free_index(&underlay_ns, "ch")?;
    let built = chassis::build(state, c, index, &ns, &underlay_ns).await?;
    state.chassis.retain(|x| x.name != c.name);
    state.chassis.push(built);
    state.save()
}

/// Stops chassis `name`'s daemons, deletes its namespace (its links to the underlay, its
/// networks and its VMs go with it) and its Southbound rows.
pub(crate) fn remove_chassis(state: &mut LabState, name: &str) -> Result<(), LabError> {
    stop_owned(state, name)?;
    let ns = names::netns(&state.id, Kind::Chassis, name);
    delete_netns(state, &ns)?;
    state.chassis.retain(|c| c.name != name);
    state.save()?;
    forget_in_southbound(state, name)
}

/// Builds physical network `net` (number `n` in the spec: its default NIC is `nic<n>`), its
/// hosts, and the NIC of each chassis that maps it.
pub(crate) async fn add_network(
    state: &mut LabState,
    net: &NetworkSpec,
    n: usize,
) -> Result<(), LabError> {
    let owner = format!("net-{}", net.name);
    stop_owned(state, &owner)?;
    let id = state.id.clone();
    let net_ns = names::netns(&id, Kind::Network, &net.name);
    new_netns(state, &net_ns)?;
    let mut ports = Vec::new();
    for (i, host) in net.hosts.keys().enumerate() {
        let host_ns = names::netns(&id, Kind::Host, host);
        new_netns(state, &host_ns)?;
        let (port, ep) = network::add_host(&net_ns, &host_ns, i, net, host)?;
        ports.push((port, net.vlans.get(host).copied()));
        state.endpoints.insert(host.clone(), ep);
    }
    for (i, ch) in net.mapped_on.keys().enumerate() {
        let chassis_ns = state
            .chassis(ch)
            .ok_or_else(|| LabError::Spec(format!("unknown chassis `{ch}`")))?
            .netns
            .clone();
        let nic = match net.nics.get(ch) {
            Some(nic) => nic.clone(),
            None => {
                // `nic<n>`, unless a network added to a running lab finds it taken.
                let nic = format!("nic{n}");
                if netns::links(&chassis_ns)?.contains(&nic) {
                    format!("nic{}", netns::free_index(&chassis_ns, "nic")?)
                } else {
                    nic
                }
            }
        };
        ports.push((network::wire_chassis(&net_ns, &chassis_ns, i, &nic)?, None));
        if let Some(c) = state.chassis.iter_mut().find(|c| &c.name == ch) {
            c.nics.insert(net.name.clone(), nic);
        }
    }
    if net.vlans.is_empty() {
        network::linux_switch(&net_ns, &ports)?;
    } else {
        let remote = daemons::start_ovsdb(state, &owner, &owner, &net_ns).await?;
        let vs = Vswitch::connect(&remote, daemons::READY).await?;
        vs.init().await?;
        network::ovs_switch(&vs, &ports).await?;
        daemons::start_vswitchd(state, &owner, &owner, &net_ns)?;
        vs.wait_applied(daemons::READY).await?;
    }
    state.save()
}

/// Removes physical network `net`: its switch (and daemons), its hosts, the chassis' NICs
/// on it.
pub(crate) fn remove_network(state: &mut LabState, net: &NetworkSpec) -> Result<(), LabError> {
    stop_owned(state, &format!("net-{}", net.name))?;
    for host in net.hosts.keys() {
        let host_ns = names::netns(&state.id, Kind::Host, host);
        delete_netns(state, &host_ns)?;
        state.endpoints.remove(host);
    }
    let net_ns = names::netns(&state.id, Kind::Network, &net.name);
    delete_netns(state, &net_ns)?;
    for c in &mut state.chassis {
        c.nics.remove(&net.name);
    }
    state.save()
}

/// Builds VTEP `v` with the hosts behind its ports (underlay veth `ch<N>`, the first free).
pub(crate) async fn add_vtep(state: &mut LabState, v: &VtepSpec) -> Result<(), LabError> {
    stop_owned(state, &v.name)?;
    let id = state.id.clone();
    let underlay_ns = names::netns(&id, Kind::Underlay, "");
    let ns = names::netns(&id, Kind::Vtep, &v.name);
    new_netns(state, &ns)?;
    for host in v.hosts.keys() {
        new_netns(state, &names::netns(&id, Kind::Host, host))?;
    }
    let index = netns::free_index(&underlay_ns, "ch")?;
    let built = super::vtep::build(state, v, index, &ns, &underlay_ns).await?;
    state.vteps.retain(|x| x.name != v.name);
    state.vteps.push(built);
    state.save()
}

/// Removes VTEP `v`, its hosts and its Southbound chassis.
pub(crate) fn remove_vtep(state: &mut LabState, v: &VtepSpec) -> Result<(), LabError> {
    stop_owned(state, &v.name)?;
    for host in v.hosts.keys() {
        let host_ns = names::netns(&state.id, Kind::Host, host);
        delete_netns(state, &host_ns)?;
        state.endpoints.remove(host);
    }
    let ns = names::netns(&state.id, Kind::Vtep, &v.name);
    delete_netns(state, &ns)?;
    state.vteps.retain(|x| x.name != v.name);
    state.save()?;
    forget_in_southbound(state, &v.name)
}

/// Builds VM `v` and plugs it into its chassis's `br-int` (port `vif<N>`, the first free).
pub(crate) async fn add_vm(state: &mut LabState, v: &VmSpec) -> Result<(), LabError> {
    let vm_ns = names::netns(&state.id, Kind::Vm, &v.name);
    new_netns(state, &vm_ns)?;
    let chassis = state
        .chassis(&v.chassis)
        .ok_or_else(|| LabError::Spec(format!("unknown chassis `{}`", v.chassis)))?
        .clone();
    let index = netns::free_index(&chassis.netns, "vif")?;
    let ep = vm::plug(v, &vm_ns, &chassis, index).await?;
    state.endpoints.insert(v.name.clone(), ep);
    state.save()
}

/// Unplugs VM `v` (its port leaves `br-int` while the chassis's database runs) and deletes
/// its namespace.
pub(crate) async fn remove_vm(state: &mut LabState, v: &VmSpec) -> Result<(), LabError> {
    let db_runs = state
        .process(&format!("{}/ovsdb-server", v.chassis))
        .is_some_and(ProcessRecord::alive);
    if let (Some(c), true) = (state.chassis(&v.chassis), db_runs) {
        Vswitch::connect(&c.remote, daemons::READY)
            .await?
            .remove_iface_ports(vm::BR_INT, &v.name)
            .await?;
    }
    let vm_ns = names::netns(&state.id, Kind::Vm, &v.name);
    delete_netns(state, &vm_ns)?;
    state.endpoints.remove(&v.name);
    state.save()
}

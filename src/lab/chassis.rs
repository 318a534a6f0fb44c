//! One chassis, in the order that works: its Open_vSwitch database, configured through
//! topo's OVSDB client (`system-id`, `ovn-remote`, geneve encap, `br-int` of the netdev
//! datapath with `fail-mode=secure`, `br-phy` on the underlay), then `ovs-vswitchd`, the
//! encap IP on `br-phy` once vswitchd created it, then `ovn-controller`. Also `topo lab
//! chassis stop|start|restart`: its daemons stopped by PID and started again on the same
//! database, so it comes back as the same chassis.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::daemons;
use super::error::LabError;
use super::process;
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

/// The daemons of a chassis, in the order they are stopped.
const DAEMONS: [&str; 3] = ["ovn-controller", "ovs-vswitchd", "ovsdb-server"];

/// What `topo lab chassis` does to a chassis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Stop,
    Start,
    Restart,
}

/// Stops, starts or restarts chassis `name` of the lab in `dir` (for failover drills).
/// Returns one line per daemon stopped or started.
pub async fn control(dir: &Path, name: &str, action: Action) -> Result<Vec<String>, LabError> {
    let _lock = super::lock::acquire_existing(dir)?;
    let mut state = LabState::load(dir)?
        .ok_or_else(|| LabError::Setup(format!("no lab in {}", dir.display())))?;
    if state.chassis(name).is_none() {
        let known: Vec<&str> = state.chassis.iter().map(|c| c.name.as_str()).collect();
        return Err(LabError::Spec(format!(
            "the lab has no chassis `{name}` (it has {})",
            known.join(", ")
        )));
    }
    let all_run = DAEMONS.iter().all(|d| {
        state
            .process(&format!("{name}/{d}"))
            .is_some_and(process::ProcessRecord::alive)
    });
    if action == Action::Start && all_run {
        return Ok(vec![format!("chassis {name} is running: nothing to start")]);
    }
    // `start` of a chassis with some daemons left stops those first: all three start anew.
    let mut done = stop(&state, name)?;
    if action != Action::Stop {
        done.extend(start(&mut state, name).await?);
    }
    Ok(done)
}

/// Stops the chassis's daemons by their recorded PIDs, controller first; the records stay
/// (`lab status` shows them stopped), and so do its namespace, its links and its VMs.
fn stop(state: &LabState, name: &str) -> Result<Vec<String>, LabError> {
    let mut done = Vec::new();
    for d in DAEMONS {
        if let Some(rec) = state.process(&format!("{name}/{d}"))
            && rec.alive()
        {
            process::terminate(rec, Duration::from_secs(5))?;
            done.push(format!("stopped {} (pid {})", rec.role, rec.pid));
        }
    }
    Ok(done)
}

/// Starts the stopped chassis again on its own database file (same `system-id`, encap,
/// bridges and VM ports), so it rejoins as itself: `ovsdb-server`, `ovs-vswitchd`, the encap
/// IP on `br-phy` again (vswitchd made a new one), `ovn-controller`, until it is connected
/// to the Southbound database.
async fn start(state: &mut LabState, name: &str) -> Result<Vec<String>, LabError> {
    let c = state
        .chassis(name)
        .cloned()
        .ok_or_else(|| LabError::Spec(format!("unknown chassis `{name}`")))?;
    let prefix = format!("{name}/");
    state.processes.retain(|p| !p.role.starts_with(&prefix));
    state.save()?;
    let subdir = format!("ch-{name}");
    daemons::serve_ovsdb(state, name, &subdir, &c.netns, false).await?;
    daemons::start_vswitchd(state, name, &subdir, &c.netns)?;
    Vswitch::connect(&c.remote, daemons::READY)
        .await?
        .wait_applied(daemons::READY)
        .await?;
    underlay::readdress(&c.netns, c.encap_ip, state.spec.underlay_prefix)?;
    daemons::start_controller(state, name, &c.netns)?;
    daemons::wait_controller_connected(state, name).await?;
    Ok(DAEMONS
        .iter()
        .rev()
        .filter_map(|d| state.process(&format!("{name}/{d}")))
        .map(|p| format!("started {} (pid {})", p.role, p.pid))
        .collect())
}

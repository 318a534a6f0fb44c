//! `up`, `down` and `status` of a lab: the order in which things are built and torn down.
//!
//! `up` records each namespace before creating it and each process right after starting
//! it; if anything fails, it tears down what it built (logs stay) and returns the error.
//! `down` stops the recorded processes by PID, then anything still running inside the
//! lab's namespaces, then deletes the namespaces (and with them every link and bridge the
//! lab made); it is idempotent and works from the state file alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::daemons;
use super::error::LabError;
use super::names::{self, Kind};
use super::netns;
use super::parts;
use super::process::{self, ProcessRecord};
use super::spec::LabSpec;
use super::state::{LabState, Phase};
use super::targets::Targets;
use super::underlay;
use crate::live::vswitch::Vswitch;
use crate::rows::chassis::{Target, Wanted};

/// The directory `topo lab` uses when none is given.
pub(crate) const DEFAULT_DIR: &str = "/run/topo/lab";

/// Longest unix socket path the kernel accepts (sun_path is 108 bytes with the NUL).
const SUN_PATH_MAX: usize = 107;

/// Options of `up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Write each chassis's bridge mappings and provider bridges (from `mapped_on`).
    /// `topo apply` will write them instead once it targets labs.
    pub chassis_settings: bool,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            chassis_settings: true,
        }
    }
}

/// Brings up the lab described by `spec` in `dir`.
pub async fn up(spec: LabSpec, dir: &Path, options: &UpOptions) -> Result<LabState, LabError> {
    spec.validate()?;
    std::fs::create_dir_all(dir).map_err(|e| LabError::io(dir, e))?;
    let dir = std::fs::canonicalize(dir).map_err(|e| LabError::io(dir, e))?;
    let _lock = super::lock::acquire(&dir)?;
    if LabState::load(&dir)?.is_some() {
        return Err(LabError::Exists(dir));
    }
    check_socket_paths(&dir, &spec)?;
    let existing = netns::list()?;
    let id = loop {
        let id = names::new_id();
        if !existing.iter().any(|ns| names::is_of_lab(&id, ns)) {
            break id;
        }
    };
    let mut state = LabState::new(id, &dir, spec);
    // Claims the directory: of two `up`s racing for it, one gets `Exists`.
    state.create()?;
    match build(&mut state, options).await {
        Ok(()) => {
            state.phase = Phase::Up;
            state.save()?;
            Targets::of(&state).write(&dir)?;
            Ok(state)
        }
        Err(e) => {
            state.phase = Phase::Failed;
            let _ = state.save();
            // Once everything is gone the directory is free for the next `up`; if not, the
            // state stays for `down` to finish the job.
            if teardown(&state).is_ok() {
                let _ = remove_state_files(&state.dir);
            }
            Err(e)
        }
    }
}

/// The longest socket the lab will create must fit in `sun_path`.
fn check_socket_paths(dir: &Path, spec: &LabSpec) -> Result<(), LabError> {
    let longest_name = spec.chassis.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let longest_vtep = spec.vteps.iter().map(|v| v.name.len()).max().unwrap_or(0);
    // DIR/ch-NAME/ovn-controller.PID.ctl, DIR/vtep-NAME/ovn-controller-vtep.PID.ctl, PID up
    // to 7 digits.
    let longest = dir.as_os_str().len()
        + ("/ch-".len() + longest_name + "/ovn-controller.4194304.ctl".len())
            .max("/vtep-".len() + longest_vtep + "/ovn-controller-vtep.4194304.ctl".len());
    if longest > SUN_PATH_MAX {
        return Err(LabError::Setup(format!(
            "lab directory {} is too long for unix socket paths ({longest} > {SUN_PATH_MAX} bytes); use a shorter --lab",
            dir.display()
        )));
    }
    Ok(())
}

async fn build(state: &mut LabState, options: &UpOptions) -> Result<(), LabError> {
    let id = state.id.clone();
    let spec = state.spec.clone();

    let central = names::netns(&id, Kind::Central, "");
    parts::new_netns(state, &central)?;
    daemons::start_central(state, &central).await?;

    let underlay_ns = names::netns(&id, Kind::Underlay, "");
    parts::new_netns(state, &underlay_ns)?;
    underlay::create(&underlay_ns)?;

    for c in &spec.chassis {
        parts::add_chassis(state, c).await?;
    }
    let names: Vec<String> = spec.chassis.iter().map(|c| c.name.clone()).collect();
    daemons::wait_chassis_registered(state, &names).await?;
    for (n, net) in spec.networks.iter().enumerate() {
        parts::add_network(state, net, n).await?;
    }
    for v in &spec.vteps {
        parts::add_vtep(state, v).await?;
    }
    if options.chassis_settings {
        write_chassis_settings(state).await?;
    }
    for v in &spec.vms {
        parts::add_vm(state, v).await?;
    }
    wait_applied(state, &names).await
}

/// Writes what each chassis needs for the lab's physical networks (a lab description's own
/// settings; a topology's are `topo apply`'s).
pub(crate) async fn write_chassis_settings(state: &LabState) -> Result<(), LabError> {
    for target in chassis_targets(state) {
        crate::apply::chassis::write(LAB_STACK, &target, daemons::READY).await?;
    }
    Ok(())
}

/// Waits until the `ovs-vswitchd` of each chassis in `names` has applied its database.
pub(crate) async fn wait_applied(state: &LabState, names: &[String]) -> Result<(), LabError> {
    for c in state.chassis.iter().filter(|c| names.contains(&c.name)) {
        Vswitch::connect(&c.remote, daemons::READY)
            .await?
            .wait_applied(daemons::READY)
            .await?;
    }
    Ok(())
}

/// The stack name under which a lab description's own chassis settings are written (its
/// networks are recorded as `topo:lab:bridge-mappings`, like a stack's).
pub(crate) const LAB_STACK: &str = "lab";

/// What each chassis needs for the lab's physical networks (from `mapped_on`): the mappings
/// and provider bridges `topo apply` writes for a topology's `bridge-mappings`, written by
/// the same writer.
pub(crate) fn chassis_targets(state: &LabState) -> Vec<Target> {
    let mut out: BTreeMap<String, Target> = BTreeMap::new();
    for net in &state.spec.networks {
        for (ch, bridge) in &net.mapped_on {
            let Some(c) = state.chassis(ch) else {
                continue;
            };
            let Some(nic) = c.nics.get(&net.name) else {
                continue;
            };
            let t = out.entry(ch.clone()).or_insert_with(|| Target {
                name: ch.clone(),
                remote: c.remote.clone(),
                wanted: Wanted::default(),
                datapath_type: "netdev".into(),
            });
            t.wanted
                .bridge_mappings
                .insert(net.name.clone(), bridge.clone());
            t.wanted
                .bridges
                .entry(bridge.clone())
                .or_default()
                .push(nic.clone());
        }
    }
    out.into_values().collect()
}

/// What `down` did.
#[derive(Debug, Default, Clone)]
pub struct DownReport {
    /// No lab state was found (nothing to do).
    pub absent: bool,
    pub stopped: Vec<String>,
    pub namespaces_removed: Vec<String>,
}

/// Tears down the lab in `dir`: idempotent; a directory without a lab is fine.
pub fn down(dir: &Path) -> Result<DownReport, LabError> {
    let _lock = super::lock::acquire_existing(dir)?;
    let Some(state) = LabState::load(dir)? else {
        return Ok(DownReport {
            absent: true,
            ..DownReport::default()
        });
    };
    let report = teardown(&state)?;
    remove_state_files(&state.dir)?;
    Ok(report)
}

/// Removes the state and targets files (the logs stay).
fn remove_state_files(dir: &Path) -> Result<(), LabError> {
    for f in [LabState::path(dir), dir.join(super::targets::TARGETS_FILE)] {
        match std::fs::remove_file(&f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LabError::io(&f, e)),
        }
    }
    Ok(())
}

/// Stops every process and deletes every namespace of the lab; keeps the directory (logs).
fn teardown(state: &LabState) -> Result<DownReport, LabError> {
    let mut report = DownReport::default();
    let grace = Duration::from_secs(5);
    let mut errors = Vec::new();
    // Recorded processes, newest first (controllers before vswitchd before databases).
    for rec in state.processes.iter().rev() {
        if rec.alive() {
            match process::terminate(rec, grace) {
                Ok(()) => report.stopped.push(format!("{} ({})", rec.role, rec.pid)),
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    // The lab's namespaces: recorded ones and any other `topo-<id>-*` (a crash between
    // creating and recording cannot happen, but a stale list costs nothing to check).
    let mut namespaces: Vec<String> = state.namespaces.clone();
    for ns in netns::list()? {
        if names::is_of_lab(&state.id, &ns) && !namespaces.contains(&ns) {
            namespaces.push(ns);
        }
    }
    // Anything still running inside them was started by the lab (or its tests).
    for ns in &namespaces {
        for pid in netns::pids(ns)? {
            let Some(start_time) = process::start_time(pid) else {
                continue;
            };
            let rec = ProcessRecord {
                role: format!("process in {ns}"),
                pid,
                start_time,
                netns: Some(ns.clone()),
                output: PathBuf::new(),
            };
            match process::terminate(&rec, grace) {
                Ok(()) => report.stopped.push(format!("{} ({pid})", rec.role)),
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    for ns in namespaces.iter().rev() {
        if netns::exists(ns) {
            match netns::delete(ns) {
                Ok(()) => report.namespaces_removed.push(ns.clone()),
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(LabError::Setup(format!(
            "lab {} was not fully removed:\n{}",
            state.id,
            errors.join("\n")
        )))
    }
}

/// One process's status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProcessStatus {
    pub role: String,
    pub pid: i32,
    pub running: bool,
}

/// The lab at a glance: `Up` only when every recorded daemon runs and every namespace
/// exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    Up,
    /// Up, but a daemon is stopped (`topo lab chassis stop`, a crash) or a namespace is gone.
    Degraded,
    Starting,
    Failed,
}

/// What `status` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LabStatus {
    pub id: String,
    pub name: String,
    pub dir: PathBuf,
    pub phase: Phase,
    pub health: Health,
    /// Roles of the recorded daemons that do not run.
    pub stopped: Vec<String>,
    pub nb: String,
    pub sb: String,
    pub processes: Vec<ProcessStatus>,
    /// Namespace -> whether it exists.
    pub namespaces: BTreeMap<String, bool>,
    /// Chassis -> its Open_vSwitch remote.
    pub chassis: BTreeMap<String, String>,
    /// VM / host -> namespace.
    pub endpoints: BTreeMap<String, String>,
}

impl LabStatus {
    /// Every process runs and every namespace exists.
    pub fn healthy(&self) -> bool {
        self.health == Health::Up
    }
}

/// The status of the lab in `dir`, `None` if there is none.
pub fn status(dir: &Path) -> Result<Option<LabStatus>, LabError> {
    let Some(state) = LabState::load(dir)? else {
        return Ok(None);
    };
    let processes: Vec<ProcessStatus> = state
        .processes
        .iter()
        .map(|p| ProcessStatus {
            role: p.role.clone(),
            pid: p.pid,
            running: p.alive(),
        })
        .collect();
    let namespaces: BTreeMap<String, bool> = state
        .namespaces
        .iter()
        .map(|n| (n.clone(), netns::exists(n)))
        .collect();
    let stopped: Vec<String> = processes
        .iter()
        .filter(|p| !p.running)
        .map(|p| p.role.clone())
        .collect();
    let health = match state.phase {
        Phase::Starting => Health::Starting,
        Phase::Failed => Health::Failed,
        Phase::Up if stopped.is_empty() && namespaces.values().all(|e| *e) => Health::Up,
        Phase::Up => Health::Degraded,
    };
    Ok(Some(LabStatus {
        id: state.id.clone(),
        name: state.spec.name.clone(),
        dir: state.dir.clone(),
        phase: state.phase,
        health,
        stopped,
        nb: state.nb.clone(),
        sb: state.sb.clone(),
        processes,
        namespaces,
        chassis: state
            .chassis
            .iter()
            .map(|c| (c.name.clone(), c.remote.clone()))
            .collect(),
        endpoints: state
            .endpoints
            .iter()
            .map(|(n, e)| (n.clone(), e.netns.clone()))
            .collect(),
    }))
}

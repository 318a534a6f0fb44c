//! The lab directory and its state file `lab.json`: the spec it was built from, every
//! namespace and process it created, and the remotes to reach its databases.
//!
//! The state is written before each thing is created (namespaces) or right after it
//! started (processes), atomically (write + rename), so `topo lab down` from a fresh
//! process, or after `up` crashed half-way, knows exactly what to remove.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::LabError;
use super::process::ProcessRecord;
use super::spec::LabSpec;

/// File name of the state inside the lab directory.
pub(crate) const STATE_FILE: &str = "lab.json";
const VERSION: u32 = 1;

/// Where the lab is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// `up` is running (or crashed while running).
    Starting,
    Up,
    /// `up` failed; `down` cleans up.
    Failed,
}

/// The persisted state of one lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub version: u32,
    /// Short random id; every namespace of the lab is `topo-<id>-...`.
    pub id: String,
    pub dir: PathBuf,
    pub phase: Phase,
    pub spec: LabSpec,
    /// Northbound and Southbound remotes (`unix:` paths in the lab directory).
    pub nb: String,
    pub sb: String,
    /// Namespaces in creation order (recorded before each is created).
    pub namespaces: Vec<String>,
    /// Processes in start order.
    pub processes: Vec<ProcessRecord>,
    pub chassis: Vec<ChassisState>,
    /// Emulated hardware VTEPs.
    #[serde(default)]
    pub vteps: Vec<VtepState>,
    /// VMs and outside hosts by name.
    pub endpoints: BTreeMap<String, Endpoint>,
}

/// One chassis as built.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChassisState {
    pub name: String,
    pub netns: String,
    /// Its private run/log/db directory.
    pub dir: PathBuf,
    /// Its Open_vSwitch database (`unix:DIR/db.sock`): the target for chassis settings.
    pub remote: String,
    pub encap_ip: Ipv4Addr,
    /// Physical network -> the NIC in the chassis namespace wired to that network.
    pub nics: BTreeMap<String, String>,
}

/// One emulated hardware VTEP as built (`ovs-vtep` + `ovn-controller-vtep`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VtepState {
    /// The physical switch name (its OVS bridge, its Southbound chassis).
    pub name: String,
    pub netns: String,
    pub dir: PathBuf,
    /// Its database server (`unix:DIR/db.sock`), serving `hardware_vtep` and `Open_vSwitch`.
    pub remote: String,
    pub tunnel_ip: Ipv4Addr,
}

/// A VM or an outside host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub kind: EndpointKind,
    pub netns: String,
    /// Its interface inside `netns`.
    pub ifname: String,
    pub ip: Ipv4Addr,
    /// Its IPv6 addresses (a dual-stack VM or host).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6: Vec<std::net::Ipv6Addr>,
    pub mac: Option<String>,
    /// VMs: the chassis they are plugged into.
    pub chassis: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointKind {
    Vm,
    Host,
}

impl LabState {
    pub(crate) fn new(id: String, dir: &Path, spec: LabSpec) -> LabState {
        let sock = |n: &str| format!("unix:{}", dir.join(n).display());
        LabState {
            version: VERSION,
            id,
            dir: dir.to_owned(),
            phase: Phase::Starting,
            spec,
            nb: sock("nb.sock"),
            sb: sock("sb.sock"),
            namespaces: Vec::new(),
            processes: Vec::new(),
            chassis: Vec::new(),
            vteps: Vec::new(),
            endpoints: BTreeMap::new(),
        }
    }

    pub(crate) fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Reads the state of the lab in `dir`; `None` if there is none.
    pub fn load(dir: &Path) -> Result<Option<LabState>, LabError> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LabError::io(&path, e)),
        };
        let state: LabState = serde_json::from_str(&text).map_err(|e| LabError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if state.version != VERSION {
            return Err(LabError::State {
                path,
                message: format!("version {} (this topo reads {VERSION})", state.version),
            });
        }
        Ok(Some(state))
    }

    fn to_text(&self, path: &Path) -> Result<String, LabError> {
        serde_json::to_string_pretty(self).map_err(|e| LabError::State {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Writes the first state; fails with [`LabError::Exists`] if the directory already
    /// has one (the file is created exclusively, so two `up`s cannot both claim it).
    pub(crate) fn create(&self) -> Result<(), LabError> {
        use std::io::Write;
        let path = Self::path(&self.dir);
        let text = self.to_text(&path)?;
        let mut f = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(LabError::Exists(self.dir.clone()));
            }
            Err(e) => return Err(LabError::io(&path, e)),
        };
        f.write_all(text.as_bytes())
            .map_err(|e| LabError::io(&path, e))
    }

    /// Writes the state atomically (write, then rename over the old one).
    pub fn save(&self) -> Result<(), LabError> {
        let path = Self::path(&self.dir);
        let tmp = path.with_extension("json.tmp");
        let text = self.to_text(&path)?;
        std::fs::write(&tmp, text).map_err(|e| LabError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| LabError::io(&path, e))
    }

    /// Records `ns` (before it is created) and saves.
    pub(crate) fn record_netns(&mut self, ns: &str) -> Result<(), LabError> {
        if !self.namespaces.iter().any(|n| n == ns) {
            self.namespaces.push(ns.to_owned());
        }
        self.save()
    }

    /// Records a started process and saves.
    pub(crate) fn record_process(&mut self, rec: ProcessRecord) -> Result<(), LabError> {
        self.processes.push(rec);
        self.save()
    }

    pub fn chassis(&self, name: &str) -> Option<&ChassisState> {
        self.chassis.iter().find(|c| c.name == name)
    }

    pub fn process(&self, role: &str) -> Option<&ProcessRecord> {
        self.processes.iter().rev().find(|p| p.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> LabSpec {
        serde_json::from_value(serde_json::json!({
            "name": "t",
            "chassis": [{ "name": "ch1", "encap_ip": "172.17.42.1" }]
        }))
        .unwrap()
    }

    #[test]
    fn state_round_trips_and_a_directory_is_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = LabState::new("abc123".into(), dir.path(), spec());
        state.create().unwrap();
        assert!(matches!(state.create(), Err(LabError::Exists(_))));
        state.record_netns("topo-abc123-central").unwrap();
        let loaded = LabState::load(dir.path()).unwrap().unwrap();
        assert_eq!(loaded.namespaces, ["topo-abc123-central"]);
        assert_eq!(loaded.nb, format!("unix:{}/nb.sock", dir.path().display()));
        assert!(
            LabState::load(&dir.path().join("nothing"))
                .unwrap()
                .is_none()
        );
    }
}

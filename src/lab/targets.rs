//! `topo.toml` in the lab directory: the lab's management remotes, for `plan`/`apply`/
//! `verify` to target the lab: Northbound, Southbound, and per chassis its Open_vSwitch
//! database (where chassis settings are written), namespace and NICs.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::LabError;
use super::state::LabState;

/// File name inside the lab directory.
pub(crate) const TARGETS_FILE: &str = "topo.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    pub lab: LabInfo,
    pub northbound: DbTarget,
    pub southbound: DbTarget,
    /// Chassis name -> how to reach it.
    pub chassis: BTreeMap<String, ChassisTarget>,
    /// Emulated hardware VTEP (physical switch name) -> how to reach its VTEP database.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vteps: BTreeMap<String, VtepTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VtepTarget {
    /// The VTEP's `hardware_vtep` database (the same server holds its Open_vSwitch one).
    pub remote: String,
    pub netns: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabInfo {
    pub id: String,
    pub name: String,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbTarget {
    pub remote: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ChassisTarget {
    /// The chassis's Open_vSwitch database.
    pub remote: String,
    pub netns: String,
    pub encap_ip: Ipv4Addr,
    /// Physical network -> NIC in the chassis namespace (to add to the provider bridge).
    pub nics: BTreeMap<String, String>,
}

impl Targets {
    pub(crate) fn of(state: &LabState) -> Targets {
        Targets {
            lab: LabInfo {
                id: state.id.clone(),
                name: state.spec.name.clone(),
                dir: state.dir.clone(),
            },
            northbound: DbTarget {
                remote: state.nb.clone(),
            },
            southbound: DbTarget {
                remote: state.sb.clone(),
            },
            chassis: state
                .chassis
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        ChassisTarget {
                            remote: c.remote.clone(),
                            netns: c.netns.clone(),
                            encap_ip: c.encap_ip,
                            nics: c.nics.clone(),
                        },
                    )
                })
                .collect(),
            vteps: state
                .vteps
                .iter()
                .map(|v| {
                    (
                        v.name.clone(),
                        VtepTarget {
                            remote: v.remote.clone(),
                            netns: v.netns.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn write(&self, dir: &Path) -> Result<PathBuf, LabError> {
        let path = dir.join(TARGETS_FILE);
        let text = toml::to_string_pretty(self).map_err(|e| LabError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let text =
            format!("# Written by `topo lab up`: the management remotes of this lab.\n{text}");
        std::fs::write(&path, text).map_err(|e| LabError::io(&path, e))?;
        Ok(path)
    }

    pub fn read(dir: &Path) -> Result<Targets, LabError> {
        let path = dir.join(TARGETS_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| LabError::io(&path, e))?;
        toml::from_str(&text).map_err(|e| LabError::State {
            path,
            message: e.to_string(),
        })
    }
}

//! `--lab DIR`: point plan, apply, drift, status and import at a bundled lab (verify takes
//! `--lab DIR` too, for the lab it sends packets in).
//!
//! A lab writes its management remotes to `DIR/topo.toml` (Northbound, Southbound, and each
//! chassis's Open_vSwitch database). With `--lab DIR` those are used; with no target given at
//! all (no `--db`, no `OVN_NB_DB`) and a lab running in the default directory, that lab is
//! used and topo says so.

use std::path::{Path, PathBuf};

use clap::Args;

use super::connect::{DEFAULT_NB, DbArgs, Origin};
use crate::lab::{self, targets::Targets};

#[derive(Debug, Clone, Args)]
pub(crate) struct LabArg {
    /// Target the bundled lab in DIR (its topo.toml gives the NB, SB and chassis remotes).
    #[arg(long = "lab", value_name = "DIR")]
    pub lab: Option<PathBuf>,
}

impl LabArg {
    /// The lab to target, if any, with the connection flags pointed at it.
    pub(crate) fn resolve(&self, db: &mut DbArgs) -> Result<Option<Targets>, miette::Report> {
        let dir = match &self.lab {
            Some(dir) => dir.clone(),
            None => {
                let default = Path::new(lab::DEFAULT_DIR);
                // Nothing named a Northbound: no flag, environment or target.
                let untargeted = match &db.origins {
                    Some(o) => o.nb == Origin::Default,
                    None => std::env::var_os("OVN_NB_DB").is_none() && db.nb == DEFAULT_NB,
                };
                if !(untargeted && default.join(lab::targets::TARGETS_FILE).exists()) {
                    return Ok(None);
                }
                eprintln!("Using the lab in {} (no --db given).", default.display());
                default.to_path_buf()
            }
        };
        let targets = Targets::read(&dir).map_err(|e| {
            miette::miette!(
                help = "start one with `topo lab up TOPOLOGY --lab DIR`",
                "no lab in {}: {e}",
                dir.display()
            )
        })?;
        db.nb = targets.northbound.remote.clone();
        db.sb = targets.southbound.remote.clone();
        Ok(Some(targets))
    }
}

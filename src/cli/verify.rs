//! `topo verify FILE... [--lab DIR]`: the topology's `checks`, with real packets, in the lab.
//!
//! Prints a table of check, result and evidence; for a failure, the ports' bindings and the
//! `ovn-trace` of the packet. Exit 0 when every check passes, 1 otherwise.

use std::path::PathBuf;

use clap::Args;

use super::connect::runtime;
use super::desired;
use super::exit::Outcome;
use crate::lab::{self, LabState, checks::CheckOptions};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The topology whose `checks` to run.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// The lab to run them in.
    #[arg(long = "lab", value_name = "DIR", default_value = lab::DEFAULT_DIR)]
    pub lab: PathBuf,
    /// Seconds a `reachable` check keeps trying before it fails.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub deadline: u64,
}

pub fn run(args: VerifyArgs) -> Outcome {
    let Some(desired) = desired::load(&args.paths) else {
        return Outcome::Failed;
    };
    let spec = match lab::topology::lab_spec(&desired.model) {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e.into()),
    };
    if spec.checks.is_empty() {
        println!("The topology declares no checks.");
        return Outcome::Success;
    }
    let state = match LabState::load(&args.lab) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Outcome::Error(miette::miette!(
                help = "start it with `topo lab up TOPOLOGY --dir DIR`, then `topo apply TOPOLOGY --lab DIR`",
                "no lab in {}",
                args.lab.display()
            ));
        }
        Err(e) => return Outcome::Error(e.into()),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return Outcome::Error(miette::miette!("cannot start the runtime: {e}")),
    };
    let options = CheckOptions {
        reachable_deadline: std::time::Duration::from_secs(args.deadline.max(1)),
        ..CheckOptions::default()
    };
    let results = rt.block_on(lab::run_checks(&state, &spec.checks, &options));
    print!("{}", lab::checks::render(&results));
    // The table ends with the count of checks passed.
    if results.iter().all(|r| r.passed) {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}

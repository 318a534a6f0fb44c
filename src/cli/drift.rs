//! `topo drift FILE...`: read-only; what changed out of band. Exit 0 in sync, 2 drift, 1 error.
//!
//! Drift is the plan seen from the other side: owned rows changed or deleted out of band,
//! owned rows the topology no longer has, and names the topology wants held by rows topo does
//! not own.

use std::path::PathBuf;

use clap::Args;

use super::connect::{DbArgs, runtime};
use super::desired;
use super::exit::Outcome;
use super::lab_target::LabArg;
use super::plan::{PlanFormat, print_plan};
use crate::apply;

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Topology files, or directories of `*.yaml` files, merged into one topology.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lab: LabArg,
}

pub fn run(mut args: DriftArgs) -> Outcome {
    let Some(desired::Desired {
        stack,
        rows: desired,
        ..
    }) = desired::load(&args.paths)
    else {
        return Outcome::Failed;
    };
    if let Err(report) = args.lab.resolve(&mut args.db) {
        return Outcome::Error(report);
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return Outcome::Error(miette::miette!("cannot start the runtime: {e}")),
    };
    let result = rt.block_on(async {
        let nb = args.db.connect("Northbound").await?;
        apply::read_and_plan(&nb, &desired, &stack, true)
            .await
            .map_err(|e| miette::miette!("{e}"))
    });
    let plan = match result {
        Ok((plan, _)) => plan,
        Err(report) => return Outcome::Error(report),
    };
    if plan.is_empty() && plan.conflicts.is_empty() {
        if args.format == PlanFormat::Text {
            println!("In sync: stack {stack} matches the topology.");
        } else {
            print_plan(&plan, args.format);
        }
        return Outcome::Success;
    }
    if args.format == PlanFormat::Text {
        println!("Drift: the live databases differ from the topology of stack {stack}.");
        println!("What `topo apply` would do to bring them back:\n");
    }
    print_plan(&plan, args.format);
    Outcome::Changes
}

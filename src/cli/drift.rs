//! `topo drift FILE...`: read-only; what changed out of band. Exit 0 in sync, 2 drift, 1 error.
//!
//! Drift is the plan seen from the other side: owned rows changed or deleted out of band,
//! owned rows the topology no longer has, names the topology wants held by rows topo does
//! not own, rows topo does not own attached to the stack's rows (apply keeps them), what apply would change in the chassis databases topo can reach, and what the
//! chassis publish in the Southbound that differs from the topology.

use std::path::PathBuf;

use clap::Args;

use super::chassis;
use super::connect::DbArgs;
use super::exit::Outcome;
use super::lab_target::LabArg;
use super::plan::PlanFormat;
use crate::apply;
use crate::drift::render::{self, Drift};

#[derive(Debug, Args)]
pub(crate) struct DriftArgs {
    /// Topology files, or directories of `*.yaml` files, merged into one topology.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    #[command(flatten)]
    pub chassis: chassis::ChassisArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lab: LabArg,
}

pub(crate) fn run(mut args: DriftArgs) -> Outcome {
    let (desired, targets, rt) = match super::plan::start(&args.paths, &mut args.db, &args.lab) {
        Ok(started) => started,
        Err(outcome) => return outcome,
    };
    let stack = desired.stack.clone();
    let result = rt.block_on(async {
        let nb = args.db.connect("Northbound").await?;
        let (mut plan, _) = apply::read_and_plan(&nb, &desired.rows, &stack, true)
            .await
            .map_err(super::plan::failure)?;
        // The chassis databases topo can reach, as plan reads them.
        let reachable = chassis::reachable(&desired.rows, targets.as_ref(), &args.db.chassis);
        let timeout = args.db.timeout();
        (plan.chassis, plan.chassis_unchecked) =
            args.chassis.preview(&stack, &reachable, timeout).await?;
        // The hardware VTEPs, as plan reads them.
        let vteps = super::vtep::reachable(&desired.rows, targets.as_ref(), &args.db.vteps);
        let (vtep_changes, vteps_unchecked) = args.chassis.preview_vteps(&vteps, timeout).await?;
        plan.vteps = vtep_changes;
        plan.chassis_unchecked.extend(vteps_unchecked);
        // The gateways on chassis whose mappings the topology does not declare.
        plan.gateways = super::gateways::check(&args.db, &desired.gateway_needs).await;
        // The chassis side needs the Southbound; without it (an NB-only pipeline) the row
        // drift is still reported and the chassis are said to be unchecked.
        let chassis = if desired.rows.chassis.is_empty() {
            Some(Vec::new())
        } else {
            match args.db.connect("Southbound").await {
                Ok(sb) => {
                    let registered = crate::live::southbound::all(&sb)
                        .await
                        .map_err(miette::Report::new)?;
                    Some(crate::drift::chassis::chassis_drift(
                        &desired.rows,
                        &registered,
                    ))
                }
                Err(e) => {
                    eprintln!("note: the chassis were not checked: {e}");
                    None
                }
            }
        };
        Ok::<_, miette::Report>((plan, chassis))
    });
    let (plan, chassis) = match result {
        Ok(found) => found,
        Err(report) => return Outcome::Error(report),
    };
    let chassis_checked = chassis.is_some();
    let chassis = chassis.unwrap_or_default();
    let drift = Drift {
        plan: &plan,
        findings: &chassis,
        chassis_checked,
    };
    let in_sync = drift.in_sync();
    let text = match args.format {
        PlanFormat::Json => {
            // The plan's own JSON (docs/plan-format.md), plus the verdict and what the
            // Southbound showed of the chassis.
            #[derive(serde::Serialize)]
            struct DriftDoc<'a> {
                #[serde(flatten)]
                plan: &'a crate::diff::Plan,
                in_sync: bool,
                chassis_checked: bool,
                southbound_chassis: &'a [String],
            }
            let doc = DriftDoc {
                plan: &plan,
                in_sync,
                chassis_checked,
                southbound_chassis: &chassis,
            };
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
        }
        PlanFormat::Text => render::text(&drift, super::desired::color()),
        PlanFormat::Markdown => render::markdown(&drift),
    };
    {
        use std::io::Write;
        let _ = write!(std::io::stdout().lock(), "{text}");
    }
    if args.chassis.incomplete(&plan) {
        eprintln!("error: drift is incomplete: a chassis was not checked (--strict)");
        Outcome::Failed
    } else if in_sync {
        Outcome::Success
    } else {
        Outcome::Changes
    }
}

//! `topo apply FILE...|PLANFILE`: one atomic transaction, then wait and re-plan.
//!
//! Asks for confirmation on a terminal; `--yes` skips it; without a terminal and without
//! `--yes` it refuses, after showing the plan.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::chassis;
use super::connect::{DbArgs, runtime};
use super::desired;
use super::exit::Outcome;
use super::lab_target::LabArg;
use super::plan::{is_saved_plan, load_saved};
use crate::apply::{self, Report, WaitFor};
use crate::diff::render;

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// Topology files or directories, or one plan saved by `topo plan -o`.
    #[arg(required = true, value_name = "FILE|DIR|PLANFILE")]
    pub paths: Vec<PathBuf>,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// After the commit, wait for ovn-northd (sb) or the chassis the topology declares (hv),
    /// as ovn-nbctl --wait, until --timeout.
    #[arg(long, value_enum, default_value_t = WaitFor::None)]
    pub wait: WaitFor,
    /// Keep owned rows that left the topology instead of deleting them.
    #[arg(long, conflicts_with = "destroy")]
    pub no_prune: bool,
    /// Remove everything the topology's stack owns instead (as `topo destroy`).
    #[arg(long)]
    pub destroy: bool,
    /// Apply even when the plan deletes or detaches rows the stack does not own (a child
    /// added by hand to a row the topology removes): the plan lists them under "Foreign rows
    /// at risk".
    #[arg(long)]
    pub allow_foreign_loss: bool,
    /// The stack of a saved plan (checked against the plan's own).
    #[arg(long)]
    pub stack: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lab: LabArg,
}

/// An apply error as the diagnostic the user sees, with its help; a chassis's with the
/// chassis code.
fn failure(error: apply::Error) -> miette::Report {
    if let apply::Error::Chassis {
        error,
        apply_id,
        nothing_written,
    } = error
    {
        return chassis::report_apply(error, apply_id, nothing_written);
    }
    let help = help_for(&error);
    let code = match error {
        apply::Error::ForeignLoss(_) => apply::FOREIGN_LOSS,
        _ => "topo::apply::failed",
    };
    super::failure::report(code, error, help)
}

fn help_for(e: &apply::Error) -> Option<String> {
    Some(match e {
        apply::Error::Locked { .. } => {
            "wait for the other apply to finish, then plan again".to_owned()
        }
        apply::Error::Stale { moved } => format!(
            "what moved:\n  {}\nrun `topo plan` again and review the new plan",
            moved.join("\n  ")
        ),
        apply::Error::Moved { .. } => "run `topo plan` again and review the new plan".to_owned(),
        apply::Error::Conflicts(plan) => render::text(plan, false),
        apply::Error::ForeignLoss(plan) => format!(
            "{}\nthey were added to the stack's rows by hand or by another tool: keep their \
             parent in the topology, move or remove them first, adopt them (`topo import \
             --adopt`), or accept their loss with {}",
            plan.foreign_at_risk
                .iter()
                .map(|r| format!("  {}", render::at_risk_line(r, &plan.stack)))
                .collect::<Vec<_>>()
                .join("\n"),
            render::ALLOW_FOREIGN_LOSS
        ),
        apply::Error::LockLost { .. } | apply::Error::Lost { .. } => {
            "the database changed hands while applying; run `topo apply` again".to_owned()
        }
        apply::Error::Unverified { .. } => {
            "the change is committed; `topo plan` shows whether the live state matches".to_owned()
        }
        apply::Error::OutcomeUnknown { .. } => {
            "no member answered before --timeout, so the database may or may not hold the \
             change: once it answers, `topo plan` shows which"
                .to_owned()
        }
        apply::Error::NotApplied { .. } => "run `topo apply` again".to_owned(),
        apply::Error::NothingWritten { error } => {
            use miette::Diagnostic;
            return help_for(error).or_else(|| error.help().map(|h| h.to_string()));
        }
        _ => return None,
    })
}

/// `topo destroy FILE...`: apply the removal of everything the topology's stack owns.
#[derive(Debug, Args)]
pub(crate) struct DestroyArgs {
    /// The stack's topology files or directories (its name, chassis and checks).
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Destroy without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// After the commit, wait for ovn-northd (sb) or the chassis (hv), until --timeout.
    #[arg(long, value_enum, default_value_t = WaitFor::None)]
    pub wait: WaitFor,
    /// Destroy even when that deletes or detaches rows the stack does not own (children
    /// added by hand to its rows): the plan lists them under "Foreign rows at risk".
    #[arg(long)]
    pub allow_foreign_loss: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lab: LabArg,
}

impl From<DestroyArgs> for ApplyArgs {
    fn from(d: DestroyArgs) -> ApplyArgs {
        ApplyArgs {
            paths: d.paths,
            yes: d.yes,
            wait: d.wait,
            no_prune: false,
            destroy: true,
            allow_foreign_loss: d.allow_foreign_loss,
            stack: None,
            db: d.db,
            lab: d.lab,
        }
    }
}

pub(crate) fn run(mut args: ApplyArgs) -> Outcome {
    let saved_path = match args.paths.as_slice() {
        [one] if is_saved_plan(one) => Some(one.clone()),
        _ => None,
    };
    if args.destroy && saved_path.is_some() {
        return Outcome::Error(miette::miette!(
            code = "topo::apply::destroy-plan",
            help = "a saved plan already says what it does: `topo apply PLANFILE`",
            "--destroy takes the stack's topology, not a saved plan"
        ));
    }
    let saved = match &saved_path {
        Some(path) => match load_saved(path) {
            Ok(plan) => Some(plan),
            Err(e) => return Outcome::Error(miette::miette!("{}: {e}", path.display())),
        },
        None => None,
    };
    for line in saved.iter().flat_map(crate::diff::render::unchecked_lines) {
        eprintln!("warning: {line}: not checked when the plan was made; apply leaves it alone");
    }
    let targets = match args.lab.resolve(&mut args.db) {
        Ok(t) => t,
        Err(report) => return Outcome::Error(report),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    // The topology compiles while the Northbound is read.
    let loading = saved
        .is_none()
        .then(|| desired::load_in_background(args.paths.clone()));
    let yes = args.yes;
    let verb = if args.destroy { "Destroy" } else { "Apply" };
    let remote = args.db.nb.clone();
    let timeout = args.db.timeout();
    let result = rt.block_on(async {
        let opened = async {
            let nb = args.db.connect("Northbound").await?;
            let read = apply::read(&nb, timeout).await.map_err(failure)?;
            Ok::<_, miette::Report>((nb, read))
        }
        .await;
        // Diagnostics of the topology come before any database error.
        let desired = match loading {
            Some(loading) => match loading.wait().await {
                Some(d) if args.destroy => Some(d.destroying()),
                Some(d) => Some(d),
                None => return Ok(None),
            },
            None => None,
        };
        let (nb, read) = opened?;
        // A gateway whose active chassis the Southbound shows without its network blocks
        // apply before anything is read from or written to a chassis; a saved plan carries
        // what its plan found.
        let found = match (&desired, &saved) {
            (Some(d), _) if !args.destroy => {
                super::gateways::check(&args.db, &d.gateway_needs).await
            }
            (None, Some(plan)) => plan.gateways.clone(),
            _ => Vec::new(),
        };
        if let Some(refusal) = super::gateways::refusal(&found) {
            return Err(refusal);
        }
        super::gateways::warn(&found);
        let stack = match (&desired, &saved) {
            (Some(d), _) => d.stack.clone(),
            (None, Some(plan)) => args.stack.clone().unwrap_or_else(|| plan.stack.clone()),
            (None, None) => String::new(),
        };
        let (progress, waited) = super::progress::reporter();
        let options = apply::Options {
            stack,
            prune: !args.no_prune,
            allow_foreign_loss: args.allow_foreign_loss,
            wait: args.wait,
            timeout,
            progress: Some(progress),
        };
        let vteps = match &desired {
            Some(d) => super::vtep::reachable(&d.rows, targets.as_ref(), &args.db.vteps),
            None => Vec::new(),
        };
        let targets = match &desired {
            Some(d) => chassis::reachable(&d.rows, targets.as_ref(), &args.db.chassis),
            None => Vec::new(),
        };
        let request = apply::Request {
            desired: desired.as_ref().map(|d| &d.rows),
            saved,
            targets,
            vteps,
            options,
        };
        let prepared = apply::prepare(request).await.map_err(failure)?;
        // The Southbound is needed to check the outcome (and to name lagging chassis), and
        // to confirm what the chassis publish.
        let sb = if prepared.needs_southbound() {
            Some(args.db.connect("Southbound").await?)
        } else {
            None
        };
        let applied = apply::apply(&nb, sb.as_ref(), read, prepared, |plan, chassis| {
            confirm(plan, chassis, yes, &remote)
        })
        .await;
        waited.done();
        let applied = applied.map_err(failure)?;
        // Process exit frees the rows faster than dropping them one by one.
        std::mem::forget(desired);
        Ok::<_, miette::Report>(Some(applied))
    });
    match result {
        Ok(None) => Outcome::Failed,
        Ok(Some(apply::Applied {
            report,
            chassis_changes,
            chassis,
            vteps,
        })) => {
            match report {
                Report::NoChanges(_) if !chassis_changes.is_empty() || !vteps.is_empty() => {
                    println!(
                        "Apply complete: no rows to change; chassis or VTEPs changed as below."
                    )
                }
                Report::NoChanges(_) => {
                    println!("No changes. The live databases match the topology.")
                }
                Report::Applied {
                    plan,
                    apply_id,
                    warnings,
                } => {
                    let (c, u, d) = plan.summary();
                    println!(
                        "{verb} complete: {c} created, {u} updated, {d} deleted (apply {apply_id})."
                    );
                    // Process exit frees it faster than dropping it change by change.
                    std::mem::forget(plan);
                    // What the Southbound did not show yet when the deadline passed.
                    for w in warnings {
                        eprintln!("warning: {w}");
                    }
                }
            }
            for a in chassis {
                let what = if a.mappings_before == a.mappings_after {
                    format!("ovn-bridge-mappings {:?} (unchanged)", a.mappings_after)
                } else {
                    format!(
                        "ovn-bridge-mappings {:?} → {:?}",
                        a.mappings_before, a.mappings_after
                    )
                };
                let set: String = a
                    .settings
                    .iter()
                    .map(|c| format!("; {} {:?}", c.key, c.after))
                    .collect();
                println!(
                    "Chassis {}: {what}; bridges {:?}{set}.",
                    a.chassis, a.bridges
                );
            }
            for v in vteps {
                println!(
                    "VTEP {}: {} binding(s) set, {} logical switch(es) created{}.",
                    v.vtep,
                    v.bindings.len(),
                    v.logical_switches_added.len(),
                    if v.switch_created {
                        ", physical switch created"
                    } else {
                        ""
                    }
                );
            }
            Outcome::Success
        }
        Err(report) => Outcome::Error(report),
    }
}

/// Shows the plan (and the chassis changes) and asks, unless `--yes`. Without a terminal,
/// refuses.
fn confirm(
    plan: &crate::diff::Plan,
    chassis: &[crate::diff::ChassisChange],
    yes: bool,
    remote: &str,
) -> bool {
    print!("{}", render::text_with(plan, chassis, desired::color()));
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("Refusing to apply without --yes: stdin is not a terminal.");
        return false;
    }
    print!("\nApply these changes to {remote}? Only 'yes' is accepted: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim() == "yes"
}

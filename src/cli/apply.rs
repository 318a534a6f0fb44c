//! `topo apply FILE...|PLANFILE`: one atomic transaction, then wait and re-plan.
//!
//! Asks for confirmation on a terminal; `--yes` skips it; without a terminal and without
//! `--yes` it refuses, after showing the plan.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use miette::Diagnostic;

use super::connect::{DbArgs, runtime};
use super::desired;
use super::exit::Outcome;
use super::plan::{PlanFormat, is_saved_plan, load_saved, print_plan};
use crate::apply::{self, Report, WaitFor};
use crate::diff::render;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Topology files or directories, or one plan saved by `topo plan -o`.
    #[arg(required = true, value_name = "FILE|DIR|PLANFILE")]
    pub paths: Vec<PathBuf>,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// After the commit, wait for ovn-northd (sb) or every chassis (hv), as ovn-nbctl --wait.
    #[arg(long, value_enum, default_value_t = WaitFor::None)]
    pub wait: WaitFor,
    /// Keep owned rows that left the topology instead of deleting them.
    #[arg(long)]
    pub no_prune: bool,
    /// The stack of a saved plan (checked against the plan's own).
    #[arg(long)]
    pub stack: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{error}")]
#[diagnostic(code(topo::apply::failed))]
pub struct ApplyFailure {
    pub error: apply::Error,
    #[help]
    pub help: Option<String>,
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
        apply::Error::OutcomeUnknown { .. } => {
            "the database may or may not hold the change: `topo plan` shows which".to_owned()
        }
        _ => return None,
    })
}

pub fn run(args: ApplyArgs) -> Outcome {
    let saved_path = match args.paths.as_slice() {
        [one] if is_saved_plan(one) => Some(one.clone()),
        _ => None,
    };
    let (stack, desired, saved) = match &saved_path {
        Some(path) => match load_saved(path) {
            Ok(plan) => (
                args.stack.clone().unwrap_or_else(|| plan.stack.clone()),
                None,
                Some(plan),
            ),
            Err(e) => return Outcome::Error(miette::miette!("{}: {e}", path.display())),
        },
        None => match desired::load(&args.paths) {
            Some((stack, rows)) => (stack, Some(rows), None),
            None => return Outcome::Failed,
        },
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return Outcome::Error(miette::miette!("cannot start the runtime: {e}")),
    };
    let options = apply::Options {
        stack,
        prune: !args.no_prune,
        wait: args.wait,
        timeout: Duration::from_secs(args.db.timeout.max(1)),
    };
    let yes = args.yes;
    let remote = args.db.nb.clone();
    let result = rt.block_on(async {
        let nb = args.db.connect("Northbound").await?;
        let sb = if args.wait == WaitFor::Hv {
            args.db.connect("Southbound").await.ok()
        } else {
            None
        };
        apply::run(
            &nb,
            sb.as_ref(),
            desired.as_ref(),
            saved,
            &options,
            |plan| confirm(plan, yes, &remote),
        )
        .await
        .map_err(|error| {
            let help = help_for(&error);
            miette::Report::new(ApplyFailure { error, help })
        })
    });
    match result {
        Ok(Report::NoChanges(_)) => {
            println!("No changes. The live databases match the topology.");
            Outcome::Success
        }
        Ok(Report::Applied { plan, apply_id, .. }) => {
            let (c, u, d) = plan.summary();
            println!("Apply complete: {c} created, {u} updated, {d} deleted (apply {apply_id}).");
            Outcome::Success
        }
        Err(report) => Outcome::Error(report),
    }
}

/// Shows the plan and asks, unless `--yes`. Without a terminal, refuses.
fn confirm(plan: &crate::diff::Plan, yes: bool, remote: &str) -> bool {
    print_plan(plan, PlanFormat::Text);
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

//! `topo plan FILE... [-o PLANFILE]`: what apply would change, row by row, against the live
//! Northbound database. Exit 0 no changes, 2 changes, 1 error (conflicts included).

use std::path::PathBuf;

use clap::Args;

use super::chassis;
use super::connect::{DbArgs, runtime};
use super::desired;
use super::exit::Outcome;
use super::lab_target::LabArg;
use crate::diff::{self, Plan, render};
use crate::rows::Db;
use crate::{apply, live};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Topology files, or directories of `*.yaml` files, merged into one topology.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Save the plan (JSON) for `topo apply PLANFILE`.
    #[arg(short = 'o', long = "out", value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Keep owned rows that left the topology instead of deleting them.
    #[arg(long, conflicts_with = "destroy")]
    pub no_prune: bool,
    /// Plan the removal of everything the topology's stack owns (what `topo destroy` does;
    /// save it with -o and apply it with `topo apply PLANFILE`).
    #[arg(long)]
    pub destroy: bool,
    #[command(flatten)]
    pub chassis: chassis::ChassisArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lab: LabArg,
}

pub(crate) fn run(mut args: PlanArgs) -> Outcome {
    let targets = match args.lab.resolve(&mut args.db) {
        Ok(targets) => targets,
        Err(report) => return Outcome::Error(report),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    // The topology compiles while the Northbound is read.
    let loading = desired::load_in_background(args.paths.clone());
    let (desired, read) = rt.block_on(async {
        let read = async {
            let nb = args.db.connect("Northbound").await?;
            let schema = nb.get_schema(Db::Northbound.schema_name()).await;
            let schema = schema.map_err(|e| failure(e.into()))?;
            live::read_nb(&nb, &schema)
                .await
                .map_err(|e| failure(e.into()))
        }
        .await;
        (loading.wait().await, read)
    });
    // Diagnostics of the topology come before any database error.
    let Some(desired) = desired else {
        return Outcome::Failed;
    };
    let desired = if args.destroy {
        desired.destroying()
    } else {
        desired
    };
    let live = match read {
        Ok(live) => live,
        Err(report) => return Outcome::Error(report),
    };
    let mut plan = diff::plan(
        &desired.rows,
        &live,
        &desired.stack,
        diff::Options {
            prune: !args.no_prune,
        },
    );
    // The chassis apply would write, read through their own databases.
    let reachable = chassis::reachable(&desired.rows, targets.as_ref(), &args.db.chassis);
    if !reachable.is_empty() {
        let timeout = args.db.timeout();
        match rt.block_on(args.chassis.preview(&desired.stack, &reachable, timeout)) {
            Ok((changes, unchecked)) => {
                plan.chassis = changes;
                plan.chassis_unchecked = unchecked;
            }
            Err(report) => return Outcome::Error(report),
        }
    }
    // The hardware VTEPs apply would write, read through their own databases.
    let vteps = super::vtep::reachable(&desired.rows, targets.as_ref(), &args.db.vteps);
    if !vteps.is_empty() {
        let timeout = args.db.timeout();
        match rt.block_on(args.chassis.preview_vteps(&vteps, timeout)) {
            Ok((changes, unchecked)) => {
                plan.vteps = changes;
                plan.chassis_unchecked.extend(unchecked);
            }
            Err(report) => return Outcome::Error(report),
        }
    }
    // The gateways on chassis whose mappings the topology does not declare, from the
    // Southbound (a plan of the stack's removal has none).
    if !args.destroy {
        plan.gateways = rt.block_on(super::gateways::check(&args.db, &desired.gateway_needs));
    }
    // Process exit frees the rows faster than dropping them one by one.
    std::mem::forget((desired, live));
    print_plan(&plan, args.format);
    if let Some(path) = &args.out {
        if let Err(e) = save(&plan, path) {
            return Outcome::Error(miette::miette!(
                "cannot write the plan to {}: {e}",
                path.display()
            ));
        }
        eprintln!(
            "Saved the plan to {}; apply it with `topo apply {}`.",
            path.display(),
            path.display()
        );
    }
    if args.chassis.incomplete(&plan) {
        eprintln!("error: the plan is incomplete: a chassis was not checked (--strict)");
        return Outcome::Failed;
    }
    verdict(&plan)
}

/// A read or plan error as `topo plan`'s (and drift's) diagnostic.
pub(super) fn failure(e: apply::Error) -> miette::Report {
    super::failure::report("topo::plan::failed", e, None)
}

/// What drift starts from: the checked topology (diagnostics printed when it is not), the
/// connection flags pointed at a lab when one is targeted (and the lab's targets), and a
/// runtime.
pub(super) fn start(
    paths: &[PathBuf],
    db: &mut DbArgs,
    lab: &LabArg,
) -> Result<
    (
        desired::Desired,
        Option<crate::lab::targets::Targets>,
        tokio::runtime::Runtime,
    ),
    Outcome,
> {
    let desired = desired::load(paths).ok_or(Outcome::Failed)?;
    let targets = lab.resolve(db).map_err(Outcome::Error)?;
    let rt = runtime()?;
    Ok((desired, targets, rt))
}

/// 1 with conflicts or a gateway finding that blocks apply, 2 with changes, 0 otherwise.
pub(crate) fn verdict(plan: &Plan) -> Outcome {
    if !plan.conflicts.is_empty() || crate::diff::gateways::blocking(&plan.gateways) {
        Outcome::Failed
    } else if plan.is_empty() {
        Outcome::Success
    } else {
        Outcome::Changes
    }
}

fn print_plan(plan: &Plan, format: PlanFormat) {
    use std::io::Write;
    let text = match format {
        PlanFormat::Text => render::text(plan, desired::color()),
        PlanFormat::Markdown => render::markdown(plan),
        PlanFormat::Json => serde_json::to_string_pretty(plan).unwrap_or_default() + "\n",
    };
    let _ = write!(std::io::stdout().lock(), "{text}");
}

/// Writes the plan readable by its owner only: it describes the network in detail.
fn save(plan: &Plan, path: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let json = serde_json::to_vec_pretty(plan).map_err(std::io::Error::other)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(&json)?;
    f.write_all(b"\n")
}

/// Reads a saved plan, refusing other format versions.
///
/// The text is parsed straight into the [`Plan`], never into a `serde_json::Value` first: a
/// 15,000-change plan (22 MB) took 0.4 s and 200 MB that way. Only a plan that does not parse
/// is read again for its version alone (other fields skipped unbuilt), so that a plan of
/// another release is refused for its version, not for a field it names differently.
pub(crate) fn load_saved(path: &std::path::Path) -> Result<Plan, String> {
    /// A saved plan's `format_version`, whatever the rest holds.
    #[derive(serde::Deserialize)]
    struct Version {
        format_version: Option<u64>,
    }
    let wrong_version = |version: Option<u64>| {
        format!(
            "plan format version {} is not {} (made by another topo release?)",
            version.map_or("missing".to_owned(), |v| v.to_string()),
            crate::diff::plan::FORMAT_VERSION
        )
    };
    let current = u64::from(crate::diff::plan::FORMAT_VERSION);
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    match serde_json::from_str::<Plan>(&text) {
        Ok(plan) if u64::from(plan.format_version) == current => Ok(plan),
        Ok(plan) => Err(wrong_version(Some(u64::from(plan.format_version)))),
        Err(e) => match serde_json::from_str::<Version>(&text) {
            Ok(Version { format_version }) if format_version != Some(current) => {
                Err(wrong_version(format_version))
            }
            _ => Err(format!("not a saved plan: {e}")),
        },
    }
}

/// Whether a path holds a saved plan rather than a topology: a JSON object. A damaged plan
/// (truncated, edited) is still one, so that [`load_saved`] refuses it as a plan instead of
/// it being read as a topology (JSON is YAML) and failing with topology diagnostics.
pub(crate) fn is_saved_plan(path: &std::path::Path) -> bool {
    use std::io::Read;
    // Only up to the first byte that is not whitespace: a plan can be tens of MB.
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut bytes = std::io::BufReader::new(file).bytes();
    bytes
        .find(|b| !matches!(b, Ok(c) if c.is_ascii_whitespace()))
        .is_some_and(|b| matches!(b, Ok(b'{')))
}

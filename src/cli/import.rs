//! `topo import [--stack NAME] [--adopt] [-o FILE]`: the live Northbound (+ Southbound
//! chassis) as a topology file. Everything the language cannot express is said on stderr;
//! `--adopt` then marks the imported rows as owned by the stack in one guarded transaction.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::connect::{DbArgs, runtime};
use super::exit::Outcome;
use super::lab_target::LabArg;
use crate::import::{self, Input, SbChassis};
use crate::live::vtep::Vtep;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The stack name written into the file (and, with --adopt, into the rows).
    #[arg(long, default_value = "imported", value_name = "NAME")]
    pub stack: String,
    /// Mark the imported rows as owned by the stack (`topo:stack`, `topo:version` in
    /// external_ids), in one transaction, so that a plan of the file is empty.
    #[arg(long)]
    pub adopt: bool,
    /// Write the topology here instead of to stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lab: LabArg,
}

pub(crate) fn run(mut args: ImportArgs) -> Outcome {
    let lab = match args.lab.resolve(&mut args.db) {
        Ok(lab) => lab,
        Err(report) => return Outcome::Error(report),
    };
    // A lab's emulated VTEPs are reached through the lab, like its chassis.
    if let Some(lab) = lab {
        for (name, v) in lab.vteps {
            args.db.vteps.insert(name, v.remote);
        }
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    match rt.block_on(run_async(&args)) {
        Ok(o) => o,
        Err(report) => Outcome::Error(report),
    }
}

async fn run_async(args: &ImportArgs) -> Result<Outcome, miette::Report> {
    let nb = args.db.connect("Northbound").await?;
    let import::Read {
        schema,
        live,
        other_tables,
    } = import::read(&nb).await?;
    let mut notes = Vec::new();
    let chassis = match read_chassis(&args.db).await {
        Ok(c) => Some(c),
        Err(e) => {
            notes.push(format!(
                "the Southbound database could not be read ({e}); chassis encaps and bridge \
                 mappings are placeholders"
            ));
            None
        }
    };
    let vtep_bindings = read_vtep_bindings(&args.db, chassis.as_deref(), &mut notes).await;
    let imported = import::import(&Input {
        stack: &args.stack,
        live: &live,
        schema: &schema,
        chassis: chassis.as_deref(),
        vtep_bindings: &vtep_bindings,
        other_tables: &other_tables,
    });
    notes.extend(imported.notes.iter().cloned());
    // The DHCP options and DNS rows the file describes, keyed as they will be once adopted.
    let mut live = live;
    import::name_tagged(&mut live, &imported.tags);
    let (desired, check_notes) = import::self_check(&imported.yaml, &live, &args.stack);
    let invalid = desired.is_none();
    notes.extend(check_notes);

    match &args.out {
        Some(path) => {
            std::fs::write(path, &imported.yaml).map_err(|source| import::Error::Write {
                path: path.clone(),
                source,
            })?;
        }
        None => print!("{}", imported.yaml),
    }
    for n in &notes {
        eprintln!("note: {n}");
    }
    if invalid {
        return Err(import::Error::Invalid.into());
    }
    if let (true, Some(desired)) = (args.adopt, desired) {
        let (rows, adopt_notes) = import::to_adopt(&desired, &live, &args.stack);
        for n in adopt_notes {
            eprintln!("note: {n}");
        }
        if rows.is_empty() {
            eprintln!(
                "Nothing to adopt: every imported row already belongs to stack {}.",
                args.stack
            );
        } else {
            import::adopt(&nb, &live, &args.stack, &rows).await?;
            eprintln!(
                "Adopted {} row(s) into stack {} (external_ids topo:stack, topo:version).",
                rows.len(),
                args.stack
            );
        }
    }
    if let Some(path) = &args.out {
        eprintln!(
            "Wrote {}; check it with `topo validate {}` and `topo plan {}`.",
            path.display(),
            path.display(),
            path.display()
        );
    }
    Ok(Outcome::Success)
}

/// The VLAN bindings of each hardware VTEP the Southbound lists (registered by
/// `ovn-controller-vtep`) whose own database has a remote (the lab's, else the target's); one
/// that cannot be read is a note, and imported without its bindings.
async fn read_vtep_bindings(
    db: &DbArgs,
    chassis: Option<&[SbChassis]>,
    notes: &mut Vec<String>,
) -> BTreeMap<String, BTreeMap<String, BTreeMap<i64, String>>> {
    let mut out = BTreeMap::new();
    let vteps = chassis.unwrap_or_default().iter().filter(|c| c.is_vtep());
    for c in vteps {
        let Some(remote) = db.vteps.get(&c.name) else {
            continue;
        };
        let read = async {
            let vtep = Vtep::connect(remote, db.timeout(), false).await?;
            vtep.current(&c.name).await
        };
        match read.await {
            Ok(current) => {
                out.insert(c.name.clone(), current.ports);
            }
            Err(e) => notes.push(format!(
                "VTEP {}: its database at {remote} could not be read ({e}); imported without \
                 `ports`",
                c.name
            )),
        }
    }
    out
}

/// The SB chassis with their encaps and bridge mappings.
async fn read_chassis(db: &DbArgs) -> Result<Vec<SbChassis>, String> {
    let sb = db.connect("Southbound").await.map_err(|e| e.to_string())?;
    crate::live::southbound::all(&sb)
        .await
        .map_err(|e| e.to_string())
}

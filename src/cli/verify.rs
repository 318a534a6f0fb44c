//! `topo verify FILE|DIR... [--lab DIR]`: the topology's `checks`, with real packets, in the
//! bundled lab. Exit 0 when every check passes, 1 otherwise (failures come with the ports'
//! bindings and the `ovn-trace` of the packet). The checks run four at a time; the report
//! keeps their order. `--check NAME|INDEX` runs a subset.

use std::path::PathBuf;

use clap::Args;

use super::Format;
use super::connect::runtime;
use super::exit::Outcome;
use crate::lab::{self, LabSpec, LabState, checks::CheckOptions};

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Topology files or directories.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// The lab to verify in (default: the lab in /run/topo/lab, if one runs there).
    #[arg(long, value_name = "DIR")]
    pub lab: Option<PathBuf>,
    /// Run only this check: its `name`, or its index in `checks` (from 1). Repeatable.
    #[arg(long = "check", value_name = "NAME|INDEX")]
    pub checks: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: VerifyArgs) -> Outcome {
    let (loaded, model, diags) = super::validate::load_and_check(&args.paths);
    if diags.has_errors() {
        super::validate::report(&loaded, &diags, super::validate::ValidateFormat::Text);
        return Outcome::Failed;
    }
    let Some(model) = model else {
        return Outcome::Failed;
    };
    let spec = match LabSpec::from_model(&model) {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e.into()),
    };
    let dir = args
        .lab
        .clone()
        .unwrap_or_else(|| PathBuf::from(lab::DEFAULT_DIR));
    let mut state = match LabState::load(&dir) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Outcome::Error(miette::miette!(
                help = "start one with `topo lab up FILE --lab DIR`",
                "no lab in {}",
                dir.display()
            ));
        }
        Err(e) => return Outcome::Error(e.into()),
    };
    if args.lab.is_none() && args.format == Format::Text {
        eprintln!("using the lab in {}", dir.display());
    }
    if spec.checks.is_empty() {
        eprintln!("the topology declares no checks");
        return Outcome::Success;
    }
    let only = match lab::checks::select_checks(&spec.checks, &args.checks) {
        Ok(only) => only,
        Err(e) => {
            return Outcome::Error(miette::miette!(
                code = "topo::verify::unknown-check",
                help = "`--check` takes a check's `name` or its index in `checks`, from 1",
                "{e}"
            ));
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    // VMs of ports with dynamic addresses take the ones OVN assigned.
    match rt.block_on(lab::dynamic::learn(&mut state)) {
        Ok(lines) if args.format == Format::Text => {
            for l in lines {
                eprintln!("dynamic address of {l}");
            }
        }
        Ok(_) => {}
        Err(e) => return Outcome::Error(e.into()),
    }
    let results = rt.block_on(lab::run_checks(
        &state,
        &spec.checks,
        &CheckOptions {
            only,
            ..CheckOptions::default()
        },
    ));
    match args.format {
        Format::Text => print!("{}", lab::checks::render(&results)),
        Format::Json => match serde_json::to_string_pretty(&results) {
            Ok(s) => println!("{s}"),
            Err(e) => return Outcome::Error(miette::Report::from_err(e)),
        },
    }
    if results.iter().all(|r| r.passed) {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}

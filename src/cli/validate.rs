//! `topo validate FILE|DIR...`: load and check a topology, report every diagnostic.
//!
//! Exit 0 when valid (warnings allowed), 1 when there is an error. `--format json` prints
//! one JSON document listing the diagnostics with code, severity, message, file, line, column
//! and byte offset; `--format github` prints one GitHub Actions workflow command per
//! diagnostic, which a workflow run shows as an annotation on the offending line.

use std::path::PathBuf;

use clap::Args;

use super::exit::Outcome;
use crate::diagnostics::{Diagnostics, JsonDiagnostic, Rendered, render_github};
use crate::spec::{self, Loaded};

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Topology files, or directories of `*.yaml` files, merged into one topology.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format: `github` prints GitHub Actions annotations (`::error file=...`).
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
}

/// How `validate` (and the commands that check a topology first) report diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ValidateFormat {
    /// miette's report on stderr.
    Text,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions workflow commands on stdout, one per diagnostic.
    Github,
}

/// Loads and checks; shared by `validate` and `compile`.
pub(super) fn load_and_check(
    paths: &[PathBuf],
) -> (Loaded, Option<crate::compiler::Model>, Diagnostics) {
    let loaded = spec::load_paths(paths);
    crate::timings::phase("load the topology");
    let mut diags = loaded.diagnostics.clone();
    // Checked whenever every file parsed, so one run reports the unknown keys and the
    // problems after them; a model only when the loader found no error either.
    let model = if loaded.checkable() {
        let (model, checked) = crate::compiler::check(&loaded.topology);
        diags.extend(checked);
        model.filter(|_| !loaded.diagnostics.has_errors())
    } else {
        None
    };
    (loaded, model, diags.sorted())
}

/// Prints diagnostics to stderr (text) or stdout (json, github).
pub(super) fn report(loaded: &Loaded, diags: &Diagnostics, format: ValidateFormat) {
    match format {
        ValidateFormat::Github => print!("{}", render_github(diags, &loaded.sources)),
        ValidateFormat::Json => {
            let items: Vec<JsonDiagnostic> = diags
                .items
                .iter()
                .map(|d| JsonDiagnostic::new(d, &loaded.sources))
                .collect();
            let doc = serde_json::json!({
                "valid": !diags.has_errors(),
                "errors": diags.errors(),
                "warnings": diags.warnings(),
                "diagnostics": items,
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        ValidateFormat::Text => {
            let handler =
                miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::default());
            for d in &diags.items {
                let r = Rendered {
                    diagnostic: d,
                    sources: &loaded.sources,
                };
                let mut out = String::new();
                let _ = handler.render_report(&mut out, &r);
                eprint!("{out}");
            }
        }
    }
}

pub(crate) fn run(args: ValidateArgs) -> Outcome {
    let (loaded, _model, diags) = load_and_check(&args.paths);
    report(&loaded, &diags, args.format);
    if args.format == ValidateFormat::Text {
        let files = loaded.sources.files().len();
        if diags.has_errors() {
            eprintln!(
                "invalid: {} error(s), {} warning(s) in {files} file(s)",
                diags.errors(),
                diags.warnings()
            );
        } else {
            eprintln!("valid: {} warning(s) in {files} file(s)", diags.warnings());
        }
    }
    let failed = diags.has_errors();
    // The process ends next: freeing a large topology node by node only costs time.
    std::mem::forget(loaded);
    std::mem::forget(_model);
    if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

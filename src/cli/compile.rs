//! `topo compile FILE...`: print the desired rows of a topology, for debugging and review.

use std::path::PathBuf;

use clap::Args;

use super::exit::Outcome;
use super::validate::{load_and_check, report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RowFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Topology files, or directories of `*.yaml` files, merged into one topology.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format of the rows.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: RowFormat,
}

pub fn run(args: CompileArgs) -> Outcome {
    let (loaded, model, diags) = load_and_check(&args.paths);
    // Diagnostics (warnings too) go to stderr; stdout holds only the rows.
    report(&loaded, &diags, super::Format::Text);
    let Some(model) = model else {
        return Outcome::Failed;
    };
    let rows = crate::compiler::output::to_json(&crate::compiler::lower(&model));
    let text = match args.format {
        RowFormat::Json => serde_json::to_string_pretty(&rows).map_err(|e| e.to_string()),
        RowFormat::Yaml => serde_saphyr::to_string(&rows).map_err(|e| e.to_string()),
    };
    match text {
        Ok(t) => {
            use std::io::Write;
            // A closed pipe (`topo compile x | head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{}", t.trim_end());
            Outcome::Success
        }
        Err(e) => Outcome::Error(miette::miette!("cannot render the rows: {e}")),
    }
}

//! `topo compile FILE...`: print the desired rows of a topology, for debugging and review.

use std::path::PathBuf;

use clap::Args;

use super::exit::Outcome;
use super::validate::{load_and_check, report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RowFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CompileArgs {
    /// Topology files, or directories of `*.yaml` files, merged into one topology.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format of the rows.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: RowFormat,
}

pub(crate) fn run(args: CompileArgs) -> Outcome {
    let (loaded, model, diags) = load_and_check(&args.paths);
    // Diagnostics (warnings too) go to stderr; stdout holds only the rows.
    report(&loaded, &diags, super::validate::ValidateFormat::Text);
    let Some(model) = model else {
        return Outcome::Failed;
    };
    // The model owns everything lowering needs: release the parsed files first, so the peak
    // holds the model and the rows, not the YAML tree as well.
    drop(loaded);
    let state = crate::compiler::lower(&model);
    let rows = crate::compiler::output::Rows(&state);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match args.format {
        RowFormat::Json => serde_json::to_writer_pretty(&mut out, &rows).map_err(|e| e.to_string()),
        RowFormat::Yaml => serde_saphyr::to_io_writer(&mut out, &rows).map_err(|e| e.to_string()),
    };
    use std::io::Write;
    // A closed pipe (`topo compile x | head`) is not an error worth reporting.
    let _ = written.and_then(|()| writeln!(out).map_err(|e| e.to_string()));
    let _ = out.flush();
    drop(out);
    // The process ends next: freeing a large state row by row only costs time.
    std::mem::forget(state);
    std::mem::forget(model);
    Outcome::Success
}

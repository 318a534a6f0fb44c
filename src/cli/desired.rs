//! Loading a topology into its desired rows for the commands that talk to OVN (plan, apply,
//! drift, verify, lab): diagnostics are reported exactly as `topo validate` reports them.

use std::path::PathBuf;

use super::Format;
use super::validate::{load_and_check, report};
use crate::compiler::Model;
use crate::rows::State;

/// A checked topology and its desired rows.
pub struct Desired {
    pub stack: String,
    pub rows: State,
    pub model: Model,
}

/// The checked topology, or `None` after the diagnostics were printed.
pub fn load(paths: &[PathBuf]) -> Option<Desired> {
    let (loaded, model, diags) = load_and_check(paths);
    crate::timings::phase("load and check the topology");
    if !diags.items.is_empty() {
        report(&loaded, &diags, Format::Text);
    }
    let model = model?;
    let rows = crate::compiler::lower(&model);
    crate::timings::phase("lower to rows");
    Some(Desired {
        stack: model.stack.clone(),
        rows,
        model,
    })
}

/// Whether to colour output: a terminal, and `NO_COLOR` unset.
pub fn color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

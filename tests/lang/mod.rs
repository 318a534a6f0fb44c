//! The topology language: loading, diagnostics, compiling, the CLI, properties.

mod cli;
mod compile_examples;
mod diagnostics;
mod docs;
mod loader;
mod properties;
mod schema;

use std::path::{Path, PathBuf};

use topo::diagnostics::{Diagnostics, render_plain};
use topo::spec::{self, Loaded};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads one file under a stable display name (its path relative to the crate root).
pub fn load(path: &Path) -> Loaded {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    spec::load_str(&name, &text)
}

/// Loads and checks: every diagnostic, sorted.
pub fn diagnose(loaded: &Loaded) -> Diagnostics {
    let mut d = loaded.diagnostics.clone();
    if loaded.checkable() {
        d.extend(topo::compiler::check(&loaded.topology).1);
    }
    d.sorted()
}

/// The diagnostics as a user sees them, without colour, 100 columns wide.
pub fn render(loaded: &Loaded, diags: &Diagnostics) -> String {
    render_plain(diags, &loaded.sources, 100)
}

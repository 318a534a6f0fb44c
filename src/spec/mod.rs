//! The topology language: YAML files in OVN's words, loaded with source spans.
//!
//! [`load_paths`] reads files (the only I/O), [`load_files`] parses and merges text already
//! in memory. The result is the topology exactly as written ([`types::Topology`]) plus the
//! [`Sources`] its spans point into; meaning is checked by `crate::compiler`.

pub mod load;
pub(crate) mod map;
pub mod schema;
pub(crate) mod spanned;
pub(crate) mod split;
pub(crate) mod types;

use std::path::PathBuf;

use crate::diagnostics::Diagnostics;

use crate::source::Sources;
pub(crate) use spanned::Sp;
pub(crate) use types::Topology;

/// A loaded topology: what was written, where, and the problems found while loading.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub sources: Sources,
    pub topology: Topology,
    pub diagnostics: Diagnostics,
    /// Every file was read and parsed. The loader's diagnostics may still hold errors (an
    /// unknown or repeated key, skipped), but the topology is all that was written, so the
    /// semantic checks can run and report their problems too; when a file is missing, they
    /// would report what it defines as unknown.
    pub complete: bool,
}

impl Loaded {
    /// Whether `compiler::check` has a whole topology to check.
    pub fn checkable(&self) -> bool {
        self.complete
    }
}

/// Reads and merges files and directories of `*.yaml`.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let (files, io) = load::read_paths(paths);
    let mut loaded = load_files(files);
    loaded.complete &= !io.has_errors();
    let mut diags = io;
    diags.extend(loaded.diagnostics);
    loaded.diagnostics = diags;
    loaded
}

/// Parses and merges files given as (name, text). Pure.
pub fn load_files(files: Vec<(String, String)>) -> Loaded {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::new();
    let mut parts = Vec::new();
    let mut complete = true;
    for (name, text) in files {
        let base = sources.add(name, text);
        let text = sources
            .files()
            .last()
            .map(|f| f.text.as_str())
            .unwrap_or_default();
        let (topology, found) = match parse_on_threads(text, base) {
            Some(topology) => (Some(topology), Vec::new()),
            None => load::parse(text, base),
        };
        for d in found {
            diagnostics.push(d);
        }
        match topology {
            Some(t) => parts.push(t),
            None => complete = false,
        }
    }
    let topology = load::merge(parts, &mut diagnostics);
    Loaded {
        sources,
        topology,
        diagnostics,
        complete,
    }
}

/// A large file parsed in parts on the machine's cores (see [`split`]); `None` when it is
/// small, the machine has one core, or the cut would not be certain (then it is parsed whole).
fn parse_on_threads(text: &str, base: usize) -> Option<types::Topology> {
    if text.len() < split::MIN_SPLIT_BYTES {
        return None;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    split::parse(text, base, cores.min(8))
}

/// Parses one text. Pure; for tests and the fuzzer.
pub fn load_str(name: &str, text: &str) -> Loaded {
    load_files(vec![(name.to_owned(), text.to_owned())])
}

//! Semantic checks of a loaded topology and lowering to the desired row model.
//!
//! `check` finds every mistake and, when there is none, returns the validated [`Model`];
//! `lower` turns the model into the rows that realise it. Lowering never fails: a failure
//! there would be a bug, not a user error. Pure: no I/O, no clock, no environment.

pub mod check;
pub mod lower;
pub mod model;
pub mod naming;
pub mod output;

pub use check::check;
pub use lower::lower;
pub use model::Model;

use crate::diagnostics::Diagnostics;
use crate::rows::State;
use crate::spec::Topology;

/// Checks and lowers: the rows when there is no error, and every diagnostic either way.
pub fn compile(topology: &Topology) -> (Option<State>, Diagnostics) {
    let (model, diags) = check(topology);
    (model.as_ref().map(lower), diags)
}

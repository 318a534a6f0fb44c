//! Semantic checks of a loaded topology and lowering to the desired row model.
//!
//! `check` finds every mistake and, when there is none, returns the validated [`Model`];
//! `lower` turns the model into the rows that realise it. Lowering never fails: a failure
//! there would be a bug, not a user error. Pure: no I/O, no clock, no environment.

pub(crate) mod check;
pub(crate) mod lower;
pub(crate) mod model;
pub(crate) mod naming;
pub mod output;

pub use check::check;
pub(crate) use lower::lower;
pub(crate) use model::Model;

use crate::diagnostics::Diagnostics;
use crate::rows::State;
use crate::spec::Topology;

/// Checks and lowers: the rows when there is no error, and every diagnostic either way.
pub fn compile(topology: &Topology) -> (Option<State>, Diagnostics) {
    let (model, diags) = check(topology);
    (model.as_ref().map(lower), diags)
}

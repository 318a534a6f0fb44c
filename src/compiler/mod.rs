//! Semantic checks of a loaded topology and lowering to the desired row model.
//!
//! `check` finds every mistake and, when there is none, returns the validated [`Model`];
//! `lower` turns the model into the rows that realise it. Lowering never fails: a failure
//! there would be a bug, not a user error. Pure: no I/O, no clock, no environment.

pub mod check;
pub mod model;
pub mod naming;

pub use check::check;
pub use model::Model;

//! Applying a plan: one guarded transaction, the outcome made certain, then a re-plan.

pub mod transaction;

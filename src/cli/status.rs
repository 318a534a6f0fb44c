//! `topo status`: which databases topo talks to, their cluster role, and the chassis.

use clap::Args;

use super::exit::Outcome;

#[derive(Debug, Args)]
pub struct StatusArgs {}

pub fn run(_args: StatusArgs) -> Outcome {
    Outcome::Error(miette::miette!("topo status: not built yet"))
}

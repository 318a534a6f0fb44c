//! The command line: argument parsing, dispatch, rendering of errors, exit codes.
//!
//! Every subcommand lives in its own file and returns an [`exit::Outcome`]; only this module
//! tree prints, and only [`exit`] maps outcomes to process exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) mod apply;
pub(crate) mod chassis;
pub(crate) mod compile;
pub(crate) mod completions;
pub(crate) mod config;
pub(crate) mod connect;
pub mod desired;
pub(crate) mod drift;
pub(crate) mod exit;
pub(crate) mod failure;
pub(crate) mod gateways;
pub(crate) mod graph;
pub(crate) mod import;
pub(crate) mod lab;
pub(crate) mod lab_target;
pub(crate) mod man;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod schema;
pub(crate) mod status;
pub(crate) mod validate;
pub(crate) mod verify;
pub(crate) mod vtep;

/// `topo --version`: the crate's version and the commit it was built from (`build.rs`; `unknown`
/// outside a git checkout), e.g. `0.1.0 (abc1234)`.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("TOPO_GIT_COMMIT"),
    ")"
);

/// topo — OVN topologies as code: validate, plan, apply, detect drift.
#[derive(Debug, Parser)]
#[command(name = "topo", version = VERSION, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success (no changes), 1 error, 2 changes present (plan, drift)."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show the Northbound and Southbound databases topo would talk to, and the chassis.
    Status(status::StatusArgs),
    /// Load and check a topology; report every problem with its place in the YAML.
    Validate(validate::ValidateArgs),
    /// Print the desired OVN rows and chassis settings of a topology.
    Compile(compile::CompileArgs),
    /// Show what apply would change in the live databases, row by row.
    Plan(plan::PlanArgs),
    /// Apply a topology (or a saved plan) in one atomic transaction.
    Apply(apply::ApplyArgs),
    /// Remove everything a topology's stack owns, as apply would (plan shown, confirmed).
    Destroy(apply::DestroyArgs),
    /// Report what changed out of band (read-only; exit 2 on drift).
    Drift(drift::DriftArgs),
    /// Draw a topology: Graphviz DOT, Mermaid, or SVG (through Graphviz's `dot`).
    Graph(graph::GraphArgs),
    /// Write a topology file from the live databases (and optionally adopt its rows).
    Import(import::ImportArgs),
    /// Print the JSON Schema of the topology file (for yaml-language-server).
    Schema(schema::SchemaArgs),
    /// The connection settings (topo.toml, environment, flags): `topo config show`.
    Config(config::ConfigArgs),
    /// The bundled OVN lab: real daemons, chassis in namespaces, VMs, real packets.
    Lab(lab::LabArgs),
    /// Run the topology's checks with real packets in the lab (exit 1 if any fails).
    Verify(verify::VerifyArgs),
    /// Print the shell completion script for bash, zsh or fish.
    Completions(completions::CompletionsArgs),
    /// Print the manual page topo.1, or write it and a page per subcommand with --dir.
    Man(man::ManArgs),
}

/// Output format for commands that have a machine-readable form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

pub fn main() -> ExitCode {
    crate::timings::start();
    // clap exits 2 on usage errors, which topo reserves for "changes present".
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::finish(exit::Outcome::Failed)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut cli = cli;
    if let Some(db) = cli.command.db_mut()
        && let Err(e) = db.resolve()
    {
        return exit::finish(exit::Outcome::Error(miette::Report::new(e)));
    }
    let outcome = match cli.command {
        Command::Status(args) => status::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Destroy(args) => apply::run(args.into()),
        Command::Drift(args) => drift::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Import(args) => import::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Config(args) => config::run(args),
        Command::Lab(args) => lab::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    };
    exit::finish(outcome)
}

impl Command {
    /// The connection arguments of commands that talk to OVN, to resolve against topo.toml
    /// before the command runs.
    fn db_mut(&mut self) -> Option<&mut connect::DbArgs> {
        match self {
            Command::Status(a) => Some(&mut a.db),
            Command::Plan(a) => Some(&mut a.db),
            Command::Apply(a) => Some(&mut a.db),
            Command::Destroy(a) => Some(&mut a.db),
            Command::Graph(a) => Some(&mut a.db),
            Command::Drift(a) => Some(&mut a.db),
            Command::Import(a) => Some(&mut a.db),
            Command::Config(a) => match &mut a.command {
                config::ConfigCommand::Show(s) => Some(&mut s.db),
            },
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

//! `topo graph FILE...`: the topology as a picture — Graphviz DOT, Mermaid, or SVG rendered
//! by Graphviz's `dot` when it is installed. The picture is built by the pure `graph` module;
//! this file loads and checks the topology as `compile` does, and runs `dot`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::Args;

use super::exit::Outcome;
use super::validate::{load_and_check, report};
use crate::graph::{self, Options};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GraphFormat {
    /// Graphviz DOT text.
    Dot,
    /// A Mermaid flowchart (renders in GitHub and GitLab Markdown).
    Mermaid,
    /// SVG, from Graphviz's `dot -Tsvg` (Graphviz must be installed).
    Svg,
}

#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// Topology files, or directories of `*.yaml` files, merged into one topology.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// Also draw each switch port that is not a physical attachment (VMs, localports, ...).
    #[arg(long)]
    pub ports: bool,
    /// Read the live Northbound and colour what a plan would create, update or delete.
    #[arg(long)]
    pub live: bool,
    #[command(flatten)]
    pub db: super::connect::DbArgs,
    #[command(flatten)]
    pub lab: super::lab_target::LabArg,
}

/// Why Graphviz could not render the picture.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum GraphvizError {
    #[error("Graphviz's `dot` is not installed: --format svg needs it")]
    #[diagnostic(
        code("topo::graph::no-graphviz"),
        help(
            "install Graphviz (Debian/Ubuntu: `apt-get install graphviz`), or write DOT or \
             Mermaid text with --format dot / --format mermaid and render it elsewhere"
        )
    )]
    NotInstalled,
    #[error("cannot run Graphviz's `dot`")]
    #[diagnostic(code("topo::graph::graphviz-failed"))]
    Spawn(#[source] std::io::Error),
    #[error("Graphviz's `dot` failed ({status}): {stderr}")]
    #[diagnostic(code("topo::graph::graphviz-failed"))]
    Failed { status: String, stderr: String },
}

pub(crate) fn run(mut args: GraphArgs) -> Outcome {
    let (loaded, model, diags) = load_and_check(&args.paths);
    // Diagnostics (warnings too) go to stderr; stdout holds only the picture.
    report(&loaded, &diags, super::validate::ValidateFormat::Text);
    let Some(model) = model else {
        return Outcome::Failed;
    };
    drop(loaded);
    let mut picture = graph::build(&model, Options { ports: args.ports });
    if args.live {
        match live_plan(&mut args, &model) {
            Ok(plan) => graph::mark(&mut picture, &plan),
            Err(report) => return Outcome::Error(report),
        }
    }
    let text = match args.format {
        GraphFormat::Dot => graph::dot::render(&picture).into_bytes(),
        GraphFormat::Mermaid => graph::mermaid::render(&picture).into_bytes(),
        GraphFormat::Svg => match svg(&graph::dot::render(&picture)) {
            Ok(svg) => svg,
            Err(e) => return Outcome::Error(miette::Report::new(e)),
        },
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`topo graph x | head`) is not an error worth reporting.
    let _ = out.write_all(&text).and_then(|()| out.flush());
    Outcome::Success
}

/// The plan of `model` against the live Northbound, as `topo plan` makes it (rows only: the
/// picture has no chassis databases).
fn live_plan(
    args: &mut GraphArgs,
    model: &crate::compiler::Model,
) -> Result<crate::diff::Plan, miette::Report> {
    args.lab.resolve(&mut args.db)?;
    let rt = match super::connect::runtime() {
        Ok(rt) => rt,
        Err(Outcome::Error(report)) => return Err(report),
        Err(_) => return Err(miette::miette!("cannot start the runtime")),
    };
    let desired = crate::compiler::lower(model);
    rt.block_on(async {
        let nb = args.db.connect("Northbound").await?;
        let (plan, _) = crate::apply::read_and_plan(&nb, &desired, &model.stack, true)
            .await
            .map_err(super::plan::failure)?;
        Ok(plan)
    })
}

/// `dot -Tsvg` over the DOT text.
fn svg(dot: &str) -> Result<Vec<u8>, GraphvizError> {
    let mut child = match Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(GraphvizError::NotInstalled);
        }
        Err(e) => return Err(GraphvizError::Spawn(e)),
    };
    // Written from another thread while `wait_with_output` reads stdout and stderr, so a large
    // picture cannot block on a full pipe.
    let writer = child.stdin.take().map(|mut stdin| {
        let input = dot.to_string();
        std::thread::spawn(move || stdin.write_all(input.as_bytes()))
    });
    let output = child.wait_with_output().map_err(GraphvizError::Spawn)?;
    let written = writer.map(|w| w.join());
    if !output.status.success() {
        return Err(GraphvizError::Failed {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    if let Some(Ok(Err(e))) = written {
        return Err(GraphvizError::Spawn(e));
    }
    Ok(output.stdout)
}

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

pub(crate) fn run(args: GraphArgs) -> Outcome {
    let (loaded, model, diags) = load_and_check(&args.paths);
    // Diagnostics (warnings too) go to stderr; stdout holds only the picture.
    report(&loaded, &diags, super::validate::ValidateFormat::Text);
    let Some(model) = model else {
        return Outcome::Failed;
    };
    drop(loaded);
    let picture = graph::build(&model, Options { ports: args.ports });
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

//! `topo schema`: print the JSON Schema of the topology file.

use clap::Args;

use super::exit::Outcome;

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {}

pub(crate) fn run(_args: SchemaArgs) -> Outcome {
    match serde_json::to_string_pretty(&crate::spec::schema::schema()) {
        Ok(s) => {
            use std::io::Write;
            let _ = writeln!(std::io::stdout().lock(), "{s}");
            Outcome::Success
        }
        Err(e) => Outcome::Error(miette::miette!("cannot render the schema: {e}")),
    }
}

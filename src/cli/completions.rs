//! `topo completions SHELL`: the shell completion script, generated from the clap definitions.

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell as Generator;

use super::Cli;
use super::exit::Outcome;

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for. Install the output as, for example,
    /// /usr/share/bash-completion/completions/topo, a `_topo` file in `$fpath`, or
    /// ~/.config/fish/completions/topo.fish.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells topo ships completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    fn generator(self) -> Generator {
        match self {
            Shell::Bash => Generator::Bash,
            Shell::Zsh => Generator::Zsh,
            Shell::Fish => Generator::Fish,
        }
    }
}

pub(crate) fn run(args: CompletionsArgs) -> Outcome {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell.generator(), &mut cmd, "topo", &mut script);
    use std::io::Write;
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => Outcome::Success,
        Err(e) => Outcome::Error(miette::miette!("cannot write the completion script: {e}")),
    }
}

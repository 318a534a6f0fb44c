//! `topo man [--dir DIR]`: manual pages generated from the clap definitions, `topo.1` and one
//! page per subcommand (`topo-plan.1`, `topo-lab-up.1`, ...).

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_mangen::Man;

use super::Cli;
use super::exit::Outcome;

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write topo.1 and a page per subcommand into this directory (created if missing) and
    /// list the files written. Without it, topo.1 is printed.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub(crate) fn run(args: ManArgs) -> Outcome {
    // No `help` subcommand pages: `topo help` is clap's, not a command of topo's.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let Some(dir) = args.dir else {
        let mut page = Vec::new();
        if let Err(e) = Man::new(cmd).render(&mut page) {
            return Outcome::Error(miette::miette!("cannot render topo.1: {e}"));
        }
        use std::io::Write;
        return match std::io::stdout().lock().write_all(&page) {
            Ok(()) => Outcome::Success,
            Err(e) => Outcome::Error(miette::miette!("cannot write topo.1: {e}")),
        };
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Outcome::Error(miette::miette!("cannot create {}: {e}", dir.display()));
    }
    let mut written = Vec::new();
    if let Err(e) = write_pages(cmd, &dir, &mut written) {
        return Outcome::Error(e);
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for path in written {
        let _ = writeln!(out, "{}", path.display());
    }
    Outcome::Success
}

/// Writes the page of `cmd` and of each of its visible subcommands, depth first.
fn write_pages(
    cmd: clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), miette::Report> {
    let man = Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)
        .and_then(|()| std::fs::write(&path, &page))
        .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    Ok(())
}

//! The `topo` binary: parse arguments, run the command, turn its outcome into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    topo::cli::main()
}

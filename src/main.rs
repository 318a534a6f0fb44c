//! The `topo` binary: parse arguments, run the command, turn its outcome into an exit code.

use std::process::ExitCode;

/// mimalloc rather than the system allocator: topo builds and drops tens of thousands of small
/// rows per run, where glibc's malloc spent a third of the time (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    topo::cli::main()
}

//! The `topo` binary: parse arguments, run the command, turn its outcome into an exit code.

use std::process::ExitCode;

/// mimalloc rather than the system allocator: topo builds and drops tens of thousands of small
/// rows per run, where glibc's malloc spent a third of the time (see docs/performance.md).
/// Built without transparent huge pages (`no_thp`): with them, each thread's partly used 2 MiB
/// pages added 20-40 MB to the peak of an apply, and every fresh page costs a fault.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    topo::cli::main()
}

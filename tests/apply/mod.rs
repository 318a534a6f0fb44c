//! plan / apply / drift against real daemons (issue 4, "What it must show"): every example
//! applied and checked with ovn-nbctl / ovn-sbctl ([`examples`]), one edit = one change
//! ([`edits`]), out-of-band changes ([`drift`]), what must never be written ([`safety`]),
//! ovsdb-server killed around an apply ([`crash`]), and the transaction as data ([`wire`]).

mod crash;
mod drift;
mod edits;
mod examples;
mod foreign;
mod gateways;
mod safety;
mod services;
mod watch;
mod wire;

use std::path::{Path, PathBuf};

use crate::support::ovn::OvnSandbox;
use crate::support::topo_cmd::{TopoCmd, TopoOutput};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An example topology's path.
pub fn example(name: &str) -> PathBuf {
    root().join("examples/topologies").join(name)
}

/// Reads an example and returns its text after each `(from, to)` replacement, asserting each
/// `from` occurs exactly once (so an edit to the example cannot silently make a test vacuous).
pub fn edited(name: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(example(name)).unwrap();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "{name}: {from:?} must occur exactly once"
        );
        text = text.replacen(from, to, 1);
    }
    text
}

/// Writes `text` as `name` in `dir` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A runtime, a client of the sandbox's Northbound and its schema, for tests that drive
/// topo's library directly.
pub fn nb_client(
    ovn: &OvnSandbox,
) -> (
    tokio::runtime::Runtime,
    topo::ovsdb::Client,
    topo::ovsdb::DatabaseSchema,
) {
    use crate::support::ovn::NB_DB;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (nb, schema) = rt.block_on(async {
        let options = topo::ovsdb::ConnectOptions::for_database(NB_DB);
        let nb = topo::ovsdb::Client::connect(&ovn.nb_remote(), options)
            .await
            .unwrap();
        let schema = nb.get_schema(NB_DB).await.unwrap();
        (nb, schema)
    });
    (rt, nb, schema)
}

/// `topo ARGS --db <nb> [--sb-db <sb>]` against the sandbox.
pub fn topo(ovn: &OvnSandbox, args: &[&str]) -> TopoOutput {
    let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    all.extend(["--db".to_owned(), ovn.nb_remote()]);
    if let Some(sb) = &ovn.sb {
        all.extend(["--sb-db".to_owned(), sb.unix_remote()]);
    }
    TopoCmd::new(all).run()
}

/// `topo plan FILE` with its exit code asserted.
pub fn plan(ovn: &OvnSandbox, file: &Path, code: i32) -> TopoOutput {
    topo(ovn, &["plan", file.to_str().unwrap()]).expect_code(code)
}

/// `topo apply --yes FILE`, asserted to succeed.
pub fn apply(ovn: &OvnSandbox, file: &Path) -> TopoOutput {
    topo(ovn, &["apply", "--yes", file.to_str().unwrap()]).success()
}

/// `topo plan FILE` is empty: exit 0 and the "No changes." line.
pub fn assert_converged(ovn: &OvnSandbox, file: &Path) {
    let out = plan(ovn, file, 0);
    assert!(
        out.stdout().contains("No changes."),
        "expected no changes:\n{}",
        out.stdout()
    );
}

/// Asserts every line of `want` is a line of `text` (whitespace-trimmed).
pub fn assert_lines(what: &str, text: &str, want: &[&str]) {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for w in want {
        assert!(
            lines.contains(&w.trim()),
            "{what}: missing line {w:?} in:\n{text}"
        );
    }
}

/// Rows of the NB whose `external_ids:topo:stack` is `stack`, over every table topo manages,
/// counted with a raw `select` (columns `_uuid`) through `ovsdb-client transact`, not topo.
pub fn owned_rows(ovn: &OvnSandbox, stack: &str) -> usize {
    owned_rows_at(&ovn.nb_remote(), stack)
}

/// [`owned_rows`] of the NB at one `remote` (of a cluster, pass the leader's: a follower may
/// answer from a copy that lags).
pub fn owned_rows_at(remote: &str, stack: &str) -> usize {
    crate::support::topology::owned_rows_at(remote, stack)
}

/// stderr as one line: whitespace runs made one space, and miette's wrapping gutter (`│`)
/// removed, so an assertion does not depend on where the terminal width wrapped a message.
pub fn stderr(out: &TopoOutput) -> String {
    out.stderr_flat()
        .split(' ')
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

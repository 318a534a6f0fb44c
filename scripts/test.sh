#!/usr/bin/env bash
# The project's test command (the README's): formatting, lints, then every test, including the
# integration tests that start real OVN daemons (tests/support), then the torture tier with
# small counts. Run from anywhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Snapshots are reviewed by people, never written by a test run.
export INSTA_UPDATE=no
export INSTA_FORCE_PASS=0
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
# The torture binary is `test = false` (not in the default `cargo test`), so not in --tests.
cargo clippy --locked --test torture -- -D warnings

step "cargo test"
cargo test --locked

# The torture tier with small counts (tests/torture/, docs/reliability.md): a few minutes.
step "scripts/torture.sh (small counts)"
TORTURE_TENANTS=300 TORTURE_KILLS=4 TORTURE_TOPO_ROUNDS=1 TORTURE_RAFT_RUNS=1 \
    scripts/torture.sh

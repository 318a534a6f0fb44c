#!/usr/bin/env bash
# The project's test command (the README's): formatting, lints, then every test, including the
# integration tests that start real OVN daemons (tests/support). Run from anywhere.
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

step "cargo test"
cargo test --locked

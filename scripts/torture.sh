#!/usr/bin/env bash
# The torture tier (tests/torture/): faults injected into real OVN daemons at many points of
# an apply, each round checked against the database. See docs/reliability.md.
#
#   scripts/torture.sh [FILTER]                          small counts (as CI runs it)
#   TORTURE_KILLS=100 TORTURE_TENANTS=1000 TORTURE_TOPO_ROUNDS=10 TORTURE_RAFT_RUNS=30 \
#       scripts/torture.sh                               the counts docs/reliability.md reports
#
# Counts (defaults in parentheses): TORTURE_TENANTS (300) tenants of the topology whose apply
# ovsdb-server is killed in; TORTURE_KILLS (4) those kills; TORTURE_TOPO_ROUNDS (1) rounds of
# the four topo kill points; TORTURE_RAFT_RUNS (1) runs of each RAFT fault and rounds of the
# concurrent applies; TORTURE_SEED the kill points' seed (printed otherwise).
# One test at a time: the kill points are timed against a calibrated window. Each case prints
# a `TORTURE <case>: ...` summary line; they are repeated at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export TORTURE_TENANTS="${TORTURE_TENANTS:-300}"
export TORTURE_KILLS="${TORTURE_KILLS:-4}"
export TORTURE_TOPO_ROUNDS="${TORTURE_TOPO_ROUNDS:-1}"
export TORTURE_RAFT_RUNS="${TORTURE_RAFT_RUNS:-1}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

log=$(mktemp -t topo-torture.XXXXXX)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --test torture -- --test-threads=1 --nocapture "$@" 2>&1 | tee "$log" \
    || status=$?
echo
echo "==> torture summary (tenants=$TORTURE_TENANTS kills=$TORTURE_KILLS" \
    "topo_rounds=$TORTURE_TOPO_ROUNDS raft_runs=$TORTURE_RAFT_RUNS)"
grep -oE 'TORTURE [a-z].*' "$log" | grep -v 'refusal:' || true
exit "$status"

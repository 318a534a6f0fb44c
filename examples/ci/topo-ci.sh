#!/usr/bin/env bash
# The shell steps of topo's CI examples (github-actions.yml, gitlab-ci.yml), in one script so
# that they are the same in every CI system and tested by topo's own suite against real OVN.
#
#   topo-ci.sh plan    plan the network; writes $TOPO_OUT/plan.md (for the pull request) and
#                      $TOPO_OUT/plan.json (the saved plan, an artifact); exit 0 also when
#                      there are changes (they are the point of a pull request), 1 on error
#   topo-ci.sh apply   apply exactly $TOPO_OUT/plan.json (refused if the databases moved since)
#   topo-ci.sh drift   report drift; exit 1 (failing the job) when there is any
#
# Settings (environment): TOPO_NETWORK  the topology files or directories, space-separated
#                                       (default: network)
#                         TOPO_OUT      where plan.md / plan.json go (default: .)
#                         TOPO          the topo binary (default: topo on PATH)
#                         TOPO_PLAN_ARGS extra flags for plan and drift, e.g. "--chassis reachable"
# and topo's own: OVN_NB_DB, OVN_SB_DB, or a topo.toml target (--target via TOPO_PLAN_ARGS).
set -uo pipefail

topo=${TOPO:-topo}
read -r -a network <<<"${TOPO_NETWORK:-network}"
out=${TOPO_OUT:-.}
read -r -a extra <<<"${TOPO_PLAN_ARGS:-}"

case "${1:-}" in
plan)
    mkdir -p "$out"
    "$topo" plan "${network[@]}" "${extra[@]}" --format markdown -o "$out/plan.json" >"$out/plan.md"
    code=$?
    case $code in
    0) echo "topo-ci: no changes" ;;
    2) echo "topo-ci: changes planned; see $out/plan.md" ;;
    *) echo "topo-ci: plan failed (exit $code)" >&2; exit 1 ;;
    esac
    ;;
apply)
    if [ ! -f "$out/plan.json" ]; then
        echo "topo-ci: no saved plan at $out/plan.json: run the plan step first" >&2
        exit 1
    fi
    "$topo" apply --yes "$out/plan.json"
    ;;
drift)
    "$topo" drift "${network[@]}" "${extra[@]}"
    code=$?
    case $code in
    0) echo "topo-ci: in sync" ;;
    2) echo "topo-ci: drift found (see above); run the apply pipeline or fix the network" >&2; exit 1 ;;
    *) echo "topo-ci: drift check failed (exit $code)" >&2; exit 1 ;;
    esac
    ;;
*)
    echo "usage: topo-ci.sh plan|apply|drift" >&2
    exit 1
    ;;
esac

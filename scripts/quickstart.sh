#!/usr/bin/env bash
# topo's main job end to end on this machine: install OVN, build topo, bring up the bundled lab
# for a topology (real OVN daemons, one network namespace per chassis, geneve between them, VMs
# and outside hosts as namespaces), then validate, plan, apply and verify it with real packets.
#
#   scripts/quickstart.sh [TOPOLOGY.yaml]   (default: examples/topologies/gateway-router.yaml)
#   scripts/quickstart.sh down              (tear the lab down)
#
# As root: the lab makes network namespaces and installs packages. A user that is not root is
# re-run through sudo when sudo is there (a pristine Debian has none: run it as root there).
# Needs a Rust toolchain (cargo) at least as new as Cargo.toml's rust-version, or topo installed
# (the .deb that scripts/package.sh builds): without cargo, the installed topo is used.
#
# The lab lives in $QUICKSTART_DIR (default /tmp/topo-quickstart); `down` stops only what the
# lab started, by PID, and removes only its own namespaces.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo --preserve-env=PATH,QUICKSTART_DIR,CARGO_HOME,RUSTUP_HOME "$0" "$@"
  fi
  echo "quickstart: run this as root (the lab makes network namespaces; sudo is not installed)" >&2
  exit 1
fi
# topo itself: built here with cargo, else the one installed (the .deb of scripts/package.sh).
if command -v cargo >/dev/null 2>&1; then
  topo="$PWD/target/release/topo"
  build=1
elif command -v topo >/dev/null 2>&1; then
  topo=$(command -v topo)
  build=0
else
  echo "quickstart: needs a Rust toolchain >= $(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml) (e.g. rustup) to build topo, or topo installed (the .deb of scripts/package.sh)" >&2
  exit 1
fi

dir="${QUICKSTART_DIR:-/tmp/topo-quickstart}"
topology="${1:-examples/topologies/gateway-router.yaml}"

if [ "${1:-}" = "down" ]; then
  "$topo" lab down --lab "$dir"
  exit 0
fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Installing OVN and OVS from the distribution (skipped when present)"
bash scripts/install-deps.sh

if [ "$build" = 1 ]; then
  step "Building topo (release)"
  cargo build --release --locked --quiet
else
  step "Using the installed $topo ($("$topo" --version))"
fi

step "topo validate $topology"
"$topo" validate "$topology"

step "topo lab up $topology   (the OVN daemons, chassis, VMs and outside hosts)"
"$topo" lab down --lab "$dir" >/dev/null 2>&1 || true
"$topo" lab up "$topology" --lab "$dir"

step "topo plan   (exit 2: changes to make)"
"$topo" plan "$topology" --lab "$dir" || [ $? -eq 2 ]

step "topo apply --wait hv   (one transaction; then the chassis settings)"
"$topo" apply "$topology" --lab "$dir" --yes --wait hv --timeout 60

step "topo plan again   (exit 0: nothing left to do)"
"$topo" plan "$topology" --lab "$dir"

step "topo verify   (the topology's checks, with real packets)"
"$topo" verify "$topology" --lab "$dir"

cat <<EOM

Explore it:
  $topo lab status --lab $dir
  export OVN_NB_DB=unix:$dir/nb.sock OVN_SB_DB=unix:$dir/sb.sock
  ovn-nbctl show; ovn-sbctl show
  # drift it by hand, see topo report it (exit 2), and put it back:
  ovn-nbctl lr-nat-del lr2
  $topo drift $topology --lab $dir
  $topo apply $topology --lab $dir --yes
Tear down:
  scripts/quickstart.sh down
EOM

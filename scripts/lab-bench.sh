#!/usr/bin/env bash
# Measures the bundled lab (root; traffic only inside the namespaces the labs create):
#   - `topo lab up` of the seed's L3 gateway topology (examples/topologies/gateway-router.yaml,
#     2 chassis),
#   - from `topo apply` of that topology to all its checks passing (`topo lab check`),
#   - HA failover (examples/topologies/dgp-ha-group.yaml, 4 chassis): from
#     `topo lab chassis stop gw1` (the active gateway chassis: all its daemons) until
#     tenant-vm1 reaches the outside host again through gw2; then from `topo lab chassis
#     start gw1` until gw1 holds the gateway port again and the ping passes (rejoin);
#     then with only gw1's ovn-controller stopped: whether the port moves (it does not:
#     BFD runs in ovs-vswitchd, which keeps the flows) and the ping still passes.
# Usage: scripts/lab-bench.sh [RUNS]   (TOPO=path/to/topo to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if [ -z "${TOPO:-}" ]; then
  cargo build -q
  TOPO=target/debug/topo
fi
ex=examples/topologies
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
dirs=()
cleanup() { for d in "${dirs[@]}"; do "$TOPO" lab down --lab "$d" >/dev/null 2>&1 || true; rm -rf "$d"; done; }
trap cleanup EXIT

# Waits until `topo lab check` passes (at most 10 tries, each bounded by its own deadlines).
checks_pass() {
  for _ in $(seq 10); do "$TOPO" lab check --lab "$1" >/dev/null && return 0; done
  "$TOPO" lab check --lab "$1"; return 1
}

holder() { # DIR PORT -> the chassis the port is bound to
  local sb="--db=unix:$1/sb.sock" ch
  ch=$(ovn-sbctl "$sb" --bare --columns=chassis find Port_Binding logical_port="$2")
  [ -n "$ch" ] && ovn-sbctl "$sb" get Chassis "$ch" name | tr -d '"'
}

# Waits (bounded) until PORT is bound to CHASSIS.
bound_to() { # DIR PORT CHASSIS
  for _ in $(seq 100); do [ "$(holder "$1" "$2")" = "$3" ] && return 0; sleep 0.1; done
  echo "$2 is bound to '$(holder "$1" "$2")', not $3" >&2; return 1
}

status_field() { # DIR ROLE -> pid of ROLE ; DIR id -> lab id
  local json; json=$("$TOPO" lab status --lab "$1" --format json || true)
  if [ "$2" = id ]; then
    grep -m1 '"id"' <<<"$json" | cut -d'"' -f4
  else
    grep -A1 "\"role\": \"$2\"" <<<"$json" | grep '"pid"' | tr -dc 0-9
  fi
}

echo "run  lab-up(gateway-router, 2 chassis)  apply->all-checks-pass  ha-failover(dgp-ha-group)  rejoin  controller-only"
for run in $(seq "$runs"); do
  d=$(mktemp -d /tmp/tlb.XXXX); dirs+=("$d")
  t0=$(now_ms); "$TOPO" lab up "$ex/gateway-router.yaml" --lab "$d" >/dev/null; t1=$(now_ms)
  "$TOPO" apply -y "$ex/gateway-router.yaml" --lab "$d" --wait hv --timeout 60 >/dev/null
  checks_pass "$d"; t2=$(now_ms)
  "$TOPO" lab down --lab "$d" >/dev/null

  h=$(mktemp -d /tmp/tlb.XXXX); dirs+=("$h")
  "$TOPO" lab up "$ex/dgp-ha-group.yaml" --lab "$h" >/dev/null
  "$TOPO" apply -y "$ex/dgp-ha-group.yaml" --lab "$h" --wait hv --timeout 60 >/dev/null
  checks_pass "$h"
  bound_to "$h" cr-lr1-ext gw1
  id=$(status_field "$h" id)
  ping_out() { # bounded: 120 pings of at most 1 s
    for _ in $(seq 120); do
      ip netns exec "topo-$id-vm-tenant-vm1" ping -n -c1 -W1 192.0.2.100 >/dev/null && return 0
    done
    return 1
  }
  t3=$(now_ms)
  "$TOPO" lab chassis stop gw1 --lab "$h" >/dev/null
  ping_out || { echo "run $run: no failover within 120 pings" >&2; exit 1; }
  t4=$(now_ms)
  bound_to "$h" cr-lr1-ext gw2
  t5=$(now_ms)
  "$TOPO" lab chassis start gw1 --lab "$h" >/dev/null
  bound_to "$h" cr-lr1-ext gw1
  ping_out || { echo "run $run: no ping after gw1 rejoined" >&2; exit 1; }
  t6=$(now_ms)
  pid=$(status_field "$h" gw1/ovn-controller)
  kill -TERM "$pid"   # gw1's ovn-controller only, started by this lab
  sleep 3
  ctl="holds $(holder "$h" cr-lr1-ext)"
  ping_out && ctl="$ctl, ping ok" || ctl="$ctl, ping FAILS"
  "$TOPO" lab down --lab "$h" >/dev/null
  printf '%-4s %-35s %-23s %-27s %-7s %s\n' "$run" "$((t1 - t0)) ms" "$((t2 - t1)) ms" "$((t4 - t3)) ms" "$((t6 - t5)) ms" "$ctl"
done

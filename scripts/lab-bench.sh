#!/usr/bin/env bash
# Measures the bundled lab (root; traffic only inside the namespaces the labs create):
#   - `topo lab up` of the L3 gateway example on 2 chassis,
#   - from applying its logical topology (ovn-nbctl) to all its checks passing,
#   - HA failover: after the active gateway chassis's ovs-vswitchd is stopped, the time
#     until the VM reaches the outside host again through the backup (3 chassis).
# Usage: scripts/lab-bench.sh [RUNS]   (TOPO=path/to/topo to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if [ -z "${TOPO:-}" ]; then
  cargo build -q
  TOPO=target/debug/topo
fi
ex=examples/lab
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
dirs=()
cleanup() { for d in "${dirs[@]}"; do "$TOPO" lab down --dir "$d" >/dev/null 2>&1 || true; rm -rf "$d"; done; }
trap cleanup EXIT

# Waits until `topo lab check` passes (at most 10 tries, each bounded by its own deadlines).
checks_pass() {
  for _ in $(seq 10); do "$TOPO" lab check --dir "$1" >/dev/null && return 0; done
  "$TOPO" lab check --dir "$1"; return 1
}

status_field() { # DIR ROLE -> pid of ROLE ; DIR id -> lab id
  local json; json=$("$TOPO" lab status --dir "$1" --format json || true)
  if [ "$2" = id ]; then
    grep -m1 '"id"' <<<"$json" | cut -d'"' -f4
  else
    grep -A1 "\"role\": \"$2\"" <<<"$json" | grep '"pid"' | tr -dc 0-9
  fi
}

echo "run  lab-up(l3-gateway, 2 chassis)  apply->all-checks-pass  ha-failover"
for run in $(seq "$runs"); do
  d=$(mktemp -d /tmp/tlb.XXXX); dirs+=("$d")
  t0=$(now_ms); "$TOPO" lab up "$ex/l3-gateway.yaml" --dir "$d" >/dev/null; t1=$(now_ms)
  bash "$ex/l3-gateway.nb.sh" "unix:$d/nb.sock"; checks_pass "$d"; t2=$(now_ms)
  "$TOPO" lab down --dir "$d" >/dev/null

  h=$(mktemp -d /tmp/tlb.XXXX); dirs+=("$h")
  "$TOPO" lab up "$ex/ha-gateway.yaml" --dir "$h" >/dev/null
  bash "$ex/ha-gateway.nb.sh" "unix:$h/nb.sock"; checks_pass "$h"
  id=$(status_field "$h" id); pid=$(status_field "$h" ch1/ovs-vswitchd)
  kill -TERM "$pid"   # the active gateway chassis's vswitchd, started by this lab
  t3=$(now_ms)
  ok=0
  for _ in $(seq 120); do
    if ip netns exec "topo-$id-vm-vm1" ping -n -c1 -W1 10.10.40.10 >/dev/null; then ok=1; break; fi
  done
  t4=$(now_ms)
  "$TOPO" lab down --dir "$h" >/dev/null
  [ "$ok" = 1 ] || { echo "run $run: no failover within 120 pings" >&2; exit 1; }
  printf '%-4s %-31s %-23s %s\n' "$run" "$((t1 - t0)) ms" "$((t2 - t1)) ms" "$((t4 - t3)) ms"
done

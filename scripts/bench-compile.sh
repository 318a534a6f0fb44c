#!/usr/bin/env bash
# Validate + compile generated topologies of 1,000 and 10,000 tenants (a switch with 10 VIFs,
# a router port and an SNAT rule each) with the release binary; report wall time and peak
# memory (GNU time). Goal: under 2 s and 500 MB at 10,000 tenants, linear from 1,000.
#
#   scripts/bench-compile.sh [TENANTS...]      default: 1000 10000
#
# Measured on the 2-core dev machine (quiet, load < 1), release build, 2026-11-25, after sets
# and maps became sorted vectors:
#   tenants  rows     file | validate: wall s  MB | compile --format json: wall s  MB
#   1,000    14,015   1.1M |           0.11    32 |                       0.16    41
#   10,000   140,015  11M  |           1.22   250 |                       1.91   330
# (Before, with BTree-backed sets and maps: compile 2.21 s CPU and 795 MB at 10,000.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin topo
bin=target/release/topo
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sizes=("${@:-1000 10000}")
# shellcheck disable=SC2206
sizes=(${sizes[@]})
echo "wall and CPU (user+sys) seconds, peak RSS in MB; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-7s %-5s | %-8s %-7s %-6s | %-8s %-7s %s\n' tenants rows file val_wall val_cpu val_MB comp_wall comp_cpu comp_MB
for n in "${sizes[@]}"; do
  f="$dir/t$n.yaml"
  python3 scripts/gen-topology.py "$n" > "$f"
  size=$(du -h "$f" | cut -f1)
  /usr/bin/time -f '%e %U %S %M' -o "$dir/v" "$bin" validate "$f" 2>/dev/null
  /usr/bin/time -f '%e %U %S %M' -o "$dir/c" "$bin" compile --format json "$f" > "$dir/rows.json"
  rows=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$dir/rows.json")
  read -r vs vu vsy vk < "$dir/v"
  read -r cs cu csy ck < "$dir/c"
  vc=$(python3 -c "print(round($vu + $vsy, 2))")
  cc=$(python3 -c "print(round($cu + $csy, 2))")
  printf '%-8s %-7s %-5s | %-8s %-7s %-6s | %-8s %-7s %s\n' "$n" "$rows" "$size" "$vs" "$vc" "$((vk / 1024))" "$cs" "$cc" "$((ck / 1024))"
done

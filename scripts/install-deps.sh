#!/usr/bin/env bash
# Install what topo needs on a fresh Debian/Ubuntu machine. Idempotent: packages that are
# already installed are skipped, so running it twice costs one dpkg query.
set -euo pipefail

packages=(
  ovn-central ovn-host openvswitch-switch openvswitch-common ovn-common
  openvswitch-vtep ovn-controller-vtep   # the lab's hardware VTEP: ovs-vtep, vtep-ctl, the schema
  iproute2 iputils-ping tcpdump openssl ca-certificates procps
  time   # /usr/bin/time: peak memory for the benchmark scripts and the loader's tests
  graphviz   # `dot`, for `topo graph --format svg`
  groff-base git   # tests: topo man's pages render; topo --version names the commit
  socat busybox   # topo verify: port and load-balancer checks (listeners, clients), DHCP checks (udhcpc)
  ethtool   # the lab turns off veth checksum offload (the userspace datapath fills in no checksums)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: run this as root (sudo is not installed)" >&2; exit 1; }
    SUDO="sudo"
  fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # The packages' own services are not needed: topo's tests and lab start private daemons.
  # policy-rc.d stops the maintainer scripts from starting system-wide ones during install.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi
else
  echo "install-deps: all packages present"
fi

for tool in ovsdb-server ovsdb-tool ovsdb-client ovs-appctl ovs-pki ovn-northd ovn-nbctl ovn-sbctl \
    ovn-trace kill ovs-vsctl ovs-vswitchd ovn-controller ovn-controller-vtep vtep-ctl ip ping tcpdump \
    timeout dot groff git socat busybox ss ethtool; do
  command -v "$tool" >/dev/null || { echo "install-deps: $tool missing after install" >&2; exit 1; }
done
[ -f /usr/share/openvswitch/scripts/ovs-vtep ] || { echo "install-deps: ovs-vtep missing after install" >&2; exit 1; }

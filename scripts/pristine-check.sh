#!/usr/bin/env bash
# The README's quick start on a pristine Debian 12, as root, without sudo: debootstrap a
# minimal bookworm into a temp dir (from Debian's mirror), install topo's .deb there (built by
# scripts/package.sh), copy this checkout, and run scripts/quickstart.sh inside a chroot with
# private mounts (/proc, /sys, /dev, /run) — then tear the lab down and delete everything.
#
#   scripts/pristine-check.sh [TOPO.deb]     (default: the newest target/debian/*.deb)
#
# Run by hand as root (it takes minutes and downloads the base system); not part of CI.
# PRISTINE_ROOT=DIR reuses a debootstrapped root instead of making one (it is not deleted).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ "$(id -u)" -eq 0 ] || { echo "pristine-check: run as root (chroot, mounts, namespaces)" >&2; exit 1; }
deb="${1:-$(ls -t target/debian/*.deb 2>/dev/null | head -1)}"
[ -f "$deb" ] || { echo "pristine-check: no .deb: run scripts/package.sh first" >&2; exit 1; }

work=$(mktemp -d -t topo-pristine.XXXXXX)
root="${PRISTINE_ROOT:-$work/root}"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

if [ ! -x "$root/bin/bash" ]; then
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
  echo "pristine-check: debootstrap bookworm into $root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -rf "$root/src/topo" && mkdir -p "$root/src/topo"
git archive HEAD | tar -x -C "$root/src/topo"
cp "$deb" "$root/src/topo.deb"

# In the chroot: nothing but the base system, root, no sudo, no cargo.
cat >"$root/src/check.sh" <<'IN'
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
! command -v sudo && ! command -v cargo
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /src/topo.deb >/dev/null
cd /src/topo
scripts/quickstart.sh
scripts/quickstart.sh down
IN

unshare --mount --propagation private bash -euo pipefail -c '
  root=$1
  # `ip netns exec` remounts / as a slave: in the chroot / must be a mount point.
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/run"
  mount -t tmpfs tmpfs "$root/tmp"
  chroot "$root" /bin/bash /src/check.sh
' _ "$root"
echo "pristine-check: the quick start passed on a pristine Debian 12 (as root, no sudo, no cargo)"

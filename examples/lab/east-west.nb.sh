#!/usr/bin/env bash
# The logical topology of east-west.yaml. Usage: east-west.nb.sh NB_REMOTE
set -euo pipefail
n() { ovn-nbctl --timeout=10 --db="$NB" "$@"; }
NB=$1
n ls-add ls1
n lsp-add ls1 vm1 -- lsp-set-addresses vm1 "00:00:00:00:00:03 10.10.10.2"
n lsp-add ls1 vm2 -- lsp-set-addresses vm2 "00:00:00:00:00:04 10.10.10.3"

#!/usr/bin/env bash
# The logical topology of ten-checks.yaml. Usage: ten-checks.nb.sh NB_REMOTE
set -euo pipefail
n() { ovn-nbctl --timeout=10 --db="$NB" "$@"; }
NB=$1
n ls-add ls1
n lsp-add ls1 vm1 -- lsp-set-addresses vm1 "00:00:00:00:00:03 10.10.10.2"
n lsp-add ls1 vm2 -- lsp-set-addresses vm2 "00:00:00:00:00:04 10.10.10.3"
n lsp-add ls1 vm3 -- lsp-set-addresses vm3 "00:00:00:00:00:05 10.10.10.4"
# A router with no route to 10.10.99.0/24: packets there are dropped in lr1.
n lr-add lr1
n lrp-add lr1 lr1-ls1 00:00:00:00:ff:01 10.10.10.1/24
n lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router -- lsp-set-addresses ls1-lr1 router -- lsp-set-options ls1-lr1 router-port=lr1-ls1

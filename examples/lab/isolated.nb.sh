#!/usr/bin/env bash
# The logical topology of isolated.yaml. Usage: isolated.nb.sh NB_REMOTE
set -euo pipefail
n() { ovn-nbctl --timeout=10 --db="$NB" "$@"; }
NB=$1
n ls-add lsa
n lsp-add lsa a1 -- lsp-set-addresses a1 "00:00:00:00:01:01 10.10.10.2"
n lsp-add lsa a2 -- lsp-set-addresses a2 "00:00:00:00:01:02 10.10.10.3"
n ls-add lsb
n lsp-add lsb b1 -- lsp-set-addresses b1 "00:00:00:00:02:01 10.10.20.2"

#!/usr/bin/env bash
# The logical topology of l3-gateway.yaml (the seed's ovn-nbctl commands).
# Usage: l3-gateway.nb.sh NB_REMOTE
set -euo pipefail
n() { ovn-nbctl --timeout=10 --db="$NB" "$@"; }
NB=$1
router_port() { # SWITCH LSP ROUTER_PORT
  n lsp-add "$1" "$2" -- lsp-set-type "$2" router -- lsp-set-addresses "$2" router \
    -- lsp-set-options "$2" router-port="$3"
}
n ls-add ls1
n lsp-add ls1 vm1 -- lsp-set-addresses vm1 "00:00:00:00:00:03 10.10.10.2"
n lr-add lr1
n lrp-add lr1 lr1-ls1 00:00:00:00:00:01 10.10.10.1/24
router_port ls1 ls1-lr1 lr1-ls1
n lr-add lr2 -- set Logical_Router lr2 options:chassis=ch1
n lrp-add lr2 lr2-lsjoin 00:00:00:00:00:06 10.10.30.2/24
n lrp-add lr2 lr2-lslocal 00:00:00:00:00:07 10.10.40.1/24
n ls-add lsjoin
router_port lsjoin lsjoin-lr2 lr2-lsjoin
n lrp-add lr1 lr1-lsjoin 00:00:00:00:00:05 10.10.30.1/24
router_port lsjoin lsjoin-lr1 lr1-lsjoin
n lr-route-add lr2 10.10.10.0/24 10.10.30.1
n lr-route-add lr1 0.0.0.0/0 10.10.30.2
n ls-add lslocal
router_port lslocal lslocal-lr2 lr2-lslocal
n lsp-add lslocal lslocal-localnet -- lsp-set-addresses lslocal-localnet unknown \
  -- lsp-set-type lslocal-localnet localnet -- lsp-set-options lslocal-localnet network_name=externalnet
n lr-nat-add lr2 snat 10.10.40.1 10.10.10.0/24

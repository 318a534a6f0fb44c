#!/usr/bin/env bash
# The logical topology of ha-gateway.yaml: lr1's port on the external switch is a
# distributed gateway port with HA chassis group ha1 (ch1 priority 20, ch2 priority 10),
# SNAT to 10.10.40.1. Usage: ha-gateway.nb.sh NB_REMOTE
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
n ls-add lsext
n lrp-add lr1 lr1-ext 00:00:00:00:00:10 10.10.40.1/24
router_port lsext lsext-lr1 lr1-ext
n lsp-add lsext ln -- lsp-set-addresses ln unknown -- lsp-set-type ln localnet \
  -- lsp-set-options ln network_name=externalnet
n ha-chassis-group-add ha1
n ha-chassis-group-add-chassis ha1 ch1 20
n ha-chassis-group-add-chassis ha1 ch2 10
group=$(n --bare --columns=_uuid find HA_Chassis_Group name=ha1)
n set Logical_Router_Port lr1-ext ha_chassis_group="$group"
n lr-nat-add lr1 snat 10.10.40.1 10.10.10.0/24

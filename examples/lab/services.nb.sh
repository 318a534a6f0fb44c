#!/usr/bin/env bash
# The logical topology of services.yaml. Usage: services.nb.sh NB_REMOTE
set -euo pipefail
n() { ovn-nbctl --timeout=10 --db="$NB" "$@"; }
NB=$1
n ls-add ls1
n ls-add ls2
n lsp-add ls2 client -- lsp-set-addresses client "00:00:00:00:01:10 10.0.1.10"
n lsp-add ls1 web1 -- lsp-set-addresses web1 "00:00:00:00:01:11 10.0.0.11"
n lsp-add ls1 web2 -- lsp-set-addresses web2 "00:00:00:00:01:12 10.0.0.12"
n lsp-add ls1 lonely -- lsp-set-addresses lonely "00:00:00:00:01:20 10.0.0.20"
# The router between the client's switch and the backends'.
n lr-add lr1
n lrp-add lr1 lr1-ls1 00:00:00:00:ff:01 10.0.0.1/24
n lsp-add ls1 ls1-lr1 -- lsp-set-type ls1-lr1 router -- lsp-set-addresses ls1-lr1 router \
  -- lsp-set-options ls1-lr1 router-port=lr1-ls1
n lrp-add lr1 lr1-ls2 00:00:00:00:ff:02 10.0.1.1/24
n lsp-add ls2 ls2-lr1 -- lsp-set-type ls2-lr1 router -- lsp-set-addresses ls2-lr1 router \
  -- lsp-set-options ls2-lr1 router-port=lr1-ls2
# Two ports an ACL drops.
n acl-add ls1 to-lport 1000 'outport == "web2" && tcp.dst == 23' drop
n acl-add ls1 to-lport 1000 'outport == "web1" && udp.dst == 5353' drop
# OVN's native DHCP for the client.
dhcp=$(n create DHCP_Options cidr=10.0.1.0/24 \
  options='"lease_time"="3600" "router"="10.0.1.1" "server_id"="10.0.1.1" "server_mac"="00:00:00:00:ff:02" "dns_server"="10.0.0.53"')
n lsp-set-dhcpv4-options client "$dhcp"
# A load balancer on the client's switch, with a health check (1 s, one failure takes a
# backend out). The health check's source must be an unused address of the backends'
# subnet, not the router's: the backends learn it with OVN's service monitor MAC, and with
# the router's address they would send everything routed there to that MAC.
n lb-add lb1 172.16.0.100:80 10.0.0.11:8080,10.0.0.12:8080 tcp
n ls-lb-add ls2 lb1
n set load_balancer lb1 ip_port_mappings:10.0.0.11=web1:10.0.0.2 ip_port_mappings:10.0.0.12=web2:10.0.0.2
n -- --id=@hc create Load_Balancer_Health_Check vip='"172.16.0.100:80"' \
  options:interval=1 options:timeout=1 options:success_count=1 options:failure_count=1 \
  -- add Load_Balancer lb1 health_check @hc

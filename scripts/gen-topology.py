#!/usr/bin/env python3
"""Writes a topology of N tenants to stdout, for scripts/bench-compile.sh.

Each tenant: a switch with 10 VIFs (MAC, IP, port security, chassis), a port on the shared
distributed router `lr1`, and an SNAT rule on lr1's distributed gateway port. Usage:
    scripts/gen-topology.py 10000 > /tmp/t10k.yaml
"""
import ipaddress
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
out = sys.stdout
w = out.write
w("name: bench\n")
w("chassis:\n")
w("  gw1: { encap: { type: geneve, ip: 172.16.0.1 }, bridge-mappings: { ext: br-ext }, bridges: { br-ext: [eth1] } }\n")
w("  hv1: { encap: { type: geneve, ip: 172.16.0.2 } }\n")
w("  hv2: { encap: { type: geneve, ip: 172.16.0.3 } }\n")
w("switches:\n")
w("  ext:\n    subnet: 100.64.0.0/10\n    ports:\n      ext-ln: { type: localnet, network: ext }\n")
for t in range(n):
    a, b = t // 256, t % 256
    w(f"  t{t}:\n    subnet: 10.{a}.{b}.0/24\n    ports:\n")
    for v in range(10):
        hv = "hv1" if v % 2 == 0 else "hv2"
        w(f"      t{t}-vm{v}: {{ mac: \"0a:00:{a:02x}:{b:02x}:00:{v:02x}\", ip: 10.{a}.{b}.{v + 10}, "
          f"chassis: {hv}, port-security: true }}\n")
w("routers:\n  lr1:\n    ports:\n")
w("      - { switch: ext, ip: 100.64.0.1/10, gateway: { chassis: { gw1: 1 } } }\n")
for t in range(n):
    a, b = t // 256, t % 256
    w(f"      - {{ switch: t{t}, ip: 10.{a}.{b}.1/24 }}\n")
w("    routes:\n      - { prefix: 0.0.0.0/0, nexthop: 100.64.0.254 }\n")
w("    nat:\n")
base = ipaddress.IPv4Address("100.64.1.0")
for t in range(n):
    a, b = t // 256, t % 256
    w(f"      - {{ type: snat, logical-ip: 10.{a}.{b}.0/24, external-ip: {base + t} }}\n")

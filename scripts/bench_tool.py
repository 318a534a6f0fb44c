#!/usr/bin/env python3
"""Helpers for scripts/bench-apply.sh (standard library only).

  gen N DIR        write the N-tenant topology of shared/research/perf-anchors.md four ways:
                   DIR/topo.yaml (and DIR/topo-plus1.yaml with one more tenant),
                   DIR/nbctl.args (one ovn-nbctl invocation, NUL-separated, commands chained
                   by --), DIR/nbctl.cmds (one command per line, NUL-separated words, for one
                   process per command) and DIR/transact.json (one raw JSON-RPC transact).
  transact SOCK FILE   send FILE over the unix socket SOCK, wait for the reply; prints seconds
  transact-watched SOCK FILE
                       the same with a monitor_cond of the tables topo reads open on the
                       connection: waits for the reply and the update of the rows written
                       (what an apply that re-reads its result waits for); prints seconds, rows
  monitor SOCK         monitor_cond of the tables topo reads (all columns, initial rows);
                       prints seconds
  chained SOCK FILE    run the chained ovn-nbctl of FILE (DIR/nbctl.args) with the stack limit
                       raised; a command line over CHAIN_BYTES (4 MiB of strings and argv
                       pointers: Linux caps exec's arguments at 6 MiB whatever `ulimit -s`) is
                       cut at a `--` into several invocations run one after the other;
                       prints seconds, invocations
  cmds SOCK FILE       run one ovn-nbctl process per command of FILE; prints seconds

Per tenant i: switch t<i> (subnet) with 10 VIFs ("MAC IP" + port security), a router port
pair to the shared distributed router lr0, a static route and an SNAT on the gateway router
gw0 (options:chassis). Shared: the join switch, the external switch with a localnet port,
lr0's default route. Rows carry topo's ownership mark in the raw transact and the YAML (the
ovn-nbctl variants leave external_ids empty, as a user of ovn-nbctl would).

With BENCH_SERVICES=1 each tenant also has a security group and a load balancer: a port
group pg_t<i> of its 10 ports with 5 ACLs, an address set as_t<i>, and a load balancer
lb_t<i> (one VIP, two backends) on its switch, in all four forms.
"""

import json
import os
import resource
import select
import socket
import subprocess
import sys
import time

STACK = "bench"
MARK = ["map", [["topo:stack", STACK], ["topo:version", "1"]]]
TABLES = [
    "Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port",
    "Logical_Router_Static_Route", "Logical_Router_Policy", "NAT", "Gateway_Chassis",
    "HA_Chassis_Group", "HA_Chassis",
]
SERVICES = os.environ.get("BENCH_SERVICES") == "1"
if SERVICES:
    TABLES = TABLES + ["Address_Set", "Port_Group", "ACL", "QoS", "Load_Balancer",
                       "Load_Balancer_Health_Check", "Load_Balancer_Group", "DHCP_Options",
                       "DNS"]


def acls(i):
    """The 5 ACLs of tenant i's security group: (direction, priority, match, action)."""
    pg = f"pg_t{i}"
    return [("to-lport", 1000, f"outport == @{pg} && ip4.src == $as_t{i} && tcp.dst == 22",
             "allow-related"),
            ("to-lport", 1000, f"outport == @{pg} && tcp.dst == 80", "allow-related"),
            ("to-lport", 1000, f"outport == @{pg} && tcp.dst == 443", "allow-related"),
            ("from-lport", 1000, f"inport == @{pg} && ip4", "allow-related"),
            ("to-lport", 900, f"outport == @{pg} && ip4", "drop")]


def lb(i):
    n = net(i)
    return f"{n}.100:80", f"{n}.10:8080,{n}.11:8080"


def net(i):
    return f"10.{(i >> 8) & 255}.{i & 255}"


def mac(a, b, c):
    return f"0a:{a:02x}:{(b >> 8) & 255:02x}:{b & 255:02x}:00:{c:02x}"


def tenant(i):
    n = net(i)
    vms = [(f"t{i}-vm{j}", mac(1, i, j), f"{n}.{j + 10}") for j in range(10)]
    return {
        "switch": f"t{i}", "subnet": f"{n}.0/24", "vms": vms,
        "lrp": f"lr0-t{i}", "lrp_mac": mac(2, i, 1), "lrp_net": f"{n}.1/24",
        "lsp": f"t{i}-lr0", "prefix": f"{n}.0/24",
    }


def yaml(n):
    out = [f"name: {STACK}",
           "chassis:",
           "  gw1: { encap: { type: geneve, ip: 192.168.0.1 }, bridge-mappings: { physnet: br-ex } }",
           "switches:",
           "  join: { subnet: 100.64.0.0/16 }",
           "  ext:",
           "    subnet: 172.16.0.0/16",
           "    ports:",
           "      ext-localnet: { type: localnet, network: physnet }"]
    for i in range(n):
        t = tenant(i)
        out.append(f"  {t['switch']}:")
        out.append(f"    subnet: {t['subnet']}")
        out.append("    ports:")
        for name, m, ip in t["vms"]:
            out.append(f"      {name}: {{ mac: \"{m}\", ip: {ip}, port-security: true }}")
        if SERVICES:
            out.append(f"    load-balancers: [lb_t{i}]")
    if SERVICES:
        out.append("address-sets:")
        for i in range(n):
            out.append(f"  as_t{i}: [{net(i)}.0/24]")
        out.append("port-groups:")
        for i in range(n):
            names = ", ".join(v[0] for v in tenant(i)["vms"])
            out += [f"  pg_t{i}:", f"    ports: [{names}]", "    acls:"]
            for d, p, m, a in acls(i):
                out.append(f"      - {{ direction: {d}, priority: {p}, match: \"{m}\", action: {a} }}")
        out.append("load-balancers:")
        for i in range(n):
            vip, backends = lb(i)
            b = ", ".join(f"\"{x}\"" for x in backends.split(","))
            out += [f"  lb_t{i}:", "    protocol: tcp", f"    vips: {{ \"{vip}\": [{b}] }}"]
    out += ["routers:", "  lr0:", "    ports:",
            "      - { switch: join, mac: \"0a:03:00:00:00:01\", ip: 100.64.0.1/16 }"]
    for i in range(n):
        t = tenant(i)
        out.append(f"      - {{ switch: {t['switch']}, mac: \"{t['lrp_mac']}\", ip: {t['lrp_net']} }}")
    out += ["    routes:", "      - { prefix: 0.0.0.0/0, nexthop: 100.64.0.2 }",
            "  gw0:", "    chassis: gw1", "    ports:",
            "      - { switch: join, mac: \"0a:03:00:00:00:02\", ip: 100.64.0.2/16 }",
            "      - { switch: ext, mac: \"0a:03:00:00:00:03\", ip: 172.16.0.1/16 }",
            "    routes:"]
    for i in range(n):
        out.append(f"      - {{ prefix: {tenant(i)['prefix']}, nexthop: 100.64.0.1 }}")
    out.append("    nat:")
    for i in range(n):
        out.append(f"      - {{ type: snat, external-ip: 172.16.0.1, logical-ip: {tenant(i)['prefix']} }}")
    return "\n".join(out) + "\n"


def nbctl_commands(n):
    """The commands a user would type, in an order ovn-nbctl accepts."""
    c = [["lr-add", "lr0"], ["create", "Logical_Router", "name=gw0", "options:chassis=gw1"],
         ["ls-add", "join"], ["ls-add", "ext"],
         ["lsp-add", "ext", "ext-localnet"], ["lsp-set-type", "ext-localnet", "localnet"],
         ["lsp-set-addresses", "ext-localnet", "unknown"],
         ["lsp-set-options", "ext-localnet", "network_name=physnet"]]
    for r, sw, m, ip, extra in [("lr0", "join", "0a:03:00:00:00:01", "100.64.0.1/16", []),
                                ("gw0", "join", "0a:03:00:00:00:02", "100.64.0.2/16", []),
                                ("gw0", "ext", "0a:03:00:00:00:03", "172.16.0.1/16",
                                 ["nat-addresses=router"])]:
        c += [["lrp-add", r, f"{r}-{sw}", m, ip], ["lsp-add", sw, f"{sw}-{r}"],
              ["lsp-set-type", f"{sw}-{r}", "router"],
              ["lsp-set-addresses", f"{sw}-{r}", "router"],
              ["lsp-set-options", f"{sw}-{r}", f"router-port={r}-{sw}"] + extra]
    c.append(["lr-route-add", "lr0", "0.0.0.0/0", "100.64.0.2"])
    for i in range(n):
        t = tenant(i)
        c.append(["ls-add", t["switch"]])
        for name, m, ip in t["vms"]:
            c += [["lsp-add", t["switch"], name], ["lsp-set-addresses", name, f"{m} {ip}"],
                  ["lsp-set-port-security", name, f"{m} {ip}"]]
        c += [["lrp-add", "lr0", t["lrp"], t["lrp_mac"], t["lrp_net"]],
              ["lsp-add", t["switch"], t["lsp"]], ["lsp-set-type", t["lsp"], "router"],
              ["lsp-set-addresses", t["lsp"], "router"],
              ["lsp-set-options", t["lsp"], f"router-port={t['lrp']}"],
              ["lr-route-add", "gw0", t["prefix"], "100.64.0.1"],
              ["lr-nat-add", "gw0", "snat", "172.16.0.1", t["prefix"]]]
        if SERVICES:
            c.append(["create", "Address_Set", f"name=as_t{i}",
                      f'addresses="{t["prefix"]}"'])
            c.append(["pg-add", f"pg_t{i}"] + [v[0] for v in t["vms"]])
            for d, p, m, a in acls(i):
                c.append(["acl-add", f"pg_t{i}", d, str(p), m, a])
            vip, backends = lb(i)
            c += [["lb-add", f"lb_t{i}", vip, backends, "tcp"],
                  ["ls-lb-add", t["switch"], f"lb_t{i}"]]
    return c


def transact(n):
    """One transact inserting every row, children first, references by named-uuid."""
    ops = []
    seq = [0]

    def ins(table, row):
        seq[0] += 1
        name = f"r{seq[0]}"
        row = dict(row, external_ids=MARK)
        ops.append({"op": "insert", "table": table, "row": row, "uuid-name": name})
        return ["named-uuid", name]

    def smap(d):
        return ["map", [[k, v] for k, v in sorted(d.items())]]

    def sset(items):
        return ["set", list(items)]

    def router_lsp(sw, r, lrp, extra=None):
        opts = {"router-port": lrp}
        opts.update(extra or {})
        return ins("Logical_Switch_Port", {"name": f"{sw}-{r}", "type": "router",
                                           "addresses": "router", "options": smap(opts)})

    lrps0, routes_gw, nats = [], [], []
    lrps0.append(ins("Logical_Router_Port", {"name": "lr0-join", "mac": "0a:03:00:00:00:01",
                                             "networks": "100.64.0.1/16"}))
    gwj = ins("Logical_Router_Port", {"name": "gw0-join", "mac": "0a:03:00:00:00:02",
                                      "networks": "100.64.0.2/16"})
    gwe = ins("Logical_Router_Port", {"name": "gw0-ext", "mac": "0a:03:00:00:00:03",
                                      "networks": "172.16.0.1/16"})
    join_ports = [router_lsp("join", "lr0", "lr0-join"), router_lsp("join", "gw0", "gw0-join")]
    ext_ports = [router_lsp("ext", "gw0", "gw0-ext", {"nat-addresses": "router"}),
                 ins("Logical_Switch_Port", {"name": "ext-localnet", "type": "localnet",
                                             "addresses": "unknown",
                                             "options": smap({"network_name": "physnet"})})]
    ins("Logical_Switch", {"name": "join", "ports": sset(join_ports),
                           "other_config": smap({"subnet": "100.64.0.0/16"})})
    ins("Logical_Switch", {"name": "ext", "ports": sset(ext_ports),
                           "other_config": smap({"subnet": "172.16.0.0/16"})})
    for i in range(n):
        t = tenant(i)
        ports = [ins("Logical_Switch_Port", {"name": name, "addresses": f"{m} {ip}",
                                             "port_security": f"{m} {ip}"})
                 for name, m, ip in t["vms"]]
        vm_ports = list(ports)
        ports.append(router_lsp(t["switch"], "lr0", t["lrp"]))
        switch = {"name": t["switch"], "ports": sset(ports),
                  "other_config": smap({"subnet": t["subnet"]})}
        if SERVICES:
            ins("Address_Set", {"name": f"as_t{i}", "addresses": t["prefix"]})
            acl_rows = [ins("ACL", {"direction": d, "priority": p, "match": m, "action": a,
                                    "log": False})
                        for d, p, m, a in acls(i)]
            ins("Port_Group", {"name": f"pg_t{i}", "ports": sset(vm_ports),
                               "acls": sset(acl_rows)})
            vip, backends = lb(i)
            switch["load_balancer"] = sset([ins("Load_Balancer", {
                "name": f"lb_t{i}", "protocol": "tcp", "vips": smap({vip: backends})})])
        ins("Logical_Switch", switch)
        lrps0.append(ins("Logical_Router_Port", {"name": t["lrp"], "mac": t["lrp_mac"],
                                                 "networks": t["lrp_net"]}))
        routes_gw.append(ins("Logical_Router_Static_Route",
                             {"ip_prefix": t["prefix"], "nexthop": "100.64.0.1"}))
        nats.append(ins("NAT", {"type": "snat", "external_ip": "172.16.0.1",
                                "logical_ip": t["prefix"]}))
    default = ins("Logical_Router_Static_Route", {"ip_prefix": "0.0.0.0/0",
                                                  "nexthop": "100.64.0.2"})
    ins("Logical_Router", {"name": "lr0", "ports": sset(lrps0),
                           "static_routes": sset([default])})
    ins("Logical_Router", {"name": "gw0", "ports": sset([gwj, gwe]),
                           "options": smap({"chassis": "gw1"}),
                           "static_routes": sset(routes_gw), "nat": sset(nats)})
    return {"method": "transact", "id": 1, "params": ["OVN_Northbound"] + ops}


def gen(n, d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "topo.yaml"), "w") as f:
        f.write(yaml(n))
    with open(os.path.join(d, "topo-plus1.yaml"), "w") as f:
        f.write(yaml(n + 1))
    cmds = nbctl_commands(n)
    chained = []
    for c in cmds:
        if chained:
            chained.append("--")
        chained += c
    with open(os.path.join(d, "nbctl.args"), "wb") as f:
        f.write(b"\0".join(a.encode() for a in chained))
    with open(os.path.join(d, "nbctl.cmds"), "wb") as f:
        f.write(b"\n".join(b"\0".join(a.encode() for a in c) for c in cmds))
    with open(os.path.join(d, "transact.json"), "w") as f:
        json.dump(transact(n), f, separators=(",", ":"))
    print(f"{n} tenants: {len(cmds)} ovn-nbctl commands, "
          f"{len(transact(n)['params']) - 1} rows in the raw transact")


def drained(s):
    """No more bytes readable right now: only then is a buffer worth parsing (parsing it at
    every chunk that happens to end with `}` is quadratic in a 50 MB message)."""
    return not select.select([s], [], [], 0)[0]


def rpc(sock_path, payload):
    """Sends one request, returns (seconds, reply). Echo requests from the server are
    answered (none arrive within a benchmark's few seconds, but a client must)."""
    dec = json.JSONDecoder()
    start = time.perf_counter()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(payload)
    buf = ""
    chunks = []
    while True:
        data = s.recv(1 << 20)
        if not data:
            raise SystemExit("connection closed before the reply")
        chunks.append(data)
        # The reply is one JSON object; parse only once the bytes end with its closing brace.
        if data.rstrip().endswith(b"}") and drained(s):
            buf = b"".join(chunks).decode()
            try:
                msg, _ = dec.raw_decode(buf)
            except ValueError:
                continue
            if msg.get("id") == 1:
                break
            chunks = []
    elapsed = time.perf_counter() - start
    s.close()
    return elapsed, msg


def cmd_transact(sock_path, path):
    with open(path, "rb") as f:
        payload = f.read()
    t, msg = rpc(sock_path, payload)
    errors = [r for r in msg.get("result") or [] if isinstance(r, dict) and "error" in r]
    if msg.get("error") or errors:
        raise SystemExit(f"transact failed: {msg.get('error') or errors[:2]}")
    print(f"{t:.4f}")


def cmd_transact_watched(sock_path, path):
    """The raw transact with a monitor_cond of the same tables open on the connection (opened
    before the clock starts): the server also sends the rows it changed as one update, and
    the clock stops once the reply and that update are in. An apply that re-reads what it
    wrote cannot cost less than this."""
    dec = json.JSONDecoder()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    pending = bytearray()

    def messages():
        """Every whole message received so far, in order (blocks for more bytes)."""
        nonlocal pending
        while True:
            data = s.recv(1 << 20)
            if not data:
                raise SystemExit("connection closed before the reply")
            pending += data
            if not data.rstrip().endswith(b"}") or not drained(s):
                continue
            text = pending.decode()
            out, pos = [], 0
            try:
                while pos < len(text):
                    while pos < len(text) and text[pos].isspace():
                        pos += 1
                    if pos == len(text):
                        break
                    msg, pos = dec.raw_decode(text, pos)
                    out.append(msg)
            except ValueError:
                continue
            pending = bytearray()
            return out

    s.sendall(json.dumps({"method": "get_schema", "id": "s", "params": ["OVN_Northbound"]}).encode())
    tables = next(m for m in messages() if m.get("id") == "s")["result"]["tables"]
    req = {"method": "monitor_cond", "id": "m",
           "params": ["OVN_Northbound", "bench",
                      {t: [{"columns": sorted(tables[t]["columns"])}] for t in TABLES}]}
    s.sendall(json.dumps(req).encode())
    while not any(m.get("id") == "m" for m in messages()):
        pass
    with open(path, "rb") as f:
        payload = f.read()
    start = time.perf_counter()
    s.sendall(payload)
    reply = update = None
    while reply is None or update is None:
        for m in messages():
            if m.get("id") == 1:
                reply = m
            elif m.get("method") in ("update2", "update3") and m["params"][0] == "bench":
                update = m
    elapsed = time.perf_counter() - start
    s.close()
    errors = [r for r in reply.get("result") or [] if isinstance(r, dict) and "error" in r]
    if reply.get("error") or errors:
        raise SystemExit(f"transact failed: {reply.get('error') or errors[:2]}")
    rows = sum(len(v) for v in update["params"][-1].values())
    print(f"{elapsed:.4f} {rows}")


def cmd_monitor(sock_path):
    schema_req = json.dumps({"method": "get_schema", "id": 1, "params": ["OVN_Northbound"]})
    _, schema = rpc(sock_path, schema_req.encode())
    tables = schema["result"]["tables"]
    req = {"method": "monitor_cond", "id": 1,
           "params": ["OVN_Northbound", "bench",
                      {t: [{"columns": sorted(tables[t]["columns"]) + ["_version"],
                            "select": {"initial": True, "insert": False, "delete": False,
                                       "modify": False}}] for t in TABLES}]}
    t, msg = rpc(sock_path, json.dumps(req).encode())
    if msg.get("error"):
        raise SystemExit(f"monitor_cond failed: {msg['error']}")
    rows = sum(len(v) for v in (msg.get("result") or {}).values())
    print(f"{t:.4f} {rows}")


CHAIN_BYTES = 4 << 20


def cmd_chained(sock_path, path):
    with open(path, "rb") as f:
        args = f.read().split(b"\0")
    # Commands, each a list of words (the `--` separators dropped).
    cmds, cur = [], []
    for a in args:
        if a == b"--":
            cmds.append(cur)
            cur = []
        else:
            cur.append(a)
    cmds.append(cur)
    pieces, piece, size = [], [], 0
    for c in cmds:
        cost = sum(len(a) + 1 + 8 for a in c) + 3 + 8
        if piece and size + cost > CHAIN_BYTES:
            pieces.append(piece)
            piece, size = [], 0
        if piece:
            piece.append(b"--")
        piece += c
        size += cost
    pieces.append(piece)

    def unlimited_stack():
        resource.setrlimit(resource.RLIMIT_STACK,
                           (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    start = time.perf_counter()
    for p in pieces:
        subprocess.run([b"ovn-nbctl", f"--db=unix:{sock_path}".encode()] + p, check=True,
                       stdout=subprocess.DEVNULL, preexec_fn=unlimited_stack)
    print(f"{time.perf_counter() - start:.4f} {len(pieces)}")


def cmd_cmds(sock_path, path):
    with open(path, "rb") as f:
        cmds = [line.split(b"\0") for line in f.read().split(b"\n") if line]
    start = time.perf_counter()
    for c in cmds:
        subprocess.run(["ovn-nbctl", f"--db=unix:{sock_path}"] + [a.decode() for a in c],
                       check=True, stdout=subprocess.DEVNULL)
    print(f"{time.perf_counter() - start:.4f}")


def main():
    args = sys.argv[1:]
    if args[:1] == ["gen"] and len(args) == 3:
        gen(int(args[1]), args[2])
    elif args[:1] == ["transact"] and len(args) == 3:
        cmd_transact(args[1], args[2])
    elif args[:1] == ["transact-watched"] and len(args) == 3:
        cmd_transact_watched(args[1], args[2])
    elif args[:1] == ["monitor"] and len(args) == 2:
        cmd_monitor(args[1])
    elif args[:1] == ["chained"] and len(args) == 3:
        cmd_chained(args[1], args[2])
    elif args[:1] == ["cmds"] and len(args) == 3:
        cmd_cmds(args[1], args[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

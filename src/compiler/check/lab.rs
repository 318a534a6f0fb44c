//! The lab section (physical networks and their hosts) and the connectivity checks.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::Checker;
use crate::compiler::model::{Check, LabNetwork};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::spec::Sp;
use crate::spec::types::{Expect, PortType};

impl Checker<'_> {
    pub(super) fn lab(&mut self) {
        let t = self.t;
        // Endpoint name -> placed on a chassis (ports) / always placed (hosts).
        let mut endpoints: BTreeMap<String, (Span, bool)> = BTreeMap::new();
        for (_, sw) in t.switches.iter() {
            for (port, p) in sw.ports.iter() {
                let ty = p.ty.as_ref().map(|t| t.value).unwrap_or(PortType::Vif);
                if matches!(
                    ty,
                    PortType::Vif | PortType::Localport | PortType::External | PortType::Virtual
                ) {
                    endpoints.insert(port.value.clone(), (port.span, p.chassis.is_some()));
                }
            }
        }
        let mapped: Vec<&str> = t
            .chassis
            .iter()
            .flat_map(|(_, c)| c.bridge_mappings.iter().map(|(n, _)| n.value.as_str()))
            .collect();
        // lab network -> switches with a localnet port on it
        let mut bridged: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (sw, s) in t.switches.iter() {
            for (_, p) in s.ports.iter() {
                if p.ty.as_ref().map(|t| t.value) == Some(PortType::Localnet)
                    && let Some(n) = &p.network
                {
                    bridged
                        .entry(n.value.as_str())
                        .or_default()
                        .push(sw.value.as_str());
                }
            }
        }
        if let Some(lab) = &t.lab {
            for (net, n) in lab.networks.iter() {
                self.name("lab network", net);
                if !mapped.contains(&net.value.as_str()) {
                    let d = Diagnostic::error(
                        Code::RefUnknownNetwork,
                        format!("lab network `{}` is mapped by no chassis", net.value),
                    )
                    .at(net.span, "no chassis bridges to it");
                    let d = d.suggest(
                        &net.value,
                        mapped.iter().copied(),
                        format!("a lab network stands for a physical network: map it in a chassis's `bridge-mappings` (`{}: br-...`)", net.value),
                    );
                    self.push(d);
                }
                let subnet = self.network(&n.subnet);
                let ipv6_prefix = n.ipv6_prefix.as_ref().and_then(|p| match self.network(p) {
                    Some(IpNet::V6(n)) => Some(n),
                    Some(IpNet::V4(_)) => {
                        self.push(
                            Diagnostic::error(
                                Code::AddrBadCidr,
                                format!(
                                    "`ipv6-prefix` of lab network `{}` must be IPv6",
                                    net.value
                                ),
                            )
                            .at(p.span, "an IPv4 network")
                            .help("write the IPv4 network as `subnet`"),
                        );
                        None
                    }
                    None => None,
                });
                let networks: Vec<(IpNet, Span)> = subnet
                    .map(|s| (s, n.subnet.span))
                    .into_iter()
                    .chain(
                        ipv6_prefix
                            .zip(n.ipv6_prefix.as_ref())
                            .map(|(p, sp)| (IpNet::V6(p), sp.span)),
                    )
                    .collect();
                let mut hosts = BTreeMap::new();
                for (host, addrs) in n.hosts.iter() {
                    self.name("host", host);
                    if let Some((first, _)) = endpoints.get(&host.value) {
                        self.push(
                            Diagnostic::error(
                                Code::NameDuplicate,
                                format!(
                                    "lab host `{}` has the name of another endpoint",
                                    host.value
                                ),
                            )
                            .at(host.span, "defined again here")
                            .related(*first, "first defined here")
                            .help("checks name endpoints by name: give the host another name"),
                        );
                    }
                    endpoints.insert(host.value.clone(), (host.span, true));
                    let items = addrs.value.items(addrs.span);
                    if items.is_empty() {
                        self.missing(
                            addrs.span,
                            format!("lab host `{}` has no address", host.value),
                            "no address",
                            "give the host its address, e.g. `client: 10.10.40.10`",
                        );
                    }
                    let mut v4_seen: Option<Span> = None;
                    let mut host_ips = Vec::new();
                    for ip in &items {
                        let Some(addr) = self.ip(ip) else { continue };
                        if addr.is_ipv4() {
                            if let Some(first) = v4_seen {
                                self.push(
                                    Diagnostic::error(
                                        Code::ValueNotAllowed,
                                        format!("lab host `{}` has two IPv4 addresses", host.value),
                                    )
                                    .at(ip.span, "a second IPv4 address")
                                    .related(first, "the first")
                                    .help("a host has one IPv4 address (and any IPv6 ones)"),
                                );
                                continue;
                            }
                            v4_seen = Some(ip.span);
                        }
                        // The lab network is bridged into every switch with a localnet port on it:
                        // a host must not take an address of a port there.
                        let clash = bridged
                            .get(net.value.as_str())
                            .into_iter()
                            .flatten()
                            .flat_map(|sw| self.facts.switch_ips.get(*sw).into_iter().flatten())
                            .find(|a| a.ip == addr)
                            .map(|a| (a.span, a.owner.clone()));
                        if let Some((first, owner)) = clash {
                            self.push(
                                Diagnostic::error(
                                    Code::AddrDuplicateIp,
                                    format!(
                                        "lab host `{}` and {owner} both use {addr}",
                                        host.value
                                    ),
                                )
                                .at(ip.span, "used again here")
                                .related(
                                    first,
                                    "first used here, on a switch bridged to this network",
                                )
                                .help("give the host an address no logical port uses"),
                            );
                        }
                        let same_family: Vec<&(IpNet, Span)> = networks
                            .iter()
                            .filter(|(s, _)| s.addr().is_ipv4() == addr.is_ipv4())
                            .collect();
                        // A network that did not parse was reported already.
                        let unparsed = if addr.is_ipv4() {
                            subnet.is_none()
                        } else {
                            n.ipv6_prefix.is_some() && ipv6_prefix.is_none()
                        };
                        if !unparsed && !same_family.iter().any(|(s, _)| s.contains(&addr)) {
                            let mut d = Diagnostic::error(
                            Code::AddrOutsideSubnet,
                            match same_family.first() {
                                Some((s, _)) => format!(
                                    "host `{}` address {addr} is outside {s} of lab network `{}`",
                                    host.value, net.value
                                ),
                                None if addr.is_ipv6() => format!(
                                    "host `{}` address {addr} is IPv6, and lab network `{}` has no `ipv6-prefix`",
                                    host.value, net.value
                                ),
                                None => format!(
                                    "host `{}` address {addr} is IPv4, and lab network `{}` has no IPv4 `subnet`",
                                    host.value, net.value
                                ),
                            },
                        )
                        .at(ip.span, "outside the network");
                            d = match same_family.first() {
                            Some((_, span)) => d
                                .related(
                                    *span,
                                    if addr.is_ipv6() {
                                        "the network's IPv6 prefix"
                                    } else {
                                        "the network's subnet"
                                    },
                                )
                                .help("give the host an address of its network"),
                            None if addr.is_ipv6() => d.help(
                                "give the network its IPv6 prefix (`ipv6-prefix: fd00:40::/64`)",
                            ),
                            None => d.help("give the host an address of its network"),
                        };
                            self.push(d);
                        }
                        host_ips.push(addr);
                    }
                    hosts.insert(host.value.clone(), host_ips);
                }
                if let Some(subnet) = subnet {
                    self.model.lab.insert(
                        net.value.clone(),
                        LabNetwork {
                            subnet,
                            ipv6_prefix,
                            hosts,
                        },
                    );
                }
            }
        }
        if let Some(lab) = &t.lab {
            for (host, h) in lab.vtep_hosts.iter() {
                self.name("host", host);
                if let Some((first, _)) = endpoints.get(&host.value) {
                    self.push(
                        Diagnostic::error(
                            Code::NameDuplicate,
                            format!("lab host `{}` has the name of another endpoint", host.value),
                        )
                        .at(host.span, "defined again here")
                        .related(*first, "first defined here")
                        .help("checks name endpoints by name: give the host another name"),
                    );
                }
                endpoints.insert(host.value.clone(), (host.span, true));
                let port_known = t.vteps.iter().any(|(v, vt)| {
                    v.value == h.vtep.value && vt.ports.iter().any(|(p, _)| p.value == h.port.value)
                });
                if !port_known {
                    self.push(
                        Diagnostic::error(
                            Code::RefUnknownPort,
                            format!(
                                "VTEP `{}` has no physical port `{}` in `vteps`",
                                h.vtep.value, h.port.value
                            ),
                        )
                        .at(h.port.span, "not a port of that VTEP")
                        .help("declare the port under `vteps.<vtep>.ports`"),
                    );
                }
                match h.ip.value.parse::<ipnet::IpNet>() {
                    Ok(ip) => {
                        self.model.lab_vtep_hosts.insert(
                            host.value.clone(),
                            crate::compiler::model::LabVtepHost {
                                vtep: h.vtep.value.clone(),
                                port: h.port.value.clone(),
                                ip,
                            },
                        );
                    }
                    Err(_) => self.push(
                        Diagnostic::error(
                            Code::AddrBadCidr,
                            format!("`{}` is not an address with a prefix length", h.ip.value),
                        )
                        .at(h.ip.span, "expected e.g. `10.10.10.20/24`"),
                    ),
                }
            }
        }
        let names: Vec<String> = endpoints.keys().cloned().collect();
        let mut check_names: BTreeMap<&str, Span> = BTreeMap::new();
        for c in &t.checks {
            let mut ok = true;
            if let Some(n) = &c.name
                && let Some(first) = check_names.insert(n.value.as_str(), n.span)
            {
                ok = false;
                self.push(
                    Diagnostic::error(
                        Code::NameDuplicate,
                        format!("check name `{}` is used twice", n.value),
                    )
                    .at(n.span, "second use")
                    .at(first, "first use")
                    .help("`topo verify --check NAME` selects checks by name: make it unique"),
                );
            }
            let expect = c.expect.value;
            match endpoints.get(&c.from.value) {
                None => {
                    ok = false;
                    self.unknown(
                        Code::RefUnknownEndpoint,
                        "endpoint",
                        &c.from,
                        names.iter().map(String::as_str),
                        "`from` names a switch port or a lab host",
                    );
                }
                Some((_, false)) => {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            Code::CheckUnplacedEndpoint,
                            format!("check from `{}`: the port has no `chassis`", c.from.value),
                        )
                        .at(c.from.span, "the lab cannot place this port")
                        .help(format!(
                            "give port `{}` a `chassis:` so the lab can create its VM",
                            c.from.value
                        )),
                    );
                }
                Some(_) => {}
            }
            match (&c.to, expect) {
                (Some(to), Expect::Dhcp) => {
                    ok = false;
                    self.not_for(
                        to.span,
                        "`to`",
                        "expect: dhcp",
                        "drop `to`: the VM asks OVN's DHCP for its own address",
                    );
                }
                (None, Expect::Dhcp) => {}
                (None, _) => {
                    ok = false;
                    self.missing(
                        c.expect.span,
                        "a check needs `to`".to_owned(),
                        "to where?",
                        "add `to: <port, lab host or IP address>`",
                    );
                }
                (Some(to), _) => {
                    if to.value.parse::<IpAddr>().is_err() && !endpoints.contains_key(&to.value) {
                        ok = false;
                        self.unknown(
                            Code::RefUnknownEndpoint,
                            "endpoint",
                            to,
                            names.iter().map(String::as_str),
                            "`to` names a switch port, a lab host or an IP address",
                        );
                    }
                }
            }
            let source_ip = match (expect, &c.source_ip) {
                (Expect::SourceIp, None) => {
                    ok = false;
                    self.missing(
                        c.expect.span,
                        "a source-ip check needs `source-ip`".to_owned(),
                        "which source address?",
                        "add `source-ip: <address>`: the source `to` must see (e.g. the SNAT address)",
                    );
                    None
                }
                (Expect::SourceIp, Some(ip)) => self.ip(ip),
                (_, Some(ip)) => {
                    ok = false;
                    self.not_for(
                        ip.span,
                        "`source-ip`",
                        "expect: source-ip",
                        "write `expect: source-ip`, or drop `source-ip`",
                    );
                    None
                }
                (_, None) => None,
            };
            let port = match &c.port {
                Some(p) if matches!(expect, Expect::SourceIp | Expect::Dhcp) => {
                    ok = false;
                    self.not_for(
                        p.span,
                        "`port`",
                        "reachable, unreachable and balanced checks",
                        "drop `port`",
                    );
                    None
                }
                Some(p) => match p.value.parse::<crate::lab::spec::L4Port>() {
                    Ok(port) => Some(port),
                    Err(e) => {
                        ok = false;
                        self.push(
                            Diagnostic::error(Code::CheckBadPort, e)
                                .at(p.span, "not a port")
                                .help("write the port number and the protocol, e.g. `22/tcp` or `53/udp`"),
                        );
                        None
                    }
                },
                None if expect == Expect::Balanced => {
                    ok = false;
                    self.missing(
                        c.expect.span,
                        "a balanced check needs `port`".to_owned(),
                        "which port of the VIP?",
                        "add `port: <PORT>/tcp` (or `/udp`): the load balancer's VIP port",
                    );
                    None
                }
                None => None,
            };
            let mut dhcp_field = |f: &Option<Sp<String>>, key: &str| -> Option<IpAddr> {
                let v = f.as_ref()?;
                if expect == Expect::Dhcp {
                    let ip = self.ip(v);
                    ok &= ip.is_some();
                    ip
                } else {
                    ok = false;
                    self.not_for(
                        v.span,
                        &format!("`{key}`"),
                        "expect: dhcp",
                        &format!("write `expect: dhcp`, or drop `{key}`"),
                    );
                    None
                }
            };
            let address = dhcp_field(&c.address, "address");
            let router = dhcp_field(&c.router, "router");
            let dns = dhcp_field(&c.dns, "dns");
            let mut backends = Vec::new();
            if expect == Expect::Balanced {
                for b in c.backends.iter().chain(&c.stop_backend) {
                    if !endpoints.contains_key(&b.value) {
                        ok = false;
                        self.unknown(
                            Code::RefUnknownEndpoint,
                            "endpoint",
                            b,
                            names.iter().map(String::as_str),
                            "a backend names a switch port or a lab host",
                        );
                    }
                }
                backends = c.backends.iter().map(|b| b.value.clone()).collect();
                if backends.len() < 2 {
                    ok = false;
                    self.missing(
                        c.expect.span,
                        "a balanced check needs two `backends` or more".to_owned(),
                        "which backends?",
                        "add `backends: [port, port, ...]`: the ports behind the VIP",
                    );
                }
                if let Some(s) = &c.stop_backend
                    && !backends.contains(&s.value)
                {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            Code::RefUnknownEndpoint,
                            format!(
                                "`stop-backend: {}` is not one of the check's backends",
                                s.value
                            ),
                        )
                        .at(s.span, "not in `backends`")
                        .help("name one of `backends`"),
                    );
                }
                if let Some(n) = &c.connections
                    && n.value < 2
                {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            Code::ValueNotAllowed,
                            "a balanced check needs two connections or more",
                        )
                        .at(n.span, "fewer than 2")
                        .help("drop `connections` (default 12) or give 2 or more"),
                    );
                }
            } else {
                let extra = c
                    .backends
                    .first()
                    .map(|b| (b.span, "backends"))
                    .or(c.backend_port.as_ref().map(|b| (b.span, "backend-port")))
                    .or(c.connections.as_ref().map(|b| (b.span, "connections")))
                    .or(c.stop_backend.as_ref().map(|b| (b.span, "stop-backend")));
                if let Some((span, key)) = extra {
                    ok = false;
                    self.not_for(
                        span,
                        &format!("`{key}`"),
                        "expect: balanced",
                        &format!("write `expect: balanced`, or drop `{key}`"),
                    );
                }
            }
            if ok {
                self.model.checks.push(Check {
                    name: c.name.as_ref().map(|n| n.value.clone()),
                    from: c.from.value.clone(),
                    to: c.to.as_ref().map(|t| t.value.clone()).unwrap_or_default(),
                    expect,
                    source_ip,
                    port,
                    address,
                    router,
                    dns,
                    backends,
                    backend_port: c.backend_port.as_ref().map(|p| p.value),
                    connections: c.connections.as_ref().map(|n| n.value),
                    stop_backend: c.stop_backend.as_ref().map(|s| s.value.clone()),
                });
            }
        }
    }

    /// `what` (a key) is set on a check it does not apply to.
    fn not_for(&mut self, span: Span, what: &str, only: &str, help: &str) {
        self.push(
            Diagnostic::error(Code::ValueNotAllowed, format!("{what} is only for {only}"))
                .at(span, "not used by this check")
                .help(help.to_owned()),
        );
    }
}

#[cfg(test)]
mod tests {
    fn codes(text: &str) -> Vec<String> {
        let loaded = crate::spec::load_str("t.yaml", text);
        let (_, diags) = crate::compiler::check(&loaded.topology);
        diags
            .items
            .iter()
            .map(|d| d.code.as_str().to_owned())
            .collect()
    }

    const NET: &str = "name: t\nchassis:\n  hv1:\n    encap: { type: geneve, ip: 172.17.42.1 }\n    bridge-mappings: { ext: br-ex }\nlab:\n  networks:\n    ext:\n      subnet: 10.0.40.0/24\n      ipv6-prefix: fd00:40::/64\n";

    #[test]
    fn a_host_takes_one_address_or_a_list_with_one_ipv4() {
        assert!(codes(&format!("{NET}      hosts: {{ c: 10.0.40.10 }}\n")).is_empty());
        let both =
            format!("{NET}      hosts: {{ c: [10.0.40.10, \"fd00:40::10\", \"fd00:40::11\"] }}\n");
        assert!(codes(&both).is_empty());
        let two_v4 = format!("{NET}      hosts: {{ c: [10.0.40.10, 10.0.40.11] }}\n");
        assert_eq!(codes(&two_v4), ["topo::value::not-allowed"]);
        let none = format!("{NET}      hosts: {{ c: [] }}\n");
        assert_eq!(codes(&none), ["topo::value::missing"]);
        let v4_prefix = NET.replace("fd00:40::/64", "10.0.41.0/24");
        assert_eq!(
            codes(&format!("{v4_prefix}      hosts: {{ c: 10.0.40.10 }}\n")),
            ["topo::addr::bad-cidr"]
        );
    }
}

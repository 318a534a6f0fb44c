//! Static routes, router policies and NAT: prefixes, nexthops on connected networks, ECMP,
//! and the gateway a NAT rule runs on.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::Checker;
use crate::compiler::model::{Nat, Policy, Route};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::spec::Sp;
use crate::spec::types::{NatType, PolicyAction, PortType, Router as SpecRouter};

/// A router's ports: LRP name -> networks.
type Ports = BTreeMap<String, Vec<IpNet>>;

impl Checker<'_> {
    pub(super) fn routing(&mut self) {
        let t = self.t;
        // Each router's ports: LRP name -> networks.
        let mut by_router: BTreeMap<String, Ports> = BTreeMap::new();
        for f in &self.facts.router_ports {
            by_router
                .entry(f.router.clone())
                .or_default()
                .insert(f.lrp.clone(), f.networks.iter().map(|(n, _)| *n).collect());
        }
        let lsps: BTreeSet<String> = self.facts.lsps.iter().map(|(n, _, _)| n.clone()).collect();
        let none = Ports::new();
        for (name, r) in t.routers.iter() {
            let ports = by_router.get(&name.value).unwrap_or(&none);
            self.routes(&name.value, r, ports);
            self.policies(&name.value, r);
            self.nat(&name.value, r, ports, &lsps);
        }
    }

    fn output_port<'p>(
        &mut self,
        router: &str,
        name: &Sp<String>,
        ports: &'p Ports,
    ) -> Option<(&'p String, &'p Vec<IpNet>)> {
        let found = ports.get_key_value(&name.value);
        if found.is_none() {
            let known: Vec<&str> = ports.keys().map(String::as_str).collect();
            self.unknown(
                Code::RefUnknownPort,
                "router port",
                name,
                known,
                &format!("name one of the ports of router `{router}` (`{router}-<switch>`)"),
            );
        }
        found
    }

    fn routes(&mut self, router: &str, r: &SpecRouter, ports: &Ports) {
        // (prefix, policy) -> [(nexthop, span, ecmp)]
        type Seen<'s> = BTreeMap<(IpNet, Option<&'s str>), Vec<(IpAddr, Span, bool)>>;
        let mut seen: Seen = BTreeMap::new();
        let mut out = Vec::new();
        for route in &r.routes {
            let prefix = self.network(&route.prefix);
            let nexthop = self.ip(&route.nexthop);
            let (Some(prefix), Some(nexthop)) = (prefix, nexthop) else {
                continue;
            };
            if prefix.addr().is_ipv4() != nexthop.is_ipv4() {
                self.push(
                    Diagnostic::error(
                        Code::RouteFamilyMismatch,
                        format!("route {prefix} via {nexthop}: prefix and nexthop are of different IP families"),
                    )
                    .at(route.nexthop.span, "other IP family than the prefix")
                    .related(route.prefix.span, "the prefix")
                    .help("route IPv4 prefixes via IPv4 nexthops and IPv6 via IPv6"),
                );
                continue;
            }
            let candidates: Vec<&Vec<IpNet>> = match &route.output_port {
                Some(op) => match self.output_port(router, op, ports) {
                    Some((_, nets)) => vec![nets],
                    None => continue,
                },
                None => ports.values().collect(),
            };
            let connected = candidates
                .iter()
                .any(|nets| nets.iter().any(|n| n.contains(&nexthop)));
            let known = !self.facts.incomplete_routers.contains(router);
            if !connected && !ports.is_empty() && known {
                let nets: Vec<String> = candidates
                    .iter()
                    .flat_map(|n| n.iter().map(|n| n.trunc().to_string()))
                    .collect();
                let where_ = match &route.output_port {
                    Some(op) => format!("port `{}`", op.value),
                    None => format!("router `{router}`"),
                };
                self.push(
                    Diagnostic::error(
                        Code::RouteUnreachableNexthop,
                        format!(
                            "route {prefix} via {nexthop}: the nexthop is on no network of {where_}"
                        ),
                    )
                    .at(route.nexthop.span, "not directly connected")
                    .help(if nets.is_empty() {
                        "give the router a port on the nexthop's network".to_owned()
                    } else {
                        format!(
                            "the nexthop must be on a connected network: {}",
                            nets.join(", ")
                        )
                    }),
                );
            }
            let policy = route.policy.as_ref().map(|p| p.value.as_str());
            let ecmp = route.ecmp.as_ref().is_some_and(|e| e.value);
            let entry = seen.entry((prefix, policy)).or_default();
            if let Some((_, first, _)) = entry.iter().find(|(n, _, _)| *n == nexthop) {
                out.push(
                    Diagnostic::error(
                        Code::RouteDuplicate,
                        format!("router `{router}`: route {prefix} via {nexthop} is given twice"),
                    )
                    .at(route.prefix.span, "given again here")
                    .related(*first, "first given here")
                    .help("remove one of the two routes"),
                );
            } else if let Some((other, first, first_ecmp)) = entry.first()
                && !(ecmp && *first_ecmp)
            {
                out.push(
                    Diagnostic::error(
                        Code::RouteEcmpNotMarked,
                        format!("router `{router}`: {prefix} has nexthops {other} and {nexthop}, not marked ECMP"),
                    )
                    .at(route.prefix.span, "second nexthop for this prefix")
                    .related(*first, "first route for this prefix")
                    .help("to balance over several nexthops mark every one `ecmp: true` (as `ovn-nbctl --ecmp`); otherwise keep one"),
                );
            }
            entry.push((nexthop, route.prefix.span, ecmp));
            if let Some(m) = self.model.routers.get_mut(router) {
                m.routes.push(Route {
                    prefix,
                    nexthop,
                    policy: route.policy.as_ref().map(|p| p.value),
                    output_port: route.output_port.as_ref().map(|p| p.value.clone()),
                });
            }
        }
        for d in out {
            self.push(d);
        }
    }

    fn policies(&mut self, router: &str, r: &SpecRouter) {
        let mut seen: BTreeMap<(i64, &str), Span> = BTreeMap::new();
        for p in &r.policies {
            self.priority(&p.priority);
            if p.matches.value.trim().is_empty() {
                self.missing(
                    p.matches.span,
                    format!("a policy of router `{router}` has an empty `match`"),
                    "empty match",
                    "write an OVN match, e.g. `ip4.src == 10.0.0.0/24`",
                );
            }
            let reroute = p.action.value == PolicyAction::Reroute;
            if reroute && p.nexthops.is_empty() {
                self.missing(
                    p.action.span,
                    format!("a reroute policy of router `{router}` has no `nexthops`"),
                    "reroute to where?",
                    "add `nexthops: [<ip>]`",
                );
            }
            if !reroute && let Some(n) = p.nexthops.first() {
                self.push(
                    Diagnostic::error(
                        Code::ValueNotAllowed,
                        format!("a {} policy has no nexthops", p.action.value.as_str()),
                    )
                    .at(n.span, "only used by `reroute`")
                    .help("drop `nexthops`, or make the action `reroute`"),
                );
            }
            let nexthops: Vec<IpAddr> = p.nexthops.iter().filter_map(|n| self.ip(n)).collect();
            let key = (p.priority.value, p.matches.value.as_str());
            if let Some(first) = seen.get(&key) {
                self.push(
                    Diagnostic::error(
                        Code::RouteDuplicate,
                        format!(
                            "router `{router}`: policy {} `{}` is given twice",
                            key.0, key.1
                        ),
                    )
                    .at(p.matches.span, "given again here")
                    .related(*first, "first given here")
                    .help("a router holds one policy per priority and match"),
                );
            }
            seen.insert(key, p.matches.span);
            if let Some(m) = self.model.routers.get_mut(router) {
                m.policies.push(Policy {
                    priority: p.priority.value,
                    matches: p.matches.value.clone(),
                    action: p.action.value,
                    nexthops,
                });
            }
        }
    }

    fn nat(&mut self, router: &str, r: &SpecRouter, ports: &Ports, lsps: &BTreeSet<String>) {
        let dgps: Vec<&str> = r
            .ports
            .iter()
            .filter(|p| p.gateway.is_some())
            .filter_map(|p| {
                p.switch
                    .as_ref()
                    .or(p.peer.as_ref())
                    .map(|l| format!("{router}-{}", l.value))
            })
            .filter_map(|n| ports.get_key_value(&n).map(|(p, _)| p.as_str()))
            .collect();
        let gateway_router = r.chassis.is_some();
        let all_nets: Vec<IpNet> = ports.values().flatten().copied().collect();
        let mut seen: BTreeMap<(NatType, IpAddr, String), Span> = BTreeMap::new();
        let mut dnat: BTreeMap<IpAddr, (Span, String)> = BTreeMap::new();
        for n in &r.nat {
            let ty = n.ty.value;
            let external = self.ip(&n.external_ip);
            let logical = match ty {
                NatType::Snat => match (
                    n.logical_ip.value.parse::<IpAddr>(),
                    n.logical_ip.value.contains('/'),
                ) {
                    (Ok(ip), _) => Some(ip.to_string()),
                    (Err(_), true) => self.network(&n.logical_ip).map(|n| n.to_string()),
                    (Err(_), false) => self.ip(&n.logical_ip).map(|ip| ip.to_string()),
                },
                _ => self.ip(&n.logical_ip).map(|ip| ip.to_string()),
            };
            // Distributed NAT: both keys or neither; only on dnat_and_snat.
            let mut mac = None;
            match (ty, &n.logical_port, &n.external_mac) {
                (NatType::DnatAndSnat, Some(lp), Some(em)) => {
                    mac = self.mac(em);
                    if !lsps.contains(&lp.value) {
                        self.unknown(
                            Code::RefUnknownPort,
                            "switch port",
                            lp,
                            lsps.iter().map(String::as_str),
                            "`logical-port` names the VIF that holds the floating IP",
                        );
                    }
                }
                (NatType::DnatAndSnat, Some(lp), None) => self.push(
                    Diagnostic::error(
                        Code::NatDistributedIncomplete,
                        format!("NAT {}: `logical-port` without `external-mac`", n.external_ip.value),
                    )
                    .at(lp.span, "logical-port here")
                    .help("distributed NAT needs both `logical-port` and `external-mac` (as `ovn-nbctl lr-nat-add`); drop both for centralized NAT"),
                ),
                (NatType::DnatAndSnat, None, Some(em)) => self.push(
                    Diagnostic::error(
                        Code::NatDistributedIncomplete,
                        format!("NAT {}: `external-mac` without `logical-port`", n.external_ip.value),
                    )
                    .at(em.span, "external-mac here")
                    .help("distributed NAT needs both `logical-port` and `external-mac`; drop both for centralized NAT"),
                ),
                (_, lp, em) => {
                    if let Some(s) = lp.as_ref().or(em.as_ref()) {
                        self.push(
                            Diagnostic::error(
                                Code::ValueNotAllowed,
                                format!("a {} rule cannot be distributed", ty.as_str()),
                            )
                            .at(s.span, "only for dnat_and_snat")
                            .help("`logical-port` and `external-mac` make a `dnat_and_snat` floating IP distributed"),
                        );
                    }
                }
            }
            // Which networks the external IP must be on.
            let gateway_nets: Option<Vec<IpNet>> = if gateway_router {
                if let Some(gp) = &n.gateway_port {
                    self.push(
                        Diagnostic::error(
                            Code::ValueNotAllowed,
                            format!(
                                "router `{router}` is a gateway router: NAT needs no `gateway-port`"
                            ),
                        )
                        .at(gp.span, "only for distributed routers")
                        .help("drop `gateway-port`; a gateway router does NAT on its chassis"),
                    );
                }
                Some(all_nets.clone())
            } else if let Some(gp) = &n.gateway_port {
                match self.output_port(router, gp, ports) {
                    Some((name, nets)) if dgps.contains(&name.as_str()) => Some(nets.clone()),
                    Some(_) => {
                        self.push(
                            Diagnostic::error(
                                Code::NatNoGatewayPort,
                                format!("`{}` is not a distributed gateway port", gp.value),
                            )
                            .at(gp.span, "no `gateway` on this port")
                            .help(format!(
                                "NAT runs on a port with `gateway: ...`; router `{router}` has: {}",
                                if dgps.is_empty() {
                                    "none".to_owned()
                                } else {
                                    dgps.join(", ")
                                }
                            )),
                        );
                        None
                    }
                    None => None,
                }
            } else {
                match dgps.as_slice() {
                    [] => {
                        self.push(
                            Diagnostic::error(
                                Code::NatNoGatewayPort,
                                format!("router `{router}` is distributed and has no gateway port for NAT"),
                            )
                            .at(n.ty.span, format!("{} needs a gateway", ty.as_str()))
                            .help("make the router's external port a distributed gateway port (`gateway: { chassis: {...} }` or `gateway: { ha-group: ... }`), or bind the router to a chassis (`chassis:`)"),
                        );
                        None
                    }
                    [one] => ports.get(*one).cloned(),
                    _ => {
                        self.push(
                            Diagnostic::error(
                                Code::NatAmbiguousGatewayPort,
                                format!("router `{router}` has several gateway ports; this NAT rule names none"),
                            )
                            .at(n.ty.span, "which gateway port?")
                            .help(format!("add `gateway-port: <one of {}>`", dgps.join(", "))),
                        );
                        None
                    }
                }
            };
            if let (Some(ext), Some(nets)) = (external, &gateway_nets)
                && !self.facts.incomplete_routers.contains(router)
                && !nets.is_empty()
                && !nets.iter().any(|net| net.contains(&ext))
            {
                let list = nets
                    .iter()
                    .map(|n| n.trunc().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.push(
                    Diagnostic::error(
                        Code::NatExternalIpOffNetwork,
                        format!("NAT external IP {ext} is on none of the gateway's networks ({list})"),
                    )
                    .at(n.external_ip.span, "not on the gateway's networks")
                    .help("use an address of the external network the gateway port is on, so upstream ARP finds it"),
                );
            }
            if let (Some(ext), Some(logical)) = (external, &logical) {
                let key = (ty, ext, logical.clone());
                // One external IP translates to one logical IP: a second DNAT for it would make
                // the destination ambiguous.
                if ty != NatType::Snat && !seen.contains_key(&key) {
                    if let Some((first, other)) = dnat.get(&ext) {
                        self.push(
                            Diagnostic::error(
                                Code::NatDuplicate,
                                format!("router `{router}`: external IP {ext} is already translated to {other}"),
                            )
                            .at(n.external_ip.span, format!("translated again, to {logical}"))
                            .related(*first, "first translation")
                            .help("a dnat or dnat_and_snat external IP leads to one logical IP; use another external IP"),
                        );
                    } else {
                        dnat.insert(ext, (n.external_ip.span, logical.clone()));
                    }
                }
                if let Some(first) = seen.get(&key) {
                    self.push(
                        Diagnostic::error(
                            Code::NatDuplicate,
                            format!(
                                "router `{router}`: {} {ext} <-> {logical} is given twice",
                                ty.as_str()
                            ),
                        )
                        .at(n.external_ip.span, "given again here")
                        .related(*first, "first given here")
                        .help("remove one of the two rules"),
                    );
                }
                seen.insert(key, n.external_ip.span);
                if let Some(m) = self.model.routers.get_mut(router) {
                    m.nat.push(Nat {
                        ty,
                        external_ip: ext,
                        logical_ip: logical.clone(),
                        logical_port: n.logical_port.as_ref().map(|p| p.value.clone()),
                        external_mac: mac,
                        gateway_port: n.gateway_port.as_ref().map(|p| p.value.clone()),
                    });
                }
            }
        }
    }
}

/// A floating IP (`dnat` or `dnat_and_snat`) as the checks of its physical side need it.
struct FloatingIp<'a> {
    router: &'a str,
    ip: IpAddr,
    span: Span,
    /// The switches of the router's ports on the external IP's network.
    switches: BTreeSet<&'a str>,
    /// Distributed: the VIF that holds it.
    logical_port: Option<&'a Sp<String>>,
}

impl Checker<'_> {
    /// Floating IPs against the rest of the physical network they are answered on: an
    /// external IP is one host there, so it must not be another router's floating IP, another
    /// router's port or a lab host; and a distributed one is answered from its VM's chassis,
    /// which must map that network. Networks in `typos` were reported as typos and are not
    /// checked again.
    pub(super) fn floating_ips(&mut self, typos: &BTreeSet<String>) {
        let t = self.t;
        let mut fips: Vec<FloatingIp> = Vec::new();
        for (router, r) in t.routers.iter() {
            if self.facts.incomplete_routers.contains(&router.value) {
                continue;
            }
            for n in &r.nat {
                if n.ty.value == NatType::Snat {
                    continue;
                }
                let Ok(ip) = n.external_ip.value.parse::<IpAddr>() else {
                    continue; // reported as a bad address
                };
                let switches = self
                    .facts
                    .router_ports
                    .iter()
                    .filter(|f| f.router == router.value)
                    .filter(|f| f.networks.iter().any(|(net, _)| net.contains(&ip)))
                    .filter_map(|f| f.switch.as_deref())
                    .collect();
                fips.push(FloatingIp {
                    router: &router.value,
                    ip,
                    span: n.external_ip.span,
                    switches,
                    logical_port: n
                        .logical_port
                        .as_ref()
                        .filter(|_| n.ty.value == NatType::DnatAndSnat && n.external_mac.is_some()),
                });
            }
        }
        // switch -> the physical networks of its localnet ports
        let mut localnets: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (sw, s) in t.switches.iter() {
            for (_, p) in s.ports.iter() {
                if p.ty.as_ref().map(|t| t.value) == Some(PortType::Localnet)
                    && let Some(n) = &p.network
                    && !typos.contains(&n.value)
                {
                    localnets.entry(&sw.value).or_default().push(&n.value);
                }
            }
        }
        let mut found = Vec::new();
        let mut first: BTreeMap<IpAddr, &FloatingIp> = BTreeMap::new();
        for fip in &fips {
            // The physical networks the floating IP is answered on, and every switch on them.
            let networks: BTreeSet<&str> = fip
                .switches
                .iter()
                .flat_map(|s| localnets.get(s).into_iter().flatten().copied())
                .collect();
            let segment: BTreeSet<&str> = localnets
                .iter()
                .filter(|(_, nets)| nets.iter().any(|n| networks.contains(n)))
                .map(|(s, _)| *s)
                .chain(fip.switches.iter().copied())
                .collect();
            let ip = fip.ip;
            // Another router's floating IP (one router's own duplicates are `nat`'s).
            match first.get(&ip) {
                Some(other) if other.router != fip.router => found.push(
                    Diagnostic::error(
                        Code::NatDuplicate,
                        format!(
                            "floating IP {ip} is taken by router `{}` and router `{}`",
                            other.router, fip.router
                        ),
                    )
                    .at(fip.span, format!("router `{}` claims it again here", fip.router))
                    .related(other.span, format!("first claimed by router `{}`", other.router))
                    .help("both routers would answer ARP for it on the external network: give one of them another address"),
                ),
                Some(_) => {}
                None => {
                    first.insert(ip, fip);
                }
            }
            // Another router's port on the same segment.
            if let Some((f, span)) = self
                .facts
                .router_ports
                .iter()
                .filter(|f| f.router != fip.router)
                .filter(|f| f.switch.as_deref().is_some_and(|s| segment.contains(s)))
                .find_map(|f| {
                    f.networks
                        .iter()
                        .find(|(net, _)| net.addr() == ip)
                        .map(|(_, span)| (f, *span))
                })
            {
                found.push(
                    Diagnostic::error(
                        Code::AddrDuplicateIp,
                        format!(
                            "floating IP {ip} of router `{}` is the address of router port `{}`",
                            fip.router, f.lrp
                        ),
                    )
                    .at(fip.span, "floating IP here")
                    .related(span, format!("`{}` of router `{}` has it", f.lrp, f.router))
                    .help("the router port and the floating IP would both answer ARP for it: give the floating IP another address"),
                );
            }
            // A lab host on one of those physical networks.
            let hosts = t.lab.iter().flat_map(|l| l.networks.iter());
            for (net, n) in hosts.filter(|(net, _)| networks.contains(net.value.as_str())) {
                for (host, addrs) in n.hosts.iter() {
                    for addr in addrs.value.items(addrs.span) {
                        if addr.value.parse::<IpAddr>().ok() == Some(ip) {
                            found.push(
                            Diagnostic::error(
                                Code::AddrDuplicateIp,
                                format!(
                                    "floating IP {ip} of router `{}` is the address of lab host `{}`",
                                    fip.router, host.value
                                ),
                            )
                            .at(fip.span, "floating IP here")
                            .related(addr.span, format!("host `{}` on lab network `{}`", host.value, net.value))
                            .help("give the floating IP or the host another address of the network"),
                        );
                        }
                    }
                }
            }
            // Distributed: the VM's chassis answers for it on the physical network.
            let Some(lp) = fip.logical_port else { continue };
            if networks.is_empty() {
                continue;
            }
            let vm = t
                .switches
                .iter()
                .flat_map(|(_, s)| s.ports.iter())
                .find(|(name, _)| name.value == lp.value);
            let Some(chassis) = vm.and_then(|(_, p)| p.chassis.as_ref()) else {
                continue; // unknown port, or a VM placed by another tool
            };
            let Some((_, ch)) = t.chassis.iter().find(|(c, _)| c.value == chassis.value) else {
                continue; // unknown chassis: reported elsewhere
            };
            if networks.iter().any(|n| ch.bridge_mappings.get(n).is_some()) {
                continue;
            }
            let list = networks.iter().copied().collect::<Vec<_>>().join("`, `");
            found.push(
                Diagnostic::error(
                    Code::ChassisFipUnmapped,
                    format!(
                        "distributed floating IP {ip}: chassis `{}` of `{}` does not map `{list}`, the physical network it is answered on",
                        chassis.value, lp.value
                    ),
                )
                .at(lp.span, format!("NAT happens on `{}`'s chassis, `{}`", lp.value, chassis.value))
                .related(chassis.span, format!("`{}` has no bridge to `{list}`", chassis.value))
                .help(format!(
                    "add `{}: <bridge>` to the `bridge-mappings` of chassis `{}` (a distributed floating IP sends and answers on the VM's own chassis), or drop `logical-port` and `external-mac` to do this NAT on the gateway chassis",
                    networks.first().copied().unwrap_or_default(),
                    chassis.value
                )),
            );
        }
        for d in found {
            self.push(d);
        }
    }
}

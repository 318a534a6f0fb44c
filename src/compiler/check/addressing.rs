//! Addresses on each switch: duplicate IPs and MACs, port IPs outside the switch's subnets,
//! router ports outside the subnet of the switch they connect to.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

impl Checker<'_> {
    pub(super) fn addressing(&mut self) {
        let mut out = Vec::new();
        let facts = &self.facts;
        let mut router_ports: BTreeMap<&str, Vec<&super::RouterPortFact>> = BTreeMap::new();
        for f in &facts.router_ports {
            if let Some(sw) = &f.switch {
                router_ports.entry(sw.as_str()).or_default().push(f);
            }
        }
        for (name, spec) in self.t.switches.iter() {
            let sw = &name.value;
            let declared: Vec<IpNet> = self
                .model
                .switches
                .get(sw)
                .map(|s| {
                    s.subnet
                        .map(IpNet::V4)
                        .into_iter()
                        .chain(s.ipv6_prefix.map(IpNet::V6))
                        .collect()
                })
                .unwrap_or_default();
            let declared_span = spec
                .subnet
                .as_ref()
                .or(spec.ipv6_prefix.as_ref())
                .map(|s| s.span)
                .unwrap_or(name.span);
            let ips = facts
                .switch_ips
                .get(sw)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let on_switch = router_ports
                .get(sw.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            // Router ports outside the declared subnet of their family.
            for f in on_switch {
                for (net, span) in &f.networks {
                    let same_family: Vec<&IpNet> = declared
                        .iter()
                        .filter(|d| d.addr().is_ipv4() == net.addr().is_ipv4())
                        .collect();
                    if !same_family.is_empty()
                        && !same_family.iter().any(|d| d.contains(&net.addr()))
                    {
                        let subnet = same_family
                            .iter()
                            .map(|d| d.to_string())
                            .collect::<Vec<_>>()
                            .join(", ");
                        out.push(
                            Diagnostic::error(
                                Code::AddrRouterPortOutsideSubnet,
                                format!(
                                    "router port `{}` ({net}) is outside subnet {subnet} of switch `{sw}`",
                                    f.lrp
                                ),
                            )
                            .at(*span, "outside the switch's subnet")
                            .related(declared_span, "the switch's subnet")
                            .help("give the router port an address of the switch's subnet (often its first address)"),
                        );
                    }
                }
            }
            // The subnets ordinary ports must fall in: declared ones, else the router ports'.
            let router_nets: Vec<IpNet> = on_switch
                .iter()
                .flat_map(|f| f.networks.iter().map(|(n, _)| n.trunc()))
                .collect();
            for a in ips.iter().filter(|a| !a.router) {
                let family = |n: &&IpNet| n.addr().is_ipv4() == a.ip.is_ipv4();
                let mut nets: Vec<&IpNet> = declared.iter().filter(family).collect();
                let from_router = nets.is_empty();
                if from_router {
                    nets = router_nets.iter().filter(family).collect();
                }
                if !nets.is_empty() && !nets.iter().any(|n| n.contains(&a.ip)) {
                    let list = nets
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ");
                    let d = Diagnostic::error(
                        Code::AddrOutsideSubnet,
                        format!(
                            "{} address {} is outside {list} of switch `{sw}`",
                            a.owner, a.ip
                        ),
                    )
                    .at(a.span, "outside the switch's subnet");
                    let d = if from_router {
                        d.help("the switch's subnet comes from the router ports on it; use an address of that network")
                    } else {
                        d.related(declared_span, "the switch's subnet")
                            .help("use an address of the switch's subnet, or fix the subnet")
                    };
                    out.push(d);
                }
            }
            // One IP twice on the switch.
            let mut seen: BTreeMap<IpAddr, (Span, &str)> = BTreeMap::new();
            for a in ips {
                if let Some((first, owner)) = seen.get(&a.ip) {
                    out.push(
                        Diagnostic::error(
                            Code::AddrDuplicateIp,
                            format!("{} and {owner} both use {} on switch `{sw}`", a.owner, a.ip),
                        )
                        .at(a.span, "used again here")
                        .related(*first, "first used here")
                        .help("every address on a switch belongs to one port"),
                    );
                } else {
                    seen.insert(a.ip, (a.span, &a.owner));
                }
            }
            // One MAC twice on the switch.
            let macs = facts
                .switch_macs
                .get(sw)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut seen = BTreeMap::new();
            for m in macs {
                if let Some((first, owner)) = seen.get(&m.mac) {
                    out.push(
                        Diagnostic::error(
                            Code::AddrDuplicateMac,
                            format!(
                                "{} and {owner} both use MAC {} on switch `{sw}`",
                                m.owner, m.mac
                            ),
                        )
                        .at(m.span, "used again here")
                        .related(*first, "first used here")
                        .help("every port on a switch needs its own MAC address"),
                    );
                } else {
                    seen.insert(m.mac, (m.span, m.owner.as_str()));
                }
            }
        }
        for d in out {
            self.push(d);
        }
    }
}

//! Routers and their ports: links to switches or peers, networks, MACs, gateway chassis and
//! HA groups, gateway-router rules; and the database-wide uniqueness of port names.

use std::collections::BTreeMap;

use ipnet::IpNet;

use super::{AddrFact, Checker, MacFact, RouterPortFact};
use crate::compiler::model::{Gateway, Link, Router, RouterPort};
use crate::compiler::naming::{Mac, lrp_name, router_lsp_name};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::spec::types::RouterPort as SpecPort;

impl Checker<'_> {
    pub(super) fn routers(&mut self) {
        let t = self.t;
        for (name, _) in t.routers.iter() {
            self.facts.routers.insert(name.value.clone(), name);
        }
        for (name, r) in t.routers.iter() {
            self.name("router", name);
            let mut out = Router::default();
            if let Some(ch) = &r.chassis
                && self.chassis_ref(ch)
            {
                out.chassis = Some(ch.value.clone());
            }
            for p in &r.ports {
                if let Some((lrp, port)) = self.router_port(&name.value, r.chassis.is_some(), p) {
                    out.ports.insert(lrp, port);
                }
            }
            self.model.routers.insert(name.value.clone(), out);
        }
        self.overlapping_networks();
        self.peering();
    }

    fn router_port(
        &mut self,
        router: &str,
        gateway_router: bool,
        p: &SpecPort,
    ) -> Option<(String, RouterPort)> {
        let mut ok = true;
        let (link, link_span, lrp) = match (&p.switch, &p.peer) {
            (Some(sw), None) => {
                if !self.facts.switches.contains_key(&sw.value) {
                    ok = false;
                    let known: Vec<String> = self.facts.switches.keys().cloned().collect();
                    self.unknown(
                        Code::RefUnknownSwitch,
                        "switch",
                        sw,
                        known.iter().map(String::as_str),
                        "declare it under `switches:`",
                    );
                }
                let lrp = p
                    .name
                    .as_ref()
                    .map_or_else(|| lrp_name(router, &sw.value), |n| n.value.clone());
                let lsp = p
                    .switch_port
                    .as_ref()
                    .map_or_else(|| router_lsp_name(&sw.value, router), |n| n.value.clone());
                // Connecting a router twice to one switch is reported once, as a duplicate
                // router port.
                if !self.facts.lrp_names.contains(&lrp) {
                    self.facts.lsps.push((
                        lsp,
                        sw.span,
                        format!("derived from router `{router}`'s port on `{}`", sw.value),
                    ));
                }
                (Link::Switch(sw.value.clone()), sw.span, lrp)
            }
            (None, Some(peer)) => {
                if !self.facts.routers.contains_key(&peer.value) {
                    ok = false;
                    let known: Vec<String> = self.facts.routers.keys().cloned().collect();
                    self.unknown(
                        Code::RefUnknownRouter,
                        "router",
                        peer,
                        known.iter().map(String::as_str),
                        "declare it under `routers:`",
                    );
                }
                let lrp = p
                    .name
                    .as_ref()
                    .map_or_else(|| lrp_name(router, &peer.value), |n| n.value.clone());
                // The peer's port: the one of the other router that peers back, by its name.
                let back = self
                    .t
                    .routers
                    .get(&peer.value)
                    .and_then(|o| {
                        o.ports
                            .iter()
                            .find(|q| q.peer.as_ref().is_some_and(|b| b.value == router))
                    })
                    .and_then(|q| q.name.as_ref().map(|n| n.value.clone()))
                    .unwrap_or_else(|| lrp_name(&peer.value, router));
                (
                    Link::Peer {
                        router: peer.value.clone(),
                        port: back,
                    },
                    peer.span,
                    lrp,
                )
            }
            (Some(sw), Some(peer)) => {
                self.push(
                    Diagnostic::error(
                        Code::ValueConflict,
                        format!("a port of router `{router}` has both `switch` and `peer`"),
                    )
                    .at(peer.span, "`peer` here")
                    .related(sw.span, "`switch` here")
                    .help("a router port connects to a switch or peers with one router, not both"),
                );
                return None;
            }
            (None, None) => {
                let span = p.ip.as_ref().map(|s| s.span).unwrap_or_default();
                self.missing(
                    span,
                    format!("a port of router `{router}` connects to nothing"),
                    "this port has no `switch` or `peer`",
                    "add `switch: <switch>` (or `peer: <router>`)",
                );
                return None;
            }
        };
        // A second port with this name is reported by `port_names`; its addresses would only
        // repeat that error as duplicate MACs and IPs.
        let repeated = !self.facts.lrp_names.insert(lrp.clone());
        self.facts
            .lrps
            .push((lrp.clone(), link_span, format!("port of router `{router}`")));

        let mut networks = Vec::new();
        if p.ip.is_some() && !p.ips.is_empty() {
            ok = false;
            let span = p.ips.first().map(|s| s.span).unwrap_or(link_span);
            self.push(
                Diagnostic::error(
                    Code::ValueConflict,
                    format!("router port `{lrp}` has both `ip` and `ips`"),
                )
                .at(span, "`ips` here")
                .help("use `ip` for one network or `ips` for several, not both"),
            );
        }
        for ip in p.ip.iter().chain(p.ips.iter()) {
            match self.host_cidr(ip) {
                Some(net) => networks.push((net, ip.span)),
                None => {
                    ok = false;
                    self.facts.incomplete_routers.insert(router.to_owned());
                }
            }
        }
        if networks.is_empty() && p.ip.is_none() && p.ips.is_empty() {
            ok = false;
            self.missing(
                link_span,
                format!("router port `{lrp}` has no address"),
                "this port has no `ip`",
                "add `ip: <address>/<length>`, e.g. `10.0.0.1/24`",
            );
        }
        let mac = match &p.mac {
            Some(m) => match self.mac(m) {
                Some(mac) => Some((mac, m.span)),
                None => {
                    ok = false;
                    None
                }
            },
            // The stack is part of the seed: two deployments with the same port names on one
            // physical network still get different MACs.
            None => Some((
                Mac::derived(&format!("{}/{lrp}", self.model.stack)),
                link_span,
            )),
        };
        if let (Link::Switch(sw), Some((mac, span)), false) = (&link, mac, repeated) {
            self.facts
                .switch_macs
                .entry(sw.clone())
                .or_default()
                .push(MacFact {
                    mac,
                    span,
                    owner: format!("router port `{lrp}`"),
                });
            for (net, span) in &networks {
                self.facts
                    .switch_ips
                    .entry(sw.clone())
                    .or_default()
                    .push(AddrFact {
                        ip: net.addr(),
                        span: *span,
                        owner: format!("router port `{lrp}`"),
                        router: true,
                    });
            }
        }
        let gateway = match &p.gateway {
            None => None,
            Some(g) => {
                let g_span = g.span;
                match (g.chassis.is_empty(), &g.ha_group) {
                    (false, Some(group)) => {
                        ok = false;
                        let first = g
                            .chassis
                            .iter()
                            .next()
                            .map(|(k, _)| k.span)
                            .unwrap_or(g_span);
                        self.push(
                            Diagnostic::error(
                                Code::GatewayChassisAndHaGroup,
                                format!("router port `{lrp}` has both gateway chassis and an HA chassis group"),
                            )
                            .at(group.span, "HA chassis group here")
                            .related(first, "gateway chassis here")
                            .help("OVN uses one or the other: keep `chassis: {...}` or `ha-group: ...`"),
                        );
                        None
                    }
                    (true, None) => {
                        ok = false;
                        self.missing(
                            link_span,
                            format!("router port `{lrp}` has an empty `gateway`"),
                            "gateway without chassis",
                            "give `gateway: { chassis: { <chassis>: <priority> } }` or `gateway: { ha-group: <group> }`",
                        );
                        None
                    }
                    (false, None) => {
                        let mut prios = BTreeMap::new();
                        for (ch, prio) in g.chassis.iter() {
                            ok &= self.chassis_ref(ch);
                            ok &= self.priority(prio);
                            prios.insert(ch.value.clone(), prio.value);
                        }
                        Some(Gateway::Chassis(prios))
                    }
                    (true, Some(group)) => {
                        ok &= self.ha_group_ref(group);
                        Some(Gateway::HaGroup(group.value.clone()))
                    }
                }
            }
        };
        if let (Some(g), true) = (&p.gateway, gateway_router) {
            ok = false;
            // The gateway mapping itself has no useful span; point at what it names.
            let span = g
                .chassis
                .iter()
                .next()
                .map(|(k, _)| k.span)
                .or(g.ha_group.as_ref().map(|h| h.span))
                .unwrap_or(g.span);
            self.push(
                Diagnostic::error(
                    Code::GatewayOnGatewayRouter,
                    format!("router `{router}` is a gateway router; port `{lrp}` cannot be a distributed gateway port"),
                )
                .at(span, "gateway chassis on a gateway router")
                .help("a gateway router already runs on its `chassis`; drop `gateway` here, or drop the router's `chassis` to make it distributed"),
            );
        }
        self.facts.router_ports.push(RouterPortFact {
            router: router.to_owned(),
            lrp: lrp.clone(),
            switch: match &link {
                Link::Switch(s) => Some(s.clone()),
                Link::Peer { .. } => None,
            },
            networks: networks.clone(),
        });
        let (mac, _) = mac?;
        let switch_link = matches!(link, Link::Switch(_));
        let lsp = match (&link, switch_link) {
            (Link::Switch(sw), true) => Some(
                p.switch_port
                    .as_ref()
                    .map_or_else(|| router_lsp_name(sw, router), |n| n.value.clone()),
            ),
            _ => None,
        };
        let lsp_addresses = if p.switch_port_addresses.is_empty() {
            vec!["router".to_owned()]
        } else {
            p.switch_port_addresses
                .iter()
                .map(|a| a.value.clone())
                .collect()
        };
        let nat_addresses = p.nat_addresses.as_ref().map(|n| match n.value.as_str() {
            "none" => None,
            other => Some(other.to_owned()),
        });
        if !switch_link {
            for (what, span) in [
                ("switch-port", p.switch_port.as_ref().map(|s| s.span)),
                (
                    "switch-port-addresses",
                    p.switch_port_addresses.first().map(|s| s.span),
                ),
                ("nat-addresses", p.nat_addresses.as_ref().map(|s| s.span)),
            ] {
                if let Some(span) = span {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            Code::ValueConflict,
                            format!(
                                "router port `{lrp}` peers with a router; `{what}` needs a switch"
                            ),
                        )
                        .at(span, "only for ports on a switch")
                        .help(format!("drop `{what}`, or connect the port to a switch")),
                    );
                }
            }
        }
        ok.then(|| {
            (
                lrp,
                RouterPort {
                    link,
                    mac,
                    networks: networks.into_iter().map(|(n, _)| n).collect(),
                    gateway,
                    ovsdbapp_gateway_names: p.gateway.as_ref().is_some_and(|g| {
                        g.names.as_ref().map(|n| n.value)
                            == Some(crate::spec::types::GatewayNames::Ovsdbapp)
                    }),
                    lsp,
                    lsp_addresses,
                    nat_addresses,
                    ipv6_ra: p
                        .ipv6_ra
                        .iter()
                        .map(|(k, v)| (k.value.clone(), v.value.clone()))
                        .collect(),
                },
            )
        })
    }

    /// Two ports of one router on overlapping networks make routing ambiguous. A sweep over
    /// the networks sorted by first address keeps this linear-logarithmic for routers with
    /// thousands of ports.
    fn overlapping_networks(&mut self) {
        type Entry<'f> = (u128, u128, &'f str, IpNet, Span);
        let mut by_router: BTreeMap<(&str, bool), Vec<Entry>> = BTreeMap::new();
        for f in &self.facts.router_ports {
            for (net, span) in &f.networks {
                let (lo, hi) = bounds(net);
                by_router
                    .entry((f.router.as_str(), net.addr().is_ipv4()))
                    .or_default()
                    .push((lo, hi, f.lrp.as_str(), *net, *span));
            }
        }
        let mut found = Vec::new();
        for ((router, _), mut nets) in by_router {
            // Sorted by first address, then by span so the earlier-written one comes first.
            nets.sort_by_key(|e| (e.0, e.4));
            let mut widest: Option<&Entry> = None;
            for e in &nets {
                match widest {
                    Some(w) if e.0 <= w.1 => {
                        let (first, again) = if w.4 < e.4 { (w, e) } else { (e, w) };
                        found.push(
                            Diagnostic::error(
                                Code::AddrOverlappingNetworks,
                                format!(
                                    "router `{router}`: port `{}` ({}) overlaps port `{}` ({})",
                                    again.2, again.3, first.2, first.3
                                ),
                            )
                            .at(again.4, "overlapping network")
                            .related(first.4, "overlaps this one")
                            .help("each port of a router needs its own network; give one of them another subnet"),
                        );
                        if e.1 > w.1 {
                            widest = Some(e);
                        }
                    }
                    _ => widest = Some(e),
                }
            }
        }
        found.sort_by_key(|d| d.primary.as_ref().map(|l| l.span));
        for d in found {
            self.push(d);
        }
    }

    /// Peer ports must pair up, and a gateway router does not peer with a distributed router.
    fn peering(&mut self) {
        let t = self.t;
        for (name, r) in t.routers.iter() {
            for p in &r.ports {
                let Some(peer) = &p.peer else { continue };
                let Some(other) = t.routers.get(&peer.value) else {
                    continue;
                };
                let back = other
                    .ports
                    .iter()
                    .any(|q| q.peer.as_ref().is_some_and(|b| b.value == name.value));
                if !back {
                    self.push(
                        Diagnostic::error(
                            Code::RouterOneSidedPeer,
                            format!(
                                "router `{}` peers with `{}`, but `{}` has no port peering back",
                                name.value, peer.value, peer.value
                            ),
                        )
                        .at(peer.span, "one side of the link")
                        .help(format!(
                            "add `{{ peer: {}, ip: ... }}` to the ports of router `{}`",
                            name.value, peer.value
                        )),
                    );
                }
                if r.chassis.is_some() && other.chassis.is_none() {
                    let d = Diagnostic::error(
                        Code::GatewayDirectPeering,
                        format!(
                            "gateway router `{}` is peered straight to distributed router `{}`",
                            name.value, peer.value
                        ),
                    )
                    .at(peer.span, "direct link to a distributed router")
                    .help(format!(
                        "connect them through a join switch: add a switch (e.g. `join`) and give both `{}` and `{}` a port on it",
                        name.value, peer.value
                    ));
                    let d = match &r.chassis {
                        Some(c) => d.related(c.span, "gateway router bound here"),
                        None => d,
                    };
                    self.push(d);
                }
            }
        }
    }

    /// OVN requires LSP names unique across all switches and LRP names across all routers.
    pub(super) fn port_names(&mut self) {
        let mut found = Vec::new();
        for (list, what) in [
            (&self.facts.lsps, "switch port"),
            (&self.facts.lrps, "router port"),
        ] {
            let mut seen: BTreeMap<&str, (Span, &str)> = BTreeMap::new();
            for (name, span, desc) in list {
                if let Some((first, first_desc)) = seen.get(name.as_str()) {
                    found.push(
                        Diagnostic::error(
                            Code::NameDuplicatePort,
                            format!("{what} `{name}` would exist twice"),
                        )
                        .at(*span, desc.clone())
                        .related(*first, first_desc.to_string())
                        .help(format!(
                            "OVN needs {what} names unique in the whole database; rename one, or \
                             connect a router to a switch once and list several `ips` on that port"
                        )),
                    );
                } else {
                    seen.insert(name, (*span, desc));
                }
            }
        }
        for d in found {
            self.push(d);
        }
    }
}

/// First and last address of a network, as integers (IPv4 and IPv6 alike).
fn bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

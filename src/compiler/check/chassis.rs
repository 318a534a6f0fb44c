//! Chassis and HA chassis groups: names, encapsulation, bridge mappings, priorities.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::Checker;
use crate::compiler::model::{Chassis, GatewayNeed, GatewayRole};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::spec::Sp;
use crate::spec::types::PortType;

impl Checker<'_> {
    pub(super) fn chassis(&mut self) {
        let t = self.t;
        let mut encap_ips: BTreeMap<IpAddr, (Span, String)> = BTreeMap::new();
        for (name, ch) in t.chassis.iter() {
            self.name("chassis", name);
            self.facts.chassis.insert(name.value.clone(), name);
            let managed = ch.managed.as_ref().is_none_or(|m| m.value);
            for network in &ch.unmapped_ok {
                self.name("network", network);
                if let Some(bridge) = ch.bridge_mappings.get(&network.value) {
                    let d = Diagnostic::error(
                        Code::ValueConflict,
                        format!(
                            "chassis `{}` maps network `{}` and lists it in `unmapped-ok`",
                            name.value, network.value
                        ),
                    )
                    .at(network.span, "acknowledged as not mapped here")
                    .related(bridge.span, "but mapped here")
                    .help("`unmapped-ok` is for networks the chassis does not map: remove it from one of the two");
                    self.push(d);
                }
            }
            if !managed || ch.bridge_mappings.is_empty() {
                let ok = ch.unmapped_ok.iter().map(|n| n.value.clone()).collect();
                self.facts.unverified.insert(name.value.clone(), ok);
            }
            if !managed {
                self.unmanaged_settings(name, ch);
                continue;
            }
            let Some(encap) = &ch.encap else {
                if self.misspelt_encap(name) {
                    continue; // the loader reported the typo, with `encap` as its fix
                }
                self.missing(
                    name.span,
                    format!("chassis `{}` has no `encap`", name.value),
                    "no `encap` here",
                    "give `encap: { type: geneve, ip: <tunnel address> }`, or `managed: false` \
                     for a chassis this stack does not configure",
                );
                continue;
            };
            let ip = self.ip(&encap.ip);
            if let Some(ip) = ip {
                if let Some((first, owner)) = encap_ips.get(&ip) {
                    let d = Diagnostic::error(
                        Code::AddrDuplicateIp,
                        format!(
                            "chassis `{}` and `{owner}` share the tunnel address {ip}",
                            name.value
                        ),
                    )
                    .at(encap.ip.span, "used again here")
                    .related(*first, "first used here")
                    .help("every chassis needs its own `ovn-encap-ip`");
                    self.push(d);
                } else {
                    encap_ips.insert(ip, (encap.ip.span, name.value.clone()));
                }
            }
            let mut mappings = BTreeMap::new();
            let mut bridges_used: BTreeMap<&str, Span> = BTreeMap::new();
            for (network, bridge) in ch.bridge_mappings.iter() {
                self.name("network", network);
                self.ifname("bridge", bridge);
                if let Some(first) = bridges_used.get(bridge.value.as_str()) {
                    let d = Diagnostic::error(
                        Code::ValueConflict,
                        format!(
                            "chassis `{}` maps two networks on bridge `{}`",
                            name.value, bridge.value
                        ),
                    )
                    .at(bridge.span, "mapped again here")
                    .related(*first, "first mapped here")
                    .help("ovn-controller needs one provider bridge per physical network");
                    self.push(d);
                }
                bridges_used.insert(bridge.value.as_str(), bridge.span);
                mappings.insert(network.value.clone(), bridge.value.clone());
            }
            let mut bridges = BTreeMap::new();
            for (bridge, nics) in ch.bridges.iter() {
                self.ifname("bridge", bridge);
                for nic in nics {
                    self.ifname("interface", nic);
                }
                bridges.insert(
                    bridge.value.clone(),
                    nics.iter().map(|n| n.value.clone()).collect(),
                );
            }
            for remote in [&ch.remote, &ch.ovn_remote].into_iter().flatten() {
                let ok = ["unix:", "tcp:", "ssl:"]
                    .iter()
                    .any(|p| remote.value.starts_with(p));
                if !ok {
                    self.push(
                        Diagnostic::error(
                            Code::ValueNotAllowed,
                            format!("`{}` is not an OVSDB remote", remote.value),
                        )
                        .at(remote.span, "expected `unix:`, `tcp:` or `ssl:`")
                        .help("write e.g. `unix:/var/run/openvswitch/db.sock` or `tcp:192.0.2.1:6640`"),
                    );
                }
            }
            if let Some(ip) = ip {
                self.model.chassis.insert(
                    name.value.clone(),
                    Chassis {
                        encap_type: encap.ty.value,
                        encap_ip: ip,
                        bridge_mappings: mappings,
                        bridges,
                        remote: ch.remote.as_ref().map(|r| r.value.clone()),
                        ovn_remote: ch.ovn_remote.as_ref().map(|r| r.value.clone()),
                    },
                );
            }
        }
    }

    /// Whether the loader skipped a misspelt `encap` (`encapp`) in chassis `name`: between
    /// its name and the next chassis's.
    fn misspelt_encap(&self, name: &Sp<String>) -> bool {
        let next = self
            .t
            .chassis
            .iter()
            .map(|(n, _)| n.span.offset)
            .filter(|o| *o > name.span.offset)
            .min()
            .unwrap_or(usize::MAX);
        self.t.unknown_keys.iter().any(|(span, object, key)| {
            object == "chassis"
                && (name.span.offset..next).contains(&span.offset)
                && did_you_mean(key, ["encap"]).is_some()
        })
    }

    /// A `managed: false` chassis is only a name: topo writes nothing there, so a setting
    /// would be silently ignored.
    fn unmanaged_settings(&mut self, name: &Sp<String>, ch: &crate::spec::types::Chassis) {
        let mut given: Vec<(&str, Span)> = Vec::new();
        if let Some(e) = &ch.encap {
            given.push(("encap", e.span));
        }
        if let Some((n, _)) = ch.bridge_mappings.iter().next() {
            given.push(("bridge-mappings", n.span));
        }
        if let Some((b, _)) = ch.bridges.iter().next() {
            given.push(("bridges", b.span));
        }
        if let Some(r) = &ch.remote {
            given.push(("remote", r.span));
        }
        if let Some(r) = &ch.ovn_remote {
            given.push(("ovn-remote", r.span));
        }
        for (key, span) in given {
            self.push(
                Diagnostic::error(
                    Code::ChassisUnmanagedSettings,
                    format!(
                        "chassis `{}` is `managed: false` but sets `{key}`",
                        name.value
                    ),
                )
                .at(span, "topo writes nothing on an unmanaged chassis")
                .help(format!(
                    "remove `{key}`, or remove `managed: false` so that apply configures the chassis"
                )),
            );
        }
    }

    pub(super) fn ha_groups(&mut self) {
        let t = self.t;
        for (group, members) in t.ha_chassis_groups.iter() {
            self.name("HA chassis group", group);
            self.facts.ha_groups.insert(group.value.clone(), group);
            if members.is_empty() {
                self.missing(
                    group.span,
                    format!("HA chassis group `{}` has no chassis", group.value),
                    "empty group",
                    "list its chassis with priorities, e.g. `ha1: { gw1: 20, gw2: 10 }`",
                );
            }
            let mut out = BTreeMap::new();
            for (chassis, prio) in members.iter() {
                self.chassis_ref(chassis);
                self.priority(prio);
                out.insert(chassis.value.clone(), prio.value);
            }
            self.model.ha_groups.insert(group.value.clone(), out);
        }
    }

    /// Physical networks: a localnet network no chassis maps (warning), an l2gateway chassis
    /// that does not map its network, two localnets of one switch on one chassis, a gateway
    /// (gateway router or distributed gateway port) on a chassis that cannot reach the
    /// physical network of its switch.
    pub(super) fn physical_networks(&mut self) {
        let typos = self.network_typos();
        self.gateway_mappings(&typos);
        self.vif_mappings(&typos);
        self.floating_ips(&typos);
        let t = self.t;
        let mapped_by = |network: &str| -> Vec<String> {
            t.chassis
                .iter()
                .filter(|(_, c)| c.bridge_mappings.get(network).is_some())
                .map(|(n, _)| n.value.clone())
                .collect()
        };
        for (sw, s) in t.switches.iter() {
            // chassis -> (network, span of the localnet port's network)
            let mut on_chassis: BTreeMap<String, (String, Span, String)> = BTreeMap::new();
            for (port, p) in s.ports.iter() {
                let Some(ty) = p.ty.as_ref().map(|t| t.value) else {
                    continue;
                };
                let Some(network) = &p.network else { continue };
                if typos.contains(&network.value) {
                    continue; // reported once, as the typo it is
                }
                let chassis = mapped_by(&network.value);
                match ty {
                    crate::spec::types::PortType::Localnet => {
                        if chassis.is_empty() {
                            let d = Diagnostic::warning(
                                Code::ChassisUnmappedNetwork,
                                format!(
                                    "localnet port `{}` uses network `{}`, which no declared chassis maps",
                                    port.value, network.value
                                ),
                            )
                            .at(network.span, "not in any chassis's `bridge-mappings`")
                            .help(format!(
                                "add `{}: <bridge>` to the `bridge-mappings` of the chassis that \
                                 reach it (fine if those chassis are managed elsewhere)",
                                network.value
                            ));
                            self.push(d);
                        }
                        for ch in chassis {
                            if let Some((first_net, first_span, first_port)) = on_chassis.get(&ch) {
                                let d = Diagnostic::error(
                                    Code::ChassisLocalnetConflict,
                                    format!(
                                        "switch `{}` has two localnet ports on chassis `{ch}`: `{first_port}` ({first_net}) and `{}` ({})",
                                        sw.value, port.value, network.value
                                    ),
                                )
                                .at(network.span, format!("chassis `{ch}` maps this network"))
                                .related(*first_span, format!("and this one, also on `{ch}`"))
                                .help(
                                    "a chassis may bridge a switch to one physical network only; \
                                     map only one of these networks on that chassis",
                                );
                                self.push(d);
                            } else {
                                on_chassis.insert(
                                    ch,
                                    (network.value.clone(), network.span, port.value.clone()),
                                );
                            }
                        }
                    }
                    crate::spec::types::PortType::L2gateway => {
                        let Some(gw) = &p.chassis else { continue };
                        if !self.facts.chassis.contains_key(&gw.value) {
                            continue; // reported as unknown chassis
                        }
                        if let Some(ok) = self.facts.unverified.get(&gw.value) {
                            let need = GatewayNeed {
                                chassis: gw.value.clone(),
                                port: port.value.clone(),
                                what: format!("l2gateway chassis of `{}`", port.value),
                                networks: vec![network.value.clone()],
                                role: GatewayRole::Only,
                                acknowledged: ok.contains(&network.value),
                            };
                            self.push(unverified(&need, gw.span));
                            self.model.gateway_needs.push(need);
                            continue;
                        }
                        if !chassis.contains(&gw.value) {
                            let d = Diagnostic::error(
                                Code::ChassisL2gatewayUnmapped,
                                format!(
                                    "l2gateway port `{}`: chassis `{}` does not map network `{}`",
                                    port.value, gw.value, network.value
                                ),
                            )
                            .at(network.span, "not mapped on the gateway chassis")
                            .related(gw.span, "the gateway chassis")
                            .help(format!(
                                "add `{}: <bridge>` to the `bridge-mappings` of chassis `{}`",
                                network.value, gw.value
                            ));
                            self.push(d);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// A port's network that no chassis maps but that is close to one they do (`provder` for
    /// `provider`) is a typo: one error there, with the name it likely meant. The chassis that
    /// then seem unable to reach it are not reported, nor is the network as merely unmapped:
    /// they follow from the typo. Returns those networks.
    fn network_typos(&mut self) -> BTreeSet<String> {
        let t = self.t;
        let mapped: BTreeSet<&str> = t
            .chassis
            .iter()
            .flat_map(|(_, c)| c.bridge_mappings.iter().map(|(n, _)| n.value.as_str()))
            .collect();
        let mut typos = BTreeSet::new();
        let mut found = Vec::new();
        for (_, s) in t.switches.iter() {
            for (port, p) in s.ports.iter() {
                let ty = p.ty.as_ref().map(|t| t.value);
                if !matches!(ty, Some(PortType::Localnet | PortType::L2gateway)) {
                    continue;
                }
                let Some(network) = &p.network else { continue };
                if mapped.contains(network.value.as_str()) {
                    continue;
                }
                // `physnet2` next to `physnet1` is another network of a numbered family (managed
                // elsewhere, perhaps), not a typo.
                let digitless = |n: &str| n.replace(|c: char| c.is_ascii_digit(), "");
                let Some(meant) = did_you_mean(&network.value, mapped.iter().copied())
                    .filter(|m| digitless(m) != digitless(&network.value))
                else {
                    continue;
                };
                typos.insert(network.value.clone());
                found.push(
                    Diagnostic::error(
                        Code::RefUnknownNetwork,
                        format!(
                            "{} port `{}` names network `{}`, which no chassis maps: did you mean `{meant}`?",
                            ty.map_or("vif", PortType::word),
                            port.value,
                            network.value
                        ),
                    )
                    .at(network.span, "no chassis maps this network")
                    .help(format!(
                        "write `network: {meant}` (the chassis's `bridge-mappings` name `{meant}`), \
                         or map `{}` on the chassis that reach it",
                        network.value
                    )),
                );
            }
        }
        for d in found {
            self.push(d);
        }
        typos
    }

    /// A gateway reaches the physical network through a localnet port of the switch it is
    /// on; its chassis must map that network (`ovn-bridge-mappings`), or traffic is dropped
    /// there. As the seed tutorial puts it: the mapping is set on the chassis named by the
    /// gateway router's `options:chassis`.
    fn gateway_mappings(&mut self, typos: &BTreeSet<String>) {
        let t = self.t;
        // switch -> the networks of its localnet ports
        let mut localnets: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (sw, s) in t.switches.iter() {
            for (_, p) in s.ports.iter() {
                if p.ty.as_ref().map(|t| t.value) == Some(crate::spec::types::PortType::Localnet)
                    && let Some(n) = &p.network
                    && !typos.contains(&n.value)
                {
                    localnets
                        .entry(sw.value.as_str())
                        .or_default()
                        .push(n.value.as_str());
                }
            }
        }
        let maps = |chassis: &str, nets: &[&str]| -> bool {
            t.chassis
                .iter()
                .find(|(c, _)| c.value == chassis)
                .is_some_and(|(_, c)| nets.iter().any(|n| c.bridge_mappings.get(n).is_some()))
        };
        let mut found = Vec::new();
        for (router, r) in t.routers.iter() {
            for p in &r.ports {
                let Some(sw) = &p.switch else { continue };
                let Some(nets) = localnets.get(sw.value.as_str()) else {
                    continue;
                };
                let lrp = p.name.as_ref().map_or_else(
                    || crate::compiler::naming::lrp_name(&router.value, &sw.value),
                    |n| n.value.clone(),
                );
                // (chassis, where it is named, what names it, its role)
                let mut gateways: Vec<(&str, Span, String, GatewayRole)> = Vec::new();
                if let Some(c) = &r.chassis {
                    gateways.push((
                        c.value.as_str(),
                        c.span,
                        format!("gateway router `{}`", router.value),
                        GatewayRole::Only,
                    ));
                }
                if let Some(g) = &p.gateway {
                    let prios: Vec<i64> = g.chassis.iter().map(|(_, p)| p.value).collect();
                    for (c, prio) in g.chassis.iter() {
                        gateways.push((
                            c.value.as_str(),
                            c.span,
                            format!("gateway chassis of `{lrp}`, priority {}", prio.value),
                            role(prio.value, &prios),
                        ));
                    }
                    if let Some(group) = &g.ha_group {
                        let members = t.ha_chassis_groups.get(&group.value);
                        let prios: Vec<i64> = members
                            .iter()
                            .flat_map(|m| m.iter())
                            .map(|(_, p)| p.value)
                            .collect();
                        for (c, prio) in members.iter().flat_map(|m| m.iter()) {
                            gateways.push((
                                c.value.as_str(),
                                c.span,
                                format!(
                                    "member of HA chassis group `{}` of `{lrp}`, priority {}",
                                    group.value, prio.value
                                ),
                                role(prio.value, &prios),
                            ));
                        }
                    }
                }
                for (chassis, span, what, role) in gateways {
                    if !self.facts.chassis.contains_key(chassis) {
                        continue;
                    }
                    if let Some(ok) = self.facts.unverified.get(chassis) {
                        let need = GatewayNeed {
                            chassis: chassis.to_owned(),
                            port: lrp.clone(),
                            what,
                            networks: nets.iter().map(|n| (*n).to_owned()).collect(),
                            role,
                            acknowledged: nets.iter().any(|n| ok.contains(*n)),
                        };
                        found.push(unverified(&need, span));
                        self.model.gateway_needs.push(need);
                        continue;
                    }
                    if maps(chassis, nets) {
                        continue;
                    }
                    let list = nets.join("`, `");
                    found.push(
                        Diagnostic::error(
                            Code::ChassisGatewayUnmapped,
                            format!(
                                "chassis `{chassis}` ({what}) does not map `{list}`, the physical network of switch `{}`",
                                sw.value
                            ),
                        )
                        .at(span, format!("`{chassis}` cannot reach `{list}`"))
                        .related(sw.span, "the gateway's switch, with a localnet port")
                        .help(format!(
                            "add `{}: <bridge>` to the `bridge-mappings` of chassis `{chassis}`",
                            nets.first().copied().unwrap_or_default()
                        )),
                    );
                }
            }
        }
        for d in found {
            self.push(d);
        }
    }

    /// On a switch with a localnet port, the physical network is the way out of a chassis:
    /// a VM bound to a chassis that does not map it cannot reach the physical network.
    fn vif_mappings(&mut self, typos: &BTreeSet<String>) {
        let t = self.t;
        let mut found = Vec::new();
        for (sw, s) in t.switches.iter() {
            let nets: Vec<&str> = s
                .ports
                .iter()
                .filter(|(_, p)| {
                    p.ty.as_ref().map(|t| t.value) == Some(crate::spec::types::PortType::Localnet)
                })
                .filter_map(|(_, p)| p.network.as_ref().map(|n| n.value.as_str()))
                .filter(|n| !typos.contains(*n))
                .collect();
            if nets.is_empty() {
                continue;
            }
            for (port, p) in s.ports.iter() {
                let vif =
                    p.ty.as_ref()
                        .map(|t| t.value)
                        .unwrap_or(crate::spec::types::PortType::Vif)
                        == crate::spec::types::PortType::Vif;
                let Some(chassis) = p.chassis.as_ref().filter(|_| vif) else {
                    continue;
                };
                let Some((_, ch)) = t.chassis.iter().find(|(c, _)| c.value == chassis.value) else {
                    continue; // unknown chassis: reported elsewhere
                };
                if nets.iter().any(|n| ch.bridge_mappings.get(n).is_some()) {
                    continue;
                }
                let list = nets.join("`, `");
                found.push(
                    Diagnostic::warning(
                        Code::ChassisVifUnmapped,
                        format!(
                            "port `{}` is bound to chassis `{}`, which does not map `{list}`, the physical network of switch `{}`",
                            port.value, chassis.value, sw.value
                        ),
                    )
                    .at(chassis.span, format!("`{}` has no bridge to `{list}`", chassis.value))
                    .help(format!(
                        "add `{}: <bridge>` to the `bridge-mappings` of chassis `{}`, or bind the port to a chassis that maps it",
                        nets.first().copied().unwrap_or_default(),
                        chassis.value
                    )),
                );
            }
        }
        for d in found {
            self.push(d);
        }
    }
}

/// A chassis's role among a gateway's candidates with these priorities: OVN makes the
/// highest the active one.
fn role(prio: i64, all: &[i64]) -> GatewayRole {
    if all.len() <= 1 {
        GatewayRole::Only
    } else if all.iter().all(|p| *p <= prio) {
        GatewayRole::Active
    } else {
        GatewayRole::Backup
    }
}

/// The warning for a gateway whose chassis's mappings the topology does not declare: what
/// plan will check, and what it will do when the chassis lacks the network.
fn unverified(need: &GatewayNeed, span: Span) -> Diagnostic {
    let list = need.networks.join("`, `");
    let chassis = &need.chassis;
    let then = if need.acknowledged {
        format!(
            "acknowledged by `unmapped-ok` on chassis `{chassis}`: if the Southbound shows it \
             without `{list}`, plan and apply warn and go on"
        )
    } else if need.role == GatewayRole::Backup {
        format!(
            "a backup: if the Southbound shows it without `{list}`, plan and apply warn and go on"
        )
    } else {
        format!(
            "if the Southbound shows it without `{list}`, plan and apply refuse (the gateway's \
             traffic would be dropped there): map it on the chassis, or add `unmapped-ok: \
             [{}]` to chassis `{chassis}` to apply anyway",
            need.networks.first().map_or("", String::as_str)
        )
    };
    Diagnostic::warning(
        Code::ChassisGatewayUnverified,
        format!(
            "chassis `{chassis}` ({}, {}) needs `{list}`, but its bridge mappings are not in \
             this topology: plan checks them in the Southbound",
            need.what,
            need.role.word()
        ),
    )
    .at(span, format!("`{chassis}` must map `{list}`"))
    .help(then)
}

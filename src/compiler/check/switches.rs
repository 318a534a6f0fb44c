//! Switches and their ports: subnets, port types and the keys each type takes, addresses,
//! port security, and references to chassis, HA groups and sibling ports.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{AddrFact, Checker, MacFact};
use crate::compiler::model::{Switch, SwitchPort};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::spec::Sp;
use crate::spec::types::{Port, PortSecurity, PortType};

/// Which optional keys a port type takes, and which it needs.
fn keys(ty: PortType) -> (&'static [&'static str], &'static [&'static str]) {
    match ty {
        PortType::Vif => (
            &[
                "mac",
                "ip",
                "ips",
                "dynamic",
                "unknown",
                "port-security",
                "chassis",
                "enabled",
                "dhcp",
            ],
            &[],
        ),
        PortType::Localnet => (&["network", "tag", "enabled"], &["network"]),
        PortType::Localport => (&["mac", "ip", "ips", "port-security", "enabled"], &["mac"]),
        PortType::L2gateway => (
            &["network", "chassis", "tag", "enabled"],
            &["network", "chassis"],
        ),
        PortType::Vtep => (
            &["vtep-physical-switch", "vtep-logical-switch", "enabled"],
            &["vtep-physical-switch", "vtep-logical-switch"],
        ),
        PortType::External => (
            &["mac", "ip", "ips", "port-security", "ha-group", "enabled"],
            &["mac", "ha-group"],
        ),
        PortType::Virtual => (&["mac", "ip", "parents", "enabled"], &["ip", "parents"]),
        PortType::Router => (&[], &[]),
    }
}

/// The keys written on a port, with the span of each value.
fn written(p: &Port) -> Vec<(&'static str, Span)> {
    let mut v = Vec::new();
    let mut add = |k: &'static str, s: Option<Span>| {
        if let Some(s) = s {
            v.push((k, s));
        }
    };
    add("mac", p.mac.as_ref().map(|x| x.span));
    add("ip", p.ip.as_ref().map(|x| x.span));
    add("ips", p.ips.first().map(|x| x.span));
    add("dynamic", p.dynamic.as_ref().map(|x| x.span));
    add("unknown", p.unknown.as_ref().map(|x| x.span));
    add("port-security", p.port_security.as_ref().map(|x| x.span));
    add("chassis", p.chassis.as_ref().map(|x| x.span));
    add("network", p.network.as_ref().map(|x| x.span));
    add("tag", p.tag.as_ref().map(|x| x.span));
    add("ha-group", p.ha_group.as_ref().map(|x| x.span));
    add(
        "vtep-physical-switch",
        p.vtep_physical_switch.as_ref().map(|x| x.span),
    );
    add(
        "vtep-logical-switch",
        p.vtep_logical_switch.as_ref().map(|x| x.span),
    );
    add("parents", p.parents.first().map(|x| x.span));
    add("enabled", p.enabled.as_ref().map(|x| x.span));
    add("dhcp", p.dhcp.as_ref().map(|x| x.span));
    v
}

impl Checker<'_> {
    pub(super) fn switches(&mut self) {
        let t = self.t;
        for (name, _) in t.switches.iter() {
            self.facts.switches.insert(name.value.clone(), name);
        }
        for (name, sw) in t.switches.iter() {
            self.name("switch", name);
            let mut out = Switch::default();
            if let Some(subnet) = &sw.subnet {
                match self.network(subnet) {
                    Some(IpNet::V4(n)) => out.subnet = Some(n),
                    Some(IpNet::V6(_)) => self.push(
                        Diagnostic::error(
                            Code::AddrBadCidr,
                            format!("`subnet` of switch `{}` must be IPv4", name.value),
                        )
                        .at(subnet.span, "an IPv6 network")
                        .help("OVN's `other_config:subnet` is IPv4; write IPv6 as `ipv6-prefix`"),
                    ),
                    None => {}
                }
            }
            if let Some(prefix) = &sw.ipv6_prefix {
                // ovn-nb(5) writes the prefix as an address (`fd00:9::`), OVN's /64.
                let bare = !prefix.value.contains('/')
                    && prefix.value.parse::<std::net::Ipv6Addr>().is_ok();
                let with_length = Sp {
                    value: format!("{}/64", prefix.value),
                    span: prefix.span,
                };
                out.ipv6_prefix_bare = bare;
                match self.network(if bare { &with_length } else { prefix }) {
                    Some(IpNet::V6(n)) => out.ipv6_prefix = Some(n),
                    Some(IpNet::V4(_)) => self.push(
                        Diagnostic::error(
                            Code::AddrBadCidr,
                            format!("`ipv6-prefix` of switch `{}` must be IPv6", name.value),
                        )
                        .at(prefix.span, "an IPv4 network")
                        .help("write IPv4 networks as `subnet`"),
                    ),
                    None => {}
                }
            }
            // A subnet that failed to parse was reported already; do not add "no subnet".
            let subnet_written = sw.subnet.is_some();
            for ex in &sw.exclude_ips {
                if out.subnet.is_none() && subnet_written {
                    continue;
                }
                self.exclude_ip(name, out.subnet.map(IpNet::V4), ex);
                out.exclude_ips.push(ex.value.clone());
            }
            for (port, p) in sw.ports.iter() {
                if let Some(sp) = self.port(name, port, p) {
                    out.ports.insert(port.value.clone(), sp);
                }
            }
            self.model.switches.insert(name.value.clone(), out);
        }
    }

    /// `a.b.c.d` or `a.b.c.d..e.f.g.h`, inside the switch subnet.
    fn exclude_ip(&mut self, sw: &Sp<String>, subnet: Option<IpNet>, ex: &Sp<String>) {
        let parts: Vec<&str> = ex.value.split("..").collect();
        let ips: Vec<Option<IpAddr>> = parts.iter().map(|p| p.parse().ok()).collect();
        let ok = matches!(parts.len(), 1 | 2) && ips.iter().all(Option::is_some);
        if !ok {
            self.push(
                Diagnostic::error(
                    Code::AddrBadIp,
                    format!("`{}` is not an address or address range", ex.value),
                )
                .at(ex.span, "expected `a.b.c.d` or `a.b.c.d..e.f.g.h`")
                .help("exclude-ips entries are IPv4 addresses or ranges, as in `other_config:exclude_ips`"),
            );
            return;
        }
        match subnet {
            Some(net) => {
                if ips.iter().flatten().any(|ip| !net.contains(ip)) {
                    self.push(
                        Diagnostic::error(
                            Code::AddrOutsideSubnet,
                            format!(
                                "`{}` is outside subnet {net} of switch `{}`",
                                ex.value, sw.value
                            ),
                        )
                        .at(ex.span, "outside the subnet")
                        .help("exclude addresses of the switch's own subnet"),
                    );
                }
            }
            None => self.push(
                Diagnostic::error(
                    Code::ValueNotAllowed,
                    format!(
                        "switch `{}` has `exclude-ips` but no IPv4 `subnet`",
                        sw.value
                    ),
                )
                .at(ex.span, "nothing to exclude from")
                .help("exclude-ips only applies to the dynamic addresses of `subnet`"),
            ),
        }
    }

    fn port(&mut self, sw: &Sp<String>, name: &Sp<String>, p: &Port) -> Option<SwitchPort> {
        self.name("port", name);
        let ty = p.ty.as_ref().map(|t| t.value).unwrap_or(PortType::Vif);
        self.facts.lsps.push((
            name.value.clone(),
            name.span,
            format!("port of switch `{}`", sw.value),
        ));
        if ty == PortType::Router {
            let span = p.ty.as_ref().map(|t| t.span).unwrap_or(name.span);
            self.push(
                Diagnostic::error(
                    Code::PortRouterByHand,
                    format!("port `{}` is written as a router port", name.value),
                )
                .at(span, "router ports are derived")
                .help(format!(
                    "connect a router instead: `routers: {{ <router>: {{ ports: [{{ switch: {}, ip: ... }}] }} }}` creates `{}-<router>`",
                    sw.value, sw.value
                )),
            );
            return None;
        }
        let (allowed, required) = keys(ty);
        let written = written(p);
        let mut ok = true;
        for (key, span) in &written {
            if !allowed.contains(key) {
                ok = false;
                self.push(
                    Diagnostic::error(
                        Code::ValueNotAllowed,
                        format!("`{key}` has no meaning on a {} port", ty.word()),
                    )
                    .at(*span, format!("not used by {} ports", ty.word()))
                    .help(format!(
                        "a {} port takes: `{}`",
                        ty.word(),
                        allowed.join("`, `")
                    )),
                );
            }
        }
        for key in required {
            if !written.iter().any(|(k, _)| k == key) {
                ok = false;
                self.missing(
                    name.span,
                    format!("{} port `{}` needs `{key}`", ty.word(), name.value),
                    &format!("`{key}` missing"),
                    &format!("add `{key}: ...` to port `{}`", name.value),
                );
            }
        }
        if p.ip.is_some() && !p.ips.is_empty() {
            ok = false;
            let span = p.ips.first().map(|s| s.span).unwrap_or(name.span);
            self.push(
                Diagnostic::error(
                    Code::ValueConflict,
                    format!("port `{}` has both `ip` and `ips`", name.value),
                )
                .at(span, "`ips` here")
                .related(
                    p.ip.as_ref().map(|s| s.span).unwrap_or(name.span),
                    "`ip` here",
                )
                .help("use `ip` for one address or `ips` for several, not both"),
            );
        }
        let mac = match &p.mac {
            Some(m) => {
                let mac = self.mac(m);
                if let Some(mac) = mac {
                    self.facts
                        .switch_macs
                        .entry(sw.value.clone())
                        .or_default()
                        .push(MacFact {
                            mac,
                            span: m.span,
                            owner: format!("port `{}`", name.value),
                        });
                }
                ok &= mac.is_some();
                mac
            }
            None => None,
        };
        let mut ips = Vec::new();
        for ip in p.ip.iter().chain(p.ips.iter()) {
            match self.ip(ip) {
                Some(a) => {
                    ips.push(a);
                    self.facts
                        .switch_ips
                        .entry(sw.value.clone())
                        .or_default()
                        .push(AddrFact {
                            ip: a,
                            span: ip.span,
                            owner: format!("port `{}`", name.value),
                            router: false,
                        });
                }
                None => ok = false,
            }
        }
        let dynamic = p.dynamic.as_ref().is_some_and(|d| d.value);
        if ty == PortType::Vif {
            if let (Some(d), true) = (&p.dynamic, dynamic && !ips.is_empty()) {
                ok = false;
                self.push(
                    Diagnostic::error(
                        Code::ValueConflict,
                        format!("port `{}` has fixed IPs and `dynamic: true`", name.value),
                    )
                    .at(d.span, "dynamic here")
                    .help("OVN assigns the IPs of a dynamic port; drop `ip`/`ips` or `dynamic`"),
                );
            }
            let unknown = p.unknown.as_ref().is_some_and(|u| u.value);
            if mac.is_none() && !dynamic && !unknown && p.mac.is_none() {
                ok = false;
                self.missing(
                    name.span,
                    format!("port `{}` has no address", name.value),
                    "no `mac`, `dynamic` or `unknown`",
                    "give the VM's `mac` (and `ip`), or `dynamic: true` to let OVN assign them",
                );
            }
            if !ips.is_empty() && p.mac.is_none() {
                ok = false;
                self.missing(
                    name.span,
                    format!("port `{}` has IPs but no `mac`", name.value),
                    "`mac` missing",
                    "OVN addresses start with the MAC: add `mac: ...`",
                );
            }
        }
        if let Some(c) = &p.chassis {
            ok &= self.chassis_ref(c);
        }
        if let Some(g) = &p.ha_group {
            ok &= self.ha_group_ref(g);
        }
        if let Some(n) = &p.network {
            ok &= self.name("network", n);
        }
        if let Some(tag) = &p.tag
            && !(1..=4095).contains(&tag.value)
        {
            ok = false;
            self.push(
                Diagnostic::error(
                    Code::ValueVlanRange,
                    format!("VLAN tag {} is outside 1..4095", tag.value),
                )
                .at(tag.span, "not a VLAN id")
                .help("802.1Q VLAN ids are 1 to 4095; leave `tag` out for an untagged network"),
            );
        }
        if ty == PortType::Virtual {
            for parent in &p.parents {
                let found = self
                    .t
                    .switches
                    .get(&sw.value)
                    .is_some_and(|s| s.ports.get(&parent.value).is_some());
                if !found {
                    ok = false;
                    let known: Vec<String> = self
                        .t
                        .switches
                        .get(&sw.value)
                        .map(|s| s.ports.iter().map(|(k, _)| k.value.clone()).collect())
                        .unwrap_or_default();
                    self.unknown(
                        Code::RefUnknownPort,
                        "port",
                        parent,
                        known.iter().map(String::as_str),
                        &format!(
                            "a virtual port's parents are ports of switch `{}`",
                            sw.value
                        ),
                    );
                }
            }
        }
        let port_security = match p.port_security.as_ref().map(|s| &s.value) {
            None | Some(PortSecurity::Enabled(false)) => Vec::new(),
            Some(PortSecurity::Enabled(true)) => {
                if dynamic || mac.is_none() {
                    ok = false;
                    let span = p
                        .port_security
                        .as_ref()
                        .map(|s| s.span)
                        .unwrap_or(name.span);
                    self.push(
                        Diagnostic::error(
                            Code::ValueConflict,
                            format!(
                                "port `{}`: `port-security: true` needs a fixed `mac`",
                                name.value
                            ),
                        )
                        .at(span, "nothing fixed to secure")
                        .help("give `mac` (and `ip`), or list the allowed addresses explicitly"),
                    );
                    Vec::new()
                } else {
                    vec![address_string(mac, &ips)]
                }
            }
            Some(PortSecurity::Explicit(entries)) => {
                for e in entries {
                    ok &= self.port_security_entry(e);
                }
                entries.iter().map(|e| e.value.clone()).collect()
            }
        };
        ok.then(|| SwitchPort {
            kind: ty,
            mac,
            ips,
            dynamic,
            unknown: p.unknown.as_ref().is_some_and(|u| u.value),
            port_security,
            chassis: p.chassis.as_ref().map(|c| c.value.clone()),
            network: p.network.as_ref().map(|c| c.value.clone()),
            tag: p.tag.as_ref().map(|c| c.value),
            ha_group: p.ha_group.as_ref().map(|c| c.value.clone()),
            vtep_physical_switch: p.vtep_physical_switch.as_ref().map(|c| c.value.clone()),
            vtep_logical_switch: p.vtep_logical_switch.as_ref().map(|c| c.value.clone()),
            parents: p.parents.iter().map(|c| c.value.clone()).collect(),
            enabled: p.enabled.as_ref().map(|c| c.value),
            no_dhcp: p.dhcp.as_ref().is_some_and(|d| !d.value),
        })
    }

    /// `"<mac> [ip[/len]...]"`.
    fn port_security_entry(&mut self, e: &Sp<String>) -> bool {
        let mut words = e.value.split_whitespace();
        let mac_ok = words
            .next()
            .is_some_and(|m| m.parse::<crate::compiler::naming::Mac>().is_ok());
        let ips_ok = words.all(|w| w.parse::<IpAddr>().is_ok() || w.parse::<IpNet>().is_ok());
        if mac_ok && ips_ok {
            return true;
        }
        self.push(
            Diagnostic::error(
                Code::AddrBadMac,
                format!("`{}` is not a port security entry", e.value),
            )
            .at(e.span, "expected `<mac> [ip...]`")
            .help("each entry is a MAC followed by the IPs (or networks) allowed from it"),
        );
        false
    }
}

/// `"<mac> <ip> <ip>"`, as OVN's `addresses` and `port_security` hold it.
pub(crate) fn address_string(mac: Option<crate::compiler::naming::Mac>, ips: &[IpAddr]) -> String {
    let mut words: Vec<String> = mac.iter().map(ToString::to_string).collect();
    words.extend(ips.iter().map(ToString::to_string));
    words.join(" ")
}

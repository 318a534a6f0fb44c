//! Semantic checks: every mistake in a loaded topology, reported at once.
//!
//! The passes run in a fixed order (chassis, HA groups, switches, routers, names, addressing,
//! routes and NAT, security and services, physical networks, lab) and each records what later passes need. A pass
//! never stops at the first problem. When no error was found, the collected facts form the
//! validated [`Model`]; warnings do not prevent it.

mod addressing;
mod chassis;
mod dhcp;
mod lab;
mod matches;
mod routers;
mod routing;
mod services;
mod switches;
mod vtep;

pub(crate) use switches::address_string;

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::model::Model;
use super::naming::Mac;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::source::Span;
use crate::spec::Sp;
use crate::spec::types::Topology;

/// Checks a loaded topology; the model is `Some` when there is no error.
pub fn check(topology: &Topology) -> (Option<Model>, Diagnostics) {
    let mut c = Checker {
        t: topology,
        diags: Diagnostics::new(),
        model: Model::default(),
        facts: Facts::default(),
    };
    c.stack();
    c.chassis();
    c.ha_groups();
    c.switches();
    c.routers();
    c.vteps();
    c.port_names();
    c.addressing();
    c.routing();
    c.services();
    c.physical_networks();
    c.lab();
    let diags = c.diags.sorted();
    let model = (!diags.has_errors()).then_some(c.model);
    (model, diags)
}

/// What a pass learned that later passes need, with the spans to point at.
#[derive(Default)]
struct Facts<'a> {
    /// chassis -> its name as written
    chassis: BTreeMap<String, &'a Sp<String>>,
    /// Chassis whose `ovn-bridge-mappings` the topology does not declare (`managed: false`,
    /// or no `bridge-mappings`) -> the networks their `unmapped-ok` acknowledges.
    unverified: BTreeMap<String, std::collections::BTreeSet<String>>,
    ha_groups: BTreeMap<String, &'a Sp<String>>,
    switches: BTreeMap<String, &'a Sp<String>>,
    routers: BTreeMap<String, &'a Sp<String>>,
    /// Every logical switch port, user-written or derived: name -> (span, description).
    lsps: Vec<(String, Span, String)>,
    /// Every logical router port: name -> (span, description).
    lrps: Vec<(String, Span, String)>,
    /// Routers with a port whose address did not parse: their connected networks are not
    /// known, so checks that need them stay quiet rather than repeat the error.
    incomplete_routers: std::collections::HashSet<String>,
    /// The names in `lrps`, for lookups.
    lrp_names: std::collections::HashSet<String>,
    /// Router ports in topology order.
    router_ports: Vec<RouterPortFact>,
    /// Addresses on each switch: switch -> entries.
    switch_ips: BTreeMap<String, Vec<AddrFact>>,
    switch_macs: BTreeMap<String, Vec<MacFact>>,
}

struct RouterPortFact {
    router: String,
    lrp: String,
    switch: Option<String>,
    networks: Vec<(IpNet, Span)>,
}

struct AddrFact {
    ip: IpAddr,
    span: Span,
    owner: String,
    /// Router ports define subnets; ordinary ports must fall inside one.
    router: bool,
}

struct MacFact {
    mac: Mac,
    span: Span,
    owner: String,
}

struct Checker<'a> {
    t: &'a Topology,
    diags: Diagnostics,
    model: Model,
    facts: Facts<'a>,
}

impl<'a> Checker<'a> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn stack(&mut self) {
        match &self.t.name {
            Some(n) => {
                self.name("stack", n);
                self.model.stack = n.value.clone();
            }
            None => self.push(
                Diagnostic::error(Code::NameMissingStack, "the topology has no stack `name`")
                    .at(Span::default(), "no file gives `name:`")
                    .help("add `name: <stack>` to one file; it marks every row topo creates"),
            ),
        }
    }

    /// A name topo writes into OVN, OVS and the lab: letters, digits, `_`, `.`, `-`, not
    /// starting with `-` or `.`, at most 63 characters.
    fn name(&mut self, what: &str, n: &Sp<String>) -> bool {
        let s = n.value.as_str();
        let why = if s.is_empty() {
            Some("it is empty")
        } else if s.len() > 63 {
            Some("it is longer than 63 characters")
        } else if s.starts_with('-') || s.starts_with('.') {
            Some("it starts with `-` or `.`")
        } else if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            Some("it holds a character other than letters, digits, `_`, `-` and `.`")
        } else {
            None
        };
        if let Some(why) = why {
            self.push(
                Diagnostic::error(
                    Code::NameInvalid,
                    format!("{what} name `{s}` is not usable"),
                )
                .at(n.span, why)
                .help(
                    "names become OVN rows, OVS ports and lab namespaces: use letters, \
                         digits, `_`, `-` and `.`",
                ),
            );
        }
        why.is_none()
    }

    /// A Linux interface name (bridges, NICs): a name of at most 15 characters.
    fn ifname(&mut self, what: &str, n: &Sp<String>) -> bool {
        if !self.name(what, n) {
            return false;
        }
        if n.value.len() > 15 {
            self.push(
                Diagnostic::error(
                    Code::NameInvalid,
                    format!("{what} name `{}` is too long for an interface", n.value),
                )
                .at(n.span, "longer than 15 characters")
                .help("Linux interface names have at most 15 characters"),
            );
            return false;
        }
        true
    }

    /// Reports an unknown reference with a did-you-mean from `known`.
    fn unknown<'k>(
        &mut self,
        code: Code,
        what: &str,
        name: &Sp<String>,
        known: impl IntoIterator<Item = &'k str>,
        otherwise: &str,
    ) {
        let known: Vec<&str> = known.into_iter().collect();
        let d = Diagnostic::error(code, format!("unknown {what} `{}`", name.value))
            .at(name.span, format!("no {what} of this name"));
        let d = match did_you_mean(&name.value, known.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if known.is_empty() => d.help(otherwise.to_owned()),
            None if known.len() <= 8 => {
                d.help(format!("{otherwise} (defined: `{}`)", known.join("`, `")))
            }
            None => d.help(format!(
                "{otherwise} (defined: `{}`, and {} more)",
                known[..8].join("`, `"),
                known.len() - 8
            )),
        };
        self.push(d);
    }

    fn chassis_ref(&mut self, name: &Sp<String>) -> bool {
        if self.facts.chassis.contains_key(&name.value) {
            return true;
        }
        let known: Vec<String> = self.facts.chassis.keys().cloned().collect();
        self.unknown(
            Code::RefUnknownChassis,
            "chassis",
            name,
            known.iter().map(String::as_str),
            "declare it under `chassis:`, as `<name>: { managed: false }` if this stack does \
             not configure it",
        );
        false
    }

    fn ha_group_ref(&mut self, name: &Sp<String>) -> bool {
        if self.facts.ha_groups.contains_key(&name.value) {
            return true;
        }
        let known: Vec<String> = self.facts.ha_groups.keys().cloned().collect();
        self.unknown(
            Code::RefUnknownHaGroup,
            "HA chassis group",
            name,
            known.iter().map(String::as_str),
            "declare it under `ha-chassis-groups:`",
        );
        false
    }

    fn ip(&mut self, s: &Sp<String>) -> Option<IpAddr> {
        match s.value.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                let help = if s.value.contains('/') {
                    "write one address without a prefix length, e.g. `10.0.0.5`"
                } else {
                    "write an IPv4 (`10.0.0.5`) or IPv6 (`fd00::5`) address"
                };
                self.push(
                    Diagnostic::error(
                        Code::AddrBadIp,
                        format!("`{}` is not an IP address", s.value),
                    )
                    .at(s.span, "not an IP address")
                    .help(help),
                );
                None
            }
        }
    }

    /// `address/len` where the address is a host on the network (router port networks).
    fn host_cidr(&mut self, s: &Sp<String>) -> Option<IpNet> {
        let Ok(net) = s.value.parse::<IpNet>() else {
            let help = if s.value.parse::<IpAddr>().is_ok() {
                format!("add the prefix length, e.g. `{}/24`", s.value)
            } else {
                "write an address with its prefix length, e.g. `10.0.0.1/24`".to_owned()
            };
            self.push(
                Diagnostic::error(
                    Code::AddrBadCidr,
                    format!("`{}` is not an address with a prefix length", s.value),
                )
                .at(s.span, "expected `address/length`")
                .help(help),
            );
            return None;
        };
        let is_v4_wide = matches!(net, IpNet::V4(_)) && net.prefix_len() < 31;
        if is_v4_wide && (net.addr() == net.network() || net.addr() == net.broadcast()) {
            self.push(
                Diagnostic::error(
                    Code::AddrBadIp,
                    format!("`{}` is not a host address of its network", s.value),
                )
                .at(s.span, "network or broadcast address")
                .help("a router port needs a host address, e.g. the first one of the subnet"),
            );
            return None;
        }
        Some(net)
    }

    /// A network: `address/len` with no host bits set.
    fn network(&mut self, s: &Sp<String>) -> Option<IpNet> {
        let Ok(net) = s.value.parse::<IpNet>() else {
            self.push(
                Diagnostic::error(Code::AddrBadCidr, format!("`{}` is not a network", s.value))
                    .at(s.span, "expected `network/length`")
                    .help("write a network with its prefix length, e.g. `10.0.0.0/24`"),
            );
            return None;
        };
        if net.addr() != net.network() {
            self.push(
                Diagnostic::error(
                    Code::AddrBadCidr,
                    format!("`{}` has host bits set", s.value),
                )
                .at(s.span, "not a network address")
                .help(format!("did you mean `{}`?", net.trunc())),
            );
            return None;
        }
        Some(net)
    }

    fn mac(&mut self, s: &Sp<String>) -> Option<Mac> {
        match s.value.parse::<Mac>() {
            Ok(m) if m.is_multicast() || m.is_zero() => {
                self.push(
                    Diagnostic::error(
                        Code::AddrBadMac,
                        format!("`{}` is not a unicast MAC address", s.value),
                    )
                    .at(
                        s.span,
                        if m.is_zero() {
                            "all zeros"
                        } else {
                            "multicast bit set"
                        },
                    )
                    .help("a port needs a unicast MAC: the lowest bit of the first byte is 0"),
                );
                None
            }
            Ok(m) => Some(m),
            Err(()) => {
                self.push(
                    Diagnostic::error(
                        Code::AddrBadMac,
                        format!("`{}` is not a MAC address", s.value),
                    )
                    .at(s.span, "not a MAC address")
                    .help(
                        "write six two-digit hex bytes separated by `:`, e.g. `00:00:00:00:00:03`",
                    ),
                );
                None
            }
        }
    }

    /// OVN priorities (HA chassis, gateway chassis, router policies): 0..32767.
    fn priority(&mut self, p: &Sp<i64>) -> bool {
        if (0..=32767).contains(&p.value) {
            return true;
        }
        self.push(
            Diagnostic::error(
                Code::ValuePriorityRange,
                format!("priority {} is outside 0..32767", p.value),
            )
            .at(p.span, "out of range")
            .help("OVN priorities are integers from 0 to 32767; higher wins"),
        );
        false
    }

    fn missing(&mut self, span: Span, message: String, label: &str, help: &str) {
        self.push(
            Diagnostic::error(Code::ValueMissing, message)
                .at(span, label.to_owned())
                .help(help.to_owned()),
        );
    }
}

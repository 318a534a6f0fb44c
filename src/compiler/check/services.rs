//! Security and services: address sets, port groups, ACLs and QoS rules (their matches
//! parsed by [`super::matches`]), load balancers and their health checks, DNS on switches
//! (DHCP, which it calls, is `super::dhcp`), router advertisements on router ports.
//!
//! Runs after switches, routers and addressing, so ports, their addresses and the networks
//! of the topology are known.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::Checker;
use super::matches::{self, MatchError, NameRef};
use crate::compiler::model::{Acl, HealthCheck, LoadBalancer, PortGroup, Qos};
use crate::compiler::naming::is_match_identifier;
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::spec::Sp;
use crate::spec::types;

/// The `ipv6_ra_configs:address_mode` values OVN knows.
const RA_MODES: &[&str] = &["slaac", "dhcpv6_stateful", "dhcpv6_stateless"];

/// A backend or VIP as written: `ip`, `ip:port` or `[ipv6]:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Endpoint {
    ip: IpAddr,
    port: Option<u16>,
}

impl Endpoint {
    fn parse(s: &str) -> Option<Endpoint> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Some(Endpoint { ip, port: None });
        }
        let (host, port) = s.rsplit_once(':')?;
        let ip = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) => IpAddr::V6(v6.parse().ok()?),
            None => IpAddr::V4(host.parse().ok()?),
        };
        let port = port.parse::<u16>().ok().filter(|p| *p > 0)?;
        Some(Endpoint {
            ip,
            port: Some(port),
        })
    }

    /// As OVN writes it in `vips`: IPv6 in brackets when a port follows.
    fn ovn(&self) -> String {
        match (self.ip, self.port) {
            (ip, None) => ip.to_string(),
            (IpAddr::V4(ip), Some(p)) => format!("{ip}:{p}"),
            (IpAddr::V6(ip), Some(p)) => format!("[{ip}]:{p}"),
        }
    }
}

impl Checker<'_> {
    pub(super) fn services(&mut self) {
        let t = self.t;
        // Names first: every match may use any of them.
        let mut sets: BTreeSet<String> = BTreeSet::new();
        let mut groups: BTreeSet<String> = BTreeSet::new();
        for (name, addresses) in t.address_sets.iter() {
            if self.match_name("address set", name) {
                sets.insert(name.value.clone());
            }
            let mut out = Vec::new();
            for a in addresses {
                if let Some(a) = self.address_or_network(a) {
                    out.push(a);
                }
            }
            out.sort();
            out.dedup();
            self.model.address_sets.insert(name.value.clone(), out);
        }
        for (name, _) in t.port_groups.iter() {
            if self.match_name("port group", name) {
                groups.insert(name.value.clone());
            }
            if let Some(sw) = self.facts.switches.get(&name.value) {
                let sw = sw.span;
                self.push(
                    Diagnostic::error(
                        Code::NameGroupIsSwitch,
                        format!("port group `{}` has the name of a switch", name.value),
                    )
                    .at(name.span, "a port group of this name")
                    .related(sw, "a switch of the same name")
                    .help(
                        "ACLs are kept by the name of their switch or port group: rename the \
                         port group, e.g. `pg_<name>`",
                    ),
                );
            }
        }
        if let Some(e) = &t.external {
            sets.extend(e.address_sets.iter().map(|n| n.value.clone()));
            groups.extend(e.port_groups.iter().map(|n| n.value.clone()));
        }
        let names = MatchNames { sets, groups };

        let known: BTreeSet<String> = self.facts.lsps.iter().map(|(n, ..)| n.clone()).collect();
        for (name, pg) in t.port_groups.iter() {
            let mut out = PortGroup::default();
            for p in &pg.ports {
                if known.contains(&p.value) {
                    out.ports.push(p.value.clone());
                } else {
                    self.unknown(
                        Code::RefUnknownPort,
                        "port",
                        p,
                        known.iter().map(String::as_str),
                        "list ports of this topology's switches",
                    );
                }
            }
            out.ports.sort();
            out.ports.dedup();
            out.acls = self.acls(&format!("port group `{}`", name.value), &pg.acls, &names);
            self.model.port_groups.insert(name.value.clone(), out);
        }

        self.load_balancers();
        // Every load balancer written, valid or not: one with a mistake of its own is
        // reported once, not again at each reference.
        let lbs: Vec<String> = t
            .load_balancers
            .iter()
            .map(|(k, _)| k.value.clone())
            .collect();
        for (name, sw) in t.switches.iter() {
            let what = format!("switch `{}`", name.value);
            let acls = self.acls(&what, &sw.acls, &names);
            let qos = self.qos(&what, &sw.qos, &names);
            let load_balancers = self.lb_refs(&sw.load_balancers, &lbs);
            let (dhcp4, dhcp6) = match &sw.dhcp {
                Some(d) => (
                    d.v4.as_ref().and_then(|v4| self.dhcp4(name, v4)),
                    d.v6.as_ref().and_then(|v6| self.dhcp6(name, v6)),
                ),
                None => (None, None),
            };
            let mut dns = BTreeMap::new();
            for (host, addresses) in sw.dns_records.iter() {
                let ips: Vec<IpAddr> = addresses.iter().filter_map(|a| self.ip(a)).collect();
                if addresses.is_empty() {
                    self.missing(
                        host.span,
                        format!("DNS record `{}` has no address", host.value),
                        "no address",
                        "list the host's addresses, e.g. `web1.example.org: [10.0.1.11]`",
                    );
                }
                dns.insert(host.value.to_ascii_lowercase(), ips);
            }
            if let Some(out) = self.model.switches.get_mut(&name.value) {
                out.acls = acls;
                out.qos = qos;
                out.load_balancers = load_balancers;
                out.dhcp4 = dhcp4;
                out.dhcp6 = dhcp6;
                out.dns_records = dns;
            }
        }
        for (name, r) in t.routers.iter() {
            let load_balancers = self.lb_refs(&r.load_balancers, &lbs);
            for p in &r.ports {
                if let Some((key, mode)) = p.ipv6_ra.iter().find(|(k, _)| k.value == "address_mode")
                    && !RA_MODES.contains(&mode.value.as_str())
                {
                    let _ = key;
                    self.push(
                        Diagnostic::error(
                            Code::ValueNotAllowed,
                            format!("`address_mode: {}` is not an RA address mode", mode.value),
                        )
                        .at(mode.span, "not an address mode")
                        .help(format!("use one of `{}`", RA_MODES.join("`, `"))),
                    );
                }
            }
            if let Some(out) = self.model.routers.get_mut(&name.value) {
                out.load_balancers = load_balancers;
            }
        }
    }

    /// A port group or address set name: also a usable name, and an identifier in matches.
    fn match_name(&mut self, what: &str, n: &Sp<String>) -> bool {
        if !self.name(what, n) {
            return false;
        }
        if is_match_identifier(&n.value) {
            return true;
        }
        let fixed: String = n
            .value
            .chars()
            .map(|c| if c == '-' { '_' } else { c })
            .collect();
        self.push(
            Diagnostic::error(
                Code::NameNotIdentifier,
                format!("{what} name `{}` cannot be written in a match", n.value),
            )
            .at(n.span, "matches name it as `@name` or `$name`")
            .help(format!(
                "OVN's match names are letters, digits, `_` and `.`, not starting with a digit: \
                 e.g. `{fixed}`"
            )),
        );
        false
    }

    fn address_or_network(&mut self, a: &Sp<String>) -> Option<String> {
        if let Ok(ip) = a.value.parse::<IpAddr>() {
            return Some(ip.to_string());
        }
        self.network(a).map(|n| n.to_string())
    }

    fn acls(&mut self, parent: &str, acls: &[Sp<types::Acl>], names: &MatchNames) -> Vec<Acl> {
        let mut out = Vec::new();
        let mut seen: BTreeMap<(types::Direction, i64, String), Span> = BTreeMap::new();
        for a in acls {
            let mut ok = self.priority(&a.priority);
            ok &= self.matches(&a.matches, names);
            ok &= self.first_rule(
                &mut seen,
                parent,
                "ACLs",
                a.span,
                &a.direction,
                &a.priority,
                &a.matches,
            );
            if let Some(label) = &a.label
                && !(0..=i64::from(u32::MAX)).contains(&label.value)
            {
                ok = false;
                self.range(label, "an ACL `label`", 0, i64::from(u32::MAX));
            }
            if let Some(n) = &a.name
                && n.value.len() > 63
            {
                ok = false;
                self.push(
                    Diagnostic::error(
                        Code::ValueRange,
                        format!("ACL name `{}` is longer than 63 characters", n.value),
                    )
                    .at(n.span, "too long")
                    .help("OVN limits an ACL's log name to 63 characters"),
                );
            }
            if ok {
                out.push(Acl {
                    direction: a.direction.value,
                    priority: a.priority.value,
                    matches: a.matches.value.clone(),
                    action: a.action.value,
                    log: a.log.as_ref().is_some_and(|l| l.value),
                    severity: a.severity.as_ref().map(|s| s.value),
                    name: a.name.as_ref().map(|n| n.value.clone()),
                    label: a.label.as_ref().map(|l| l.value),
                    meter: a.meter.as_ref().map(|m| m.value.clone()),
                });
            }
        }
        out
    }

    fn qos(&mut self, parent: &str, rules: &[Sp<types::Qos>], names: &MatchNames) -> Vec<Qos> {
        let mut out = Vec::new();
        let mut seen: BTreeMap<(types::Direction, i64, String), Span> = BTreeMap::new();
        for q in rules {
            let mut ok = self.priority(&q.priority);
            ok &= self.matches(&q.matches, names);
            if q.rate.is_none() && q.dscp.is_none() {
                ok = false;
                self.missing(
                    q.span,
                    format!("a QoS rule of {parent} has neither `rate` nor `dscp`"),
                    "does nothing",
                    "give `rate` (kbps, with an optional `burst`), `dscp` (0..63), or both",
                );
            }
            if q.burst.is_some() && q.rate.is_none() {
                ok = false;
                self.push(
                    Diagnostic::error(Code::ValueConflict, "`burst` without `rate`")
                        .at(
                            q.burst.as_ref().map_or(q.span, |b| b.span),
                            "a burst of what",
                        )
                        .help("give the `rate` (kbps) the burst belongs to"),
                );
            }
            for (v, what, lo, hi) in [
                (&q.rate, "a QoS `rate`", 1, i64::from(u32::MAX)),
                (&q.burst, "a QoS `burst`", 1, i64::from(u32::MAX)),
                (&q.dscp, "a DSCP value", 0, 63),
            ] {
                if let Some(v) = v
                    && !(lo..=hi).contains(&v.value)
                {
                    ok = false;
                    self.range(v, what, lo, hi);
                }
            }
            ok &= self.first_rule(
                &mut seen,
                parent,
                "QoS rules",
                q.span,
                &q.direction,
                &q.priority,
                &q.matches,
            );
            if ok {
                out.push(Qos {
                    direction: q.direction.value,
                    priority: q.priority.value,
                    matches: q.matches.value.clone(),
                    rate: q.rate.as_ref().map(|v| v.value),
                    burst: q.burst.as_ref().map(|v| v.value),
                    dscp: q.dscp.as_ref().map(|v| v.value),
                });
            }
        }
        out
    }

    /// Whether an ACL or QoS rule is the first of its parent with its key (direction,
    /// priority, match); the second is reported, pointing at both.
    #[allow(clippy::too_many_arguments)]
    fn first_rule(
        &mut self,
        seen: &mut BTreeMap<(types::Direction, i64, String), Span>,
        parent: &str,
        what: &str,
        span: Span,
        direction: &Sp<types::Direction>,
        priority: &Sp<i64>,
        matches: &Sp<String>,
    ) -> bool {
        let key = (direction.value, priority.value, matches.value.clone());
        let Some(first) = seen.get(&key) else {
            seen.insert(key, span);
            return true;
        };
        self.push(
            Diagnostic::error(
                Code::AclDuplicate,
                format!(
                    "{parent} has two {what} {} priority {} on `{}`",
                    direction.value.as_str(),
                    priority.value,
                    matches.value
                ),
            )
            .at(span, "the same direction, priority and match again")
            .related(*first, "first written here")
            .help("OVN would apply only one of them: merge them, or give one another priority"),
        );
        false
    }

    pub(super) fn range(&mut self, v: &Sp<i64>, what: &str, lo: i64, hi: i64) {
        self.push(
            Diagnostic::error(
                Code::ValueRange,
                format!("{what} of {} is outside {lo}..{hi}", v.value),
            )
            .at(v.span, "out of range")
            .help(format!("{what} is an integer from {lo} to {hi}")),
        );
    }

    /// Parses a match and checks every `$name` and `@name` in it.
    fn matches(&mut self, m: &Sp<String>, names: &MatchNames) -> bool {
        match matches::parse(&m.value) {
            Ok(refs) => {
                let mut ok = true;
                for r in refs {
                    if !names.knows(&r) {
                        ok = false;
                        let candidates = names.candidates(r.sigil);
                        let written = format!("{}{}", r.sigil, r.name);
                        let d = Diagnostic::error(
                            Code::MatchUnknownName,
                            if r.sigil == '@' {
                                format!("the match uses `{written}`, which is no port group")
                            } else {
                                format!(
                                    "the match uses `{written}`, which is neither an address set \
                                     nor a port group's `_ip4` / `_ip6` set"
                                )
                            },
                        )
                        .at(m.span, format!("`{written}` is not defined"));
                        let d = match did_you_mean(&r.name, candidates.iter().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `{}{s}`?", r.sigil)),
                            None => d.help(
                                "declare it under `port-groups:` / `address-sets:`, or list it \
                                 under `external:` when another tool manages it",
                            ),
                        };
                        self.push(d);
                    }
                }
                ok
            }
            Err(MatchError::Syntax(why)) => {
                self.push(
                    Diagnostic::error(
                        Code::MatchSyntax,
                        format!("the match `{}` does not parse: {why}", m.value),
                    )
                    .at(m.span, why)
                    .help(
                        "OVN's match syntax is in ovn-sb(5), Logical_Flow TABLE; e.g. \
                         `ip4.src == 10.0.0.0/24 && tcp.dst == {22, 80}`",
                    ),
                );
                false
            }
            Err(MatchError::UnknownField { field, suggestion }) => {
                let d = Diagnostic::error(
                    Code::MatchUnknownField,
                    format!("the match uses `{field}`, which is no OVN field"),
                )
                .at(m.span, format!("unknown field `{field}`"));
                self.push(match suggestion {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("the fields are listed in ovn-sb(5), Logical_Flow TABLE"),
                });
                false
            }
        }
    }

    fn lb_refs(&mut self, refs: &[Sp<String>], known: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for r in refs {
            if known.contains(&r.value) {
                out.push(r.value.clone());
            } else {
                self.unknown(
                    Code::RefUnknownLoadBalancer,
                    "load balancer",
                    r,
                    known.iter().map(String::as_str),
                    "declare it under `load-balancers:`",
                );
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn load_balancers(&mut self) {
        let t = self.t;
        // Where an address is: the networks of router ports and switch subnets.
        let mut networks: Vec<IpNet> = self
            .facts
            .router_ports
            .iter()
            .flat_map(|f| f.networks.iter().map(|(n, _)| n.trunc()))
            .collect();
        for sw in self.model.switches.values() {
            networks.extend(sw.subnet.map(IpNet::V4));
            networks.extend(sw.ipv6_prefix.map(IpNet::V6));
        }
        // Which port holds an address, and the subnet it is on.
        let mut holder: BTreeMap<IpAddr, (String, Option<IpNet>)> = BTreeMap::new();
        for sw in self.model.switches.values() {
            for (port, p) in &sw.ports {
                for ip in &p.ips {
                    let subnet = match ip {
                        IpAddr::V4(_) => sw.subnet.map(IpNet::V4),
                        IpAddr::V6(_) => sw.ipv6_prefix.map(IpNet::V6),
                    };
                    holder.insert(*ip, (port.clone(), subnet));
                }
            }
        }
        for (name, lb) in t.load_balancers.iter() {
            self.name("load balancer", name);
            let mut ok = true;
            let mut out = LoadBalancer {
                protocol: lb.protocol.as_ref().map(|p| p.value),
                ..LoadBalancer::default()
            };
            if lb.vips.is_empty() {
                self.missing(
                    name.span,
                    format!("load balancer `{}` has no `vips`", name.value),
                    "balances nothing",
                    "add `vips: { \"<vip>:<port>\": [\"<backend>:<port>\", ...] }`",
                );
                ok = false;
            }
            let mut backends_all: Vec<(Endpoint, &Sp<String>)> = Vec::new();
            let mut vips: Vec<(Endpoint, &Sp<String>)> = Vec::new();
            for (vip, backends) in lb.vips.iter() {
                let Some(v) = self.endpoint(vip, "VIP") else {
                    ok = false;
                    continue;
                };
                let mut list = Vec::new();
                for b in backends {
                    let Some(e) = self.endpoint(b, "backend") else {
                        ok = false;
                        continue;
                    };
                    if e.ip.is_ipv4() != v.ip.is_ipv4() {
                        ok = false;
                        self.push(
                            Diagnostic::error(
                                Code::LbFamilyMismatch,
                                format!(
                                    "backend `{}` and VIP `{}` are of different IP families",
                                    b.value, vip.value
                                ),
                            )
                            .at(b.span, "another family than its VIP")
                            .related(vip.span, "the VIP")
                            .help("OVN balances a VIP only to backends of its own family"),
                        );
                    } else if e.port.is_some() != v.port.is_some() {
                        ok = false;
                        self.push(
                            Diagnostic::error(
                                Code::LbPortMismatch,
                                format!(
                                    "backend `{}` {} a port, VIP `{}` {}",
                                    b.value,
                                    if e.port.is_some() { "has" } else { "has no" },
                                    vip.value,
                                    if v.port.is_some() {
                                        "has one"
                                    } else {
                                        "has none"
                                    }
                                ),
                            )
                            .at(b.span, "port does not match the VIP")
                            .related(vip.span, "the VIP")
                            .help("give the VIP and all its backends ports, or none of them"),
                        );
                    }
                    if !networks.iter().any(|n| n.contains(&e.ip)) {
                        ok = false;
                        self.push(
                            Diagnostic::error(
                                Code::LbBackendUnreachable,
                                format!("backend `{}` is on no network of this topology", b.value),
                            )
                            .at(b.span, "on no switch subnet or router port network")
                            .help(
                                "a backend must be reachable from the load balancer: give its \
                                 switch a `subnet` that holds it, or fix the address",
                            ),
                        );
                    }
                    list.push(e.ovn());
                    backends_all.push((e, b));
                }
                if backends.is_empty() {
                    ok = false;
                    self.missing(
                        vip.span,
                        format!("VIP `{}` has no backends", vip.value),
                        "no backends",
                        "list the backends that serve it",
                    );
                }
                out.vips.insert(v.ovn(), list);
                vips.push((v, vip));
            }
            if let Some(hc) = &lb.health_check {
                match self.health_check(hc, &vips, &backends_all, &holder) {
                    Some(h) => out.health_check = Some(h),
                    None => ok = false,
                }
            }
            if ok {
                self.model.load_balancers.insert(name.value.clone(), out);
            }
        }
    }

    fn endpoint(&mut self, s: &Sp<String>, what: &str) -> Option<Endpoint> {
        let e = Endpoint::parse(&s.value);
        if e.is_none() {
            self.push(
                Diagnostic::error(
                    Code::LbBadEndpoint,
                    format!(
                        "{what} `{}` is not `ip`, `ip:port` or `[ipv6]:port`",
                        s.value
                    ),
                )
                .at(s.span, "not an address with an optional port")
                .help("e.g. `10.0.0.10:80`, `10.0.0.10`, or `[fd00::10]:80`"),
            );
        }
        e
    }

    fn health_check(
        &mut self,
        hc: &Sp<types::HealthCheck>,
        vips: &[(Endpoint, &Sp<String>)],
        backends: &[(Endpoint, &Sp<String>)],
        holder: &BTreeMap<IpAddr, (String, Option<IpNet>)>,
    ) -> Option<HealthCheck> {
        let mut ok = true;
        let mut out = HealthCheck::default();
        for (v, what, key) in [
            (&hc.interval, "a health check `interval`", "interval"),
            (&hc.timeout, "a health check `timeout`", "timeout"),
            (&hc.success_count, "a `success-count`", "success_count"),
            (&hc.failure_count, "a `failure-count`", "failure_count"),
        ] {
            if let Some(v) = v {
                if (1..=3600).contains(&v.value) {
                    out.options.insert(key.to_owned(), v.value.to_string());
                } else {
                    ok = false;
                    self.range(v, what, 1, 3600);
                }
            }
        }
        for (v, vip) in vips {
            if v.port.is_none() {
                ok = false;
                self.push(
                    Diagnostic::error(
                        Code::LbPortMismatch,
                        format!("VIP `{}` has no port to health-check", vip.value),
                    )
                    .at(vip.span, "no port")
                    .related(hc.span, "the health check")
                    .help("health checks probe a port: give the VIP and its backends ports"),
                );
            }
        }
        let sources: Vec<(IpAddr, &Sp<String>)> = hc
            .source_ips
            .iter()
            .filter_map(|s| self.ip(s).map(|ip| (ip, s)))
            .collect();
        for (e, b) in backends {
            let Some((port, subnet)) = holder.get(&e.ip) else {
                ok = false;
                self.push(
                    Diagnostic::error(
                        Code::LbBackendNotAPort,
                        format!(
                            "backend `{}` is the address of no port, so it cannot be health-checked",
                            b.value
                        ),
                    )
                    .at(b.span, "no port of this topology has this address")
                    .related(hc.span, "the health check")
                    .help(
                        "OVN probes a backend through its logical port: give the backend's port \
                         this address, or drop `health-check`",
                    ),
                );
                continue;
            };
            let source = subnet.and_then(|net| sources.iter().find(|(ip, _)| net.contains(ip)));
            match source {
                // `ovn-nb(5)`: IPv6 addresses in brackets, on both sides.
                Some((ip, _)) => match ip {
                    IpAddr::V4(_) => {
                        out.mappings
                            .insert(e.ip.to_string(), format!("{port}:{ip}"));
                    }
                    IpAddr::V6(_) => {
                        out.mappings
                            .insert(format!("[{}]", e.ip), format!("{port}:[{ip}]"));
                    }
                },
                None => {
                    ok = false;
                    let net = subnet.map_or("its switch's subnet".to_owned(), |n| n.to_string());
                    self.push(
                        Diagnostic::error(
                            Code::LbNoProbeSource,
                            format!(
                                "no `source-ips` entry of the health check is in {net}, where \
                                 backend `{}` is",
                                b.value
                            ),
                        )
                        .at(
                            hc.span,
                            format!("add an unused address of {net} to `source-ips`"),
                        )
                        .related(b.span, "the backend")
                        .help(
                            "OVN sends the probes from an address in the backend's subnet; pick \
                             one no port uses",
                        ),
                    );
                }
            }
        }
        ok.then_some(out)
    }
}

/// The names a match may use.
struct MatchNames {
    sets: BTreeSet<String>,
    groups: BTreeSet<String>,
}

impl MatchNames {
    fn knows(&self, r: &NameRef) -> bool {
        match r.sigil {
            '@' => self.groups.contains(&r.name),
            _ => {
                self.sets.contains(&r.name)
                    || ["_ip4", "_ip6"].iter().any(|suffix| {
                        r.name
                            .strip_suffix(suffix)
                            .is_some_and(|g| self.groups.contains(g))
                    })
            }
        }
    }

    fn candidates(&self, sigil: char) -> Vec<String> {
        match sigil {
            '@' => self.groups.iter().cloned().collect(),
            _ => self
                .sets
                .iter()
                .cloned()
                .chain(
                    self.groups
                        .iter()
                        .flat_map(|g| [format!("{g}_ip4"), format!("{g}_ip6")]),
                )
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_as_ovn_writes_them() {
        let e = Endpoint::parse("10.0.0.10:80").expect("v4 with port");
        assert_eq!(e.ovn(), "10.0.0.10:80");
        assert_eq!(
            Endpoint::parse("[fd00::10]:443").map(|e| e.ovn()),
            Some("[fd00::10]:443".to_owned())
        );
        assert_eq!(
            Endpoint::parse("fd00::10").map(|e| e.ovn()),
            Some("fd00::10".to_owned())
        );
        assert_eq!(Endpoint::parse("10.0.0.10:0"), None);
        assert_eq!(Endpoint::parse("10.0.0.10:http"), None);
        assert_eq!(Endpoint::parse("web:80"), None);
    }
}

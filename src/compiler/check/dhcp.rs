//! DHCP on a switch: the `DHCP_Options` rows of `dhcp.v4` and `dhcp.v6` (the network served,
//! the server's addresses, the options OVN hands out), checked against the switch's subnet.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::Checker;
use crate::compiler::model::DhcpOptions;
use crate::compiler::naming::Mac;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::spec::Sp;
use crate::spec::types::{Dhcp4, Dhcp6};

impl Checker<'_> {
    fn dhcp_cidr(
        &mut self,
        sw: &Sp<String>,
        written: Option<&Sp<String>>,
        declared: Option<IpNet>,
        family: &str,
        at: Span,
    ) -> Option<IpNet> {
        match written {
            Some(c) => {
                let net = self.network(c)?;
                if (family == "v4") != net.addr().is_ipv4() {
                    self.push(
                        Diagnostic::error(
                            Code::AddrBadCidr,
                            format!("DHCP{family} `cidr` `{}` is of the other family", c.value),
                        )
                        .at(c.span, "wrong IP family")
                        .help("`v4` serves an IPv4 network, `v6` an IPv6 one"),
                    );
                    return None;
                }
                Some(net)
            }
            None => {
                if declared.is_none() {
                    let key = if family == "v4" {
                        "subnet"
                    } else {
                        "ipv6-prefix"
                    };
                    self.push(
                        Diagnostic::error(
                            Code::DhcpNoCidr,
                            format!(
                                "DHCP{family} on switch `{}` needs its `{key}` or a `cidr`",
                                sw.value
                            ),
                        )
                        .at(at, format!("the switch has no `{key}`"))
                        .help(format!(
                            "give switch `{}` a `{key}`, or write the network served as `cidr`",
                            sw.value
                        )),
                    );
                }
                declared
            }
        }
    }

    pub(super) fn dhcp4(&mut self, sw: &Sp<String>, d: &Sp<Dhcp4>) -> Option<DhcpOptions> {
        let declared = self
            .model
            .switches
            .get(&sw.value)
            .and_then(|s| s.subnet)
            .map(IpNet::V4);
        let cidr = self.dhcp_cidr(sw, d.cidr.as_ref(), declared, "v4", d.span)?;
        let mut ok = true;
        let mut options = BTreeMap::new();
        let inside = |this: &mut Self, s: &Sp<String>, key: &str| -> Option<IpAddr> {
            let ip = this.ip(s)?;
            if !cidr.contains(&ip) {
                this.push(
                    Diagnostic::error(
                        Code::DhcpOutsideCidr,
                        format!("DHCP `{key}` {ip} is outside {cidr}, the network served"),
                    )
                    .at(s.span, format!("not in {cidr}"))
                    .help(format!(
                        "the {key} must be on the clients' network: an address of {cidr}"
                    )),
                );
                return None;
            }
            Some(ip)
        };
        let router = d.router.as_ref().and_then(|r| {
            let ip = inside(self, r, "router");
            ok &= ip.is_some();
            ip
        });
        let server = match &d.server_id {
            Some(s) => {
                let ip = inside(self, s, "server-id");
                ok &= ip.is_some();
                ip
            }
            None => router,
        };
        if let Some(r) = router {
            options.insert("router".to_owned(), r.to_string());
        }
        match server {
            Some(s) => {
                options.insert("server_id".to_owned(), s.to_string());
            }
            None if d.router.is_none() => {
                ok = false;
                self.missing(
                    d.span,
                    format!("DHCPv4 on switch `{}` has no server address", sw.value),
                    "needs `router` or `server-id`",
                    "give `router` (the default gateway, also used as the server's address) or \
                     `server-id`",
                );
            }
            None => {}
        }
        ok &= self.server_mac(
            &mut options,
            "server_mac",
            d.server_mac.as_ref(),
            sw,
            "dhcp",
        );
        let lease = d.lease_time.as_ref().map_or(3600, |l| l.value);
        if let Some(l) = &d.lease_time
            && !(1..=i64::from(u32::MAX)).contains(&l.value)
        {
            ok = false;
            self.range(l, "a `lease-time`", 1, i64::from(u32::MAX));
        }
        options.insert("lease_time".to_owned(), lease.to_string());
        ok &= self.dns_servers(&mut options, &d.dns_server);
        if let Some(n) = &d.domain_name {
            options.insert("domain_name".to_owned(), format!("\"{}\"", n.value));
        }
        if let Some(m) = &d.mtu {
            if (68..=65535).contains(&m.value) {
                options.insert("mtu".to_owned(), m.value.to_string());
            } else {
                ok = false;
                self.range(m, "a DHCP `mtu`", 68, 65535);
            }
        }
        ok &= self.extra_options(&d.options, &mut options);
        ok.then_some(DhcpOptions { cidr, options })
    }

    pub(super) fn dhcp6(&mut self, sw: &Sp<String>, d: &Sp<Dhcp6>) -> Option<DhcpOptions> {
        let declared = self
            .model
            .switches
            .get(&sw.value)
            .and_then(|s| s.ipv6_prefix)
            .map(IpNet::V6);
        let cidr = self.dhcp_cidr(sw, d.cidr.as_ref(), declared, "v6", d.span)?;
        let mut ok = true;
        let mut options = BTreeMap::new();
        ok &= self.server_mac(
            &mut options,
            "server_id",
            d.server_id.as_ref(),
            sw,
            "dhcpv6",
        );
        ok &= self.dns_servers(&mut options, &d.dns_server);
        if let Some(s) = &d.domain_search {
            options.insert("domain_search".to_owned(), format!("\"{}\"", s.value));
        }
        if d.stateless.as_ref().is_some_and(|s| s.value) {
            options.insert("dhcpv6_stateless".to_owned(), "true".to_owned());
        }
        ok &= self.extra_options(&d.options, &mut options);
        ok.then_some(DhcpOptions { cidr, options })
    }

    /// The DHCP server's MAC as written under `option`, or derived from the stack, the switch
    /// and `seed` (stable across runs).
    fn server_mac(
        &mut self,
        options: &mut BTreeMap<String, String>,
        option: &str,
        written: Option<&Sp<String>>,
        sw: &Sp<String>,
        seed: &str,
    ) -> bool {
        let mac = match written {
            Some(m) => self.mac(m),
            None => Some(Mac::derived(&format!(
                "{}/{}/{seed}",
                self.model.stack, sw.value
            ))),
        };
        if let Some(m) = mac {
            options.insert(option.to_owned(), m.to_string());
        }
        mac.is_some()
    }

    /// `dns_server`, when any is written: every entry must be an address.
    fn dns_servers(
        &mut self,
        options: &mut BTreeMap<String, String>,
        servers: &[Sp<String>],
    ) -> bool {
        if servers.is_empty() {
            return true;
        }
        let ips: Vec<String> = servers
            .iter()
            .filter_map(|s| self.ip(s))
            .map(|ip| ip.to_string())
            .collect();
        let ok = ips.len() == servers.len();
        options.insert("dns_server".to_owned(), braces(&ips));
        ok
    }

    /// `options:` written as OVN names them; one that repeats a typed key is a conflict.
    fn extra_options(
        &mut self,
        extra: &crate::spec::map::Map<Sp<String>>,
        options: &mut BTreeMap<String, String>,
    ) -> bool {
        let mut ok = true;
        for (k, v) in extra.iter() {
            if options.contains_key(&k.value) {
                ok = false;
                self.push(
                    Diagnostic::error(
                        Code::ValueConflict,
                        format!("DHCP option `{}` is given twice", k.value),
                    )
                    .at(k.span, "also set by a key of its own")
                    .help(format!(
                        "write `{}` once: with its own key, or under `options`",
                        k.value
                    )),
                );
            } else {
                options.insert(k.value.clone(), v.value.clone());
            }
        }
        ok
    }
}

/// `{a, b}`, OVN's notation for a list in DHCP options.
fn braces(items: &[String]) -> String {
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("{{{}}}", items.join(", "))
    }
}

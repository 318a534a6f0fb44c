//! Logical switches and their ports, including the router-type ports derived from routers.

use std::collections::BTreeMap;

use super::services::{acl_keys, dhcp_key, dns_key, qos_keys};
use super::{Lowering, boolean, integer, map, reference, references, string, strings};
use crate::compiler::check::address_string;
use crate::compiler::model::{Link, Model, RouterPort, Switch, SwitchPort};
use crate::compiler::naming::router_lsp_name;
use crate::ovsdb::Datum;
use crate::rows::{Row, RowKey};
use crate::spec::types::PortType;

pub(super) fn lower(cx: &mut Lowering, model: &Model) {
    // switch -> the routers (and their ports) connected to it
    let mut attached: BTreeMap<&str, Vec<(&str, &str, &RouterPort, bool)>> = BTreeMap::new();
    for (router, r) in &model.routers {
        for (lrp, rp) in &r.ports {
            if let Link::Switch(sw) = &rp.link {
                attached.entry(sw.as_str()).or_default().push((
                    router.as_str(),
                    lrp.as_str(),
                    rp,
                    r.chassis.is_some(),
                ));
            }
        }
    }
    for (name, sw) in &model.switches {
        let mut ports: Vec<RowKey> = Vec::new();
        let has_localnet = sw.ports.values().any(|p| p.kind == PortType::Localnet);
        for (port, p) in &sw.ports {
            ports.push(RowKey::name(port.as_str()));
            let mut row = port_row(port, p);
            dhcp_of_port(&mut row, name, sw, p);
            cx.nb("Logical_Switch_Port", RowKey::name(port.as_str()), row);
        }
        // Router-type ports facing every router connected to this switch.
        for (router, lrp, rp, gateway_router) in attached.get(name.as_str()).into_iter().flatten() {
            {
                let lsp = rp
                    .lsp
                    .clone()
                    .unwrap_or_else(|| router_lsp_name(name, router));
                let mut options = BTreeMap::from([("router-port".to_owned(), (*lrp).to_owned())]);
                // Gratuitous ARPs for NAT addresses go out through the localnet port.
                let gateway = *gateway_router || rp.gateway.is_some();
                match &rp.nat_addresses {
                    Some(Some(v)) => {
                        options.insert("nat-addresses".to_owned(), v.clone());
                    }
                    Some(None) => {}
                    None if gateway && has_localnet => {
                        options.insert("nat-addresses".to_owned(), "router".to_owned());
                    }
                    None => {}
                }
                let row = Row::new()
                    .with("name", string(lsp.as_str()))
                    .with("type", string("router"))
                    .with("addresses", strings(rp.lsp_addresses.iter().cloned()))
                    .with("options", map(options));
                ports.push(RowKey::name(lsp.as_str()));
                cx.nb("Logical_Switch_Port", RowKey::name(lsp), row);
            }
        }
        let mut other_config = BTreeMap::new();
        if let Some(s) = sw.subnet {
            other_config.insert("subnet", s.to_string());
        }
        if let Some(p) = sw.ipv6_prefix {
            let text = if sw.ipv6_prefix_bare {
                p.addr().to_string()
            } else {
                p.to_string()
            };
            other_config.insert("ipv6_prefix", text);
        }
        if !sw.exclude_ips.is_empty() {
            other_config.insert("exclude_ips", sw.exclude_ips.join(" "));
        }
        let mut row = Row::new()
            .with("name", string(name.as_str()))
            .with("ports", references("Logical_Switch_Port", ports))
            .with("acls", references("ACL", acl_keys(name, &sw.acls)))
            .with("qos_rules", references("QoS", qos_keys(name, &sw.qos)))
            .with(
                "load_balancer",
                references(
                    "Load_Balancer",
                    sw.load_balancers.iter().map(|l| RowKey::name(l.as_str())),
                ),
            )
            .with(
                "dns_records",
                references("DNS", (!sw.dns_records.is_empty()).then(|| dns_key(name))),
            );
        if !other_config.is_empty() {
            row.set("other_config", map(other_config));
        }
        cx.nb("Logical_Switch", RowKey::name(name.as_str()), row);
    }
}

/// A VIF's `dhcpv4_options` / `dhcpv6_options` when its switch serves DHCP: the switch's
/// options for each family the port has an address of (or takes one dynamically), none when
/// the port opts out. Only written on switches with DHCP, so a port's options go when the
/// switch's do.
fn dhcp_of_port(row: &mut Row, switch: &str, sw: &Switch, p: &SwitchPort) {
    if p.kind != PortType::Vif {
        return;
    }
    for (column, family, options, has) in [
        (
            "dhcpv4_options",
            "v4",
            &sw.dhcp4,
            p.ips.iter().any(|ip| ip.is_ipv4()) || (p.dynamic && sw.subnet.is_some()),
        ),
        (
            "dhcpv6_options",
            "v6",
            &sw.dhcp6,
            p.ips.iter().any(|ip| ip.is_ipv6()) || (p.dynamic && sw.ipv6_prefix.is_some()),
        ),
    ] {
        if options.is_none() {
            continue;
        }
        let served = (has && !p.no_dhcp).then(|| dhcp_key(switch, family));
        row.set(column, references("DHCP_Options", served));
    }
}

fn port_row(name: &str, p: &SwitchPort) -> Row {
    let mut options: BTreeMap<&str, String> = BTreeMap::new();
    let mut addresses: Vec<String> = Vec::new();
    match p.kind {
        PortType::Vif => {
            if p.dynamic {
                addresses.push(match p.mac {
                    Some(m) => format!("{m} dynamic"),
                    None => "dynamic".to_owned(),
                });
            } else if p.mac.is_some() {
                addresses.push(address_string(p.mac, &p.ips));
            }
            if let Some(c) = &p.chassis {
                options.insert("requested-chassis", c.clone());
            }
        }
        PortType::Localport | PortType::External => {
            addresses.push(address_string(p.mac, &p.ips));
        }
        PortType::Virtual => {
            if p.mac.is_some() {
                addresses.push(address_string(p.mac, &p.ips));
            }
            if let Some(vip) = p.ips.first() {
                options.insert("virtual-ip", vip.to_string());
            }
            options.insert("virtual-parents", p.parents.join(","));
        }
        PortType::Localnet | PortType::L2gateway | PortType::Vtep => {
            addresses.push("unknown".to_owned());
            if let Some(n) = &p.network {
                options.insert("network_name", n.clone());
            }
            if p.kind == PortType::L2gateway
                && let Some(c) = &p.chassis
            {
                options.insert("l2gateway-chassis", c.clone());
            }
            if let Some(s) = &p.vtep_physical_switch {
                options.insert("vtep-physical-switch", s.clone());
            }
            if let Some(s) = &p.vtep_logical_switch {
                options.insert("vtep-logical-switch", s.clone());
            }
        }
        PortType::Router => {}
    }
    if p.unknown && !addresses.iter().any(|a| a == "unknown") {
        addresses.push("unknown".to_owned());
    }
    let mut row = Row::new()
        .with("name", string(name))
        .with("type", string(p.kind.ovn_type()))
        .with("addresses", strings(addresses))
        .with("port_security", strings(p.port_security.iter().cloned()))
        .with("options", map(options));
    if let Some(tag) = p.tag {
        row.set("tag_request", integer(tag));
    }
    if let Some(g) = &p.ha_group {
        row.set(
            "ha_chassis_group",
            Datum::set([reference("HA_Chassis_Group", RowKey::name(g.as_str()))]),
        );
    }
    if let Some(e) = p.enabled {
        row.set("enabled", boolean(e));
    }
    row
}

//! Security and services: address sets, port groups and their ACLs, switch ACLs and QoS
//! rules, load balancers with their health checks, DHCP options and DNS records.
//!
//! The switch and router rows reference these by key; `switch.rs` and `router.rs` write those
//! columns from the same model, with [`acl_keys`], [`qos_keys`], [`dhcp_key`] and
//! [`dns_key`].

use std::collections::BTreeMap;

use super::{Lowering, boolean, integer, map, references, string, strings};
use crate::compiler::model::{Acl, DhcpOptions, Model, Qos};
use crate::ovsdb::Datum;
use crate::rows::{Cell, Db, Row, RowKey, Value, identity};

pub(super) fn lower(cx: &mut Lowering, model: &Model) {
    for (name, addresses) in &model.address_sets {
        let row = Row::new()
            .with("name", string(name.as_str()))
            .with("addresses", strings(addresses.iter().cloned()));
        cx.nb("Address_Set", RowKey::name(name.as_str()), row);
    }
    for (name, pg) in &model.port_groups {
        acls(cx, name, &pg.acls);
        let row = Row::new()
            .with("name", string(name.as_str()))
            .with(
                "ports",
                references(
                    "Logical_Switch_Port",
                    pg.ports.iter().map(|p| RowKey::name(p.as_str())),
                ),
            )
            .with("acls", references("ACL", acl_keys(name, &pg.acls)));
        cx.nb("Port_Group", RowKey::name(name.as_str()), row);
    }
    for (name, sw) in &model.switches {
        acls(cx, name, &sw.acls);
        for q in &sw.qos {
            let mut row = rule_row(q.direction.as_str(), q.priority, &q.matches);
            let mut bandwidth = BTreeMap::new();
            if let Some(r) = q.rate {
                bandwidth.insert("rate", r);
            }
            if let Some(b) = q.burst {
                bandwidth.insert("burst", b);
            }
            row.set("bandwidth", integer_map(bandwidth));
            row.set(
                "action",
                integer_map(q.dscp.map(|d| ("dscp", d)).into_iter().collect()),
            );
            cx.nb("QoS", qos_key(name, q), row);
        }
        for (family, options) in [("v4", &sw.dhcp4), ("v6", &sw.dhcp6)] {
            if let Some(d) = options {
                cx.tagged("DHCP_Options", dhcp_key(name, family), dhcp_row(d));
            }
        }
        if !sw.dns_records.is_empty() {
            let records = sw.dns_records.iter().map(|(host, ips)| {
                let ips: Vec<String> = ips.iter().map(ToString::to_string).collect();
                (host.clone(), ips.join(" "))
            });
            let row = Row::new().with("records", map(records));
            cx.tagged("DNS", dns_key(name), row);
        }
    }
    for (name, lb) in &model.load_balancers {
        let mut row = Row::new().with("name", string(name.as_str())).with(
            "vips",
            map(lb.vips.iter().map(|(v, b)| (v.clone(), b.join(",")))),
        );
        if let Some(p) = lb.protocol {
            row.set("protocol", string(p.as_str()));
        }
        let mut checks = Vec::new();
        if let Some(hc) = &lb.health_check {
            for vip in lb.vips.keys() {
                let key = identity::health_check_key(name, vip);
                let hc_row = Row::new()
                    .with("vip", string(vip.as_str()))
                    .with("options", map(hc.options.clone()));
                checks.push(key.clone());
                cx.nb("Load_Balancer_Health_Check", key, hc_row);
            }
            row.set("ip_port_mappings", map(hc.mappings.clone()));
        }
        row.set(
            "health_check",
            references("Load_Balancer_Health_Check", checks),
        );
        cx.nb("Load_Balancer", RowKey::name(name.as_str()), row);
    }
}

fn acls(cx: &mut Lowering, parent: &str, acls: &[Acl]) {
    for a in acls {
        let mut row = rule_row(a.direction.as_str(), a.priority, &a.matches)
            .with("action", string(a.action.as_str()))
            .with("log", boolean(a.log));
        if let Some(s) = a.severity {
            row.set("severity", string(s.as_str()));
        }
        if let Some(n) = &a.name {
            row.set("name", string(n.as_str()));
        }
        if let Some(l) = a.label {
            row.set("label", integer(l));
        }
        if let Some(m) = &a.meter {
            row.set("meter", string(m.as_str()));
        }
        cx.nb("ACL", acl_key(parent, a), row);
    }
}

fn rule_row(direction: &str, priority: i64, matches: &str) -> Row {
    Row::new()
        .with("direction", string(direction))
        .with("priority", integer(priority))
        .with("match", string(matches))
}

fn dhcp_row(d: &DhcpOptions) -> Row {
    Row::new()
        .with("cidr", string(d.cidr.to_string()))
        .with("options", map(d.options.clone()))
}

fn integer_map(pairs: BTreeMap<&str, i64>) -> Cell {
    Datum::map(
        pairs
            .into_iter()
            .map(|(k, v)| (Value::from(k), Value::Atom(crate::ovsdb::Atom::Integer(v)))),
    )
}

fn acl_key(parent: &str, a: &Acl) -> RowKey {
    identity::rule_key(parent, a.direction.as_str(), a.priority, &a.matches)
}

fn qos_key(switch: &str, q: &Qos) -> RowKey {
    identity::rule_key(switch, q.direction.as_str(), q.priority, &q.matches)
}

/// The keys of a switch's or port group's ACLs.
pub(super) fn acl_keys<'a>(parent: &'a str, acls: &'a [Acl]) -> impl Iterator<Item = RowKey> + 'a {
    acls.iter().map(move |a| acl_key(parent, a))
}

pub(super) fn qos_keys<'a>(switch: &'a str, rules: &'a [Qos]) -> impl Iterator<Item = RowKey> + 'a {
    rules.iter().map(move |q| qos_key(switch, q))
}

/// A switch's `DHCP_Options` row of one family (`v4`, `v6`): tagged `<switch>/<family>`.
pub(super) fn dhcp_key(switch: &str, family: &str) -> RowKey {
    RowKey::name(format!("{switch}/{family}"))
}

/// A switch's `DNS` row, tagged with the switch's name.
pub(super) fn dns_key(switch: &str) -> RowKey {
    RowKey::name(switch)
}

impl Lowering<'_> {
    /// Inserts a row of a [`identity::Rule::Tagged`] table: its key is also written as
    /// [`identity::NAME_TAG`] in `external_ids`, next to the ownership mark.
    fn tagged(&mut self, table: &str, key: RowKey, mut row: Row) {
        let mut ids: Vec<(String, String)> = crate::rows::ownership::mark(self.stack).into();
        ids.push((identity::NAME_TAG.to_owned(), key.to_string()));
        row.set("external_ids", map(ids));
        let previous = self.state.insert(Db::Northbound, table, key, row);
        debug_assert!(
            previous.is_none(),
            "invariant: one {table} row per switch and family"
        );
    }
}

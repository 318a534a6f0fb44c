//! Security and services: address sets, port groups and ACLs, QoS rules, load balancers with
//! their health checks, DHCP options and DNS records. Load balancer groups are not imported
//! (OVN gives `Load_Balancer_Group` no `external_ids`, so topo cannot own one): they stay in
//! the other-tables note.
//!
//! `DHCP_Options` and `DNS` rows have no name in OVN; a switch's are found through the rows
//! that reference them (its ports' `dhcpv4_options` / `dhcpv6_options`, its `dns_records`).
//! Rows another tool made carry no `topo:name` tag, so the live read left them unkeyed: each
//! one imported is recorded in [`Cx::tags`] with the key topo gives it, and `--adopt` writes
//! that key as the tag next to the ownership mark.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use uuid::Uuid;

use super::yaml::Node;
use super::{Cx, col_bool, col_int, col_map, col_refs, col_str, col_strs, name_of};
use crate::compiler::naming::is_match_identifier;
use crate::ovsdb::{Atom, Columns, Datum};
use crate::rows::{Db, Row, RowKey, Value};

/// The rows of `table` this stack may import, with their names: rows of other stacks are
/// noted and left out.
fn importable(cx: &mut Cx, table: &str, what: &str) -> Vec<(RowKey, Row, String)> {
    let rows: Vec<(RowKey, Row)> = cx.nb(table).map(|(k, r)| (k.clone(), r.clone())).collect();
    let mut out = Vec::new();
    for (key, row) in rows {
        let name = name_of(&key);
        if let Some(o) = cx.foreign(&row) {
            cx.note(format!("{what} {name}: owned by stack {o}; not imported"));
            continue;
        }
        out.push((key, row, name));
    }
    out
}

pub(super) fn address_sets(cx: &mut Cx) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    for (key, row, name) in importable(cx, "Address_Set", "address set") {
        if !is_match_identifier(&name) {
            cx.note(format!(
                "address set {name}: the name is not usable in a match; not imported"
            ));
            continue;
        }
        cx.unhandled("Address_Set", &key, &format!("address set {name}"));
        let addresses = col_strs(&row, "addresses");
        out.push((
            name,
            Node::List(addresses.iter().map(|a| Node::str(a.as_str())).collect()),
        ));
    }
    out
}

pub(super) fn port_groups(cx: &mut Cx, switches: &BTreeSet<String>) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    for (key, row, name) in importable(cx, "Port_Group", "port group") {
        if !is_match_identifier(&name) || switches.contains(&name) {
            cx.note(format!(
                "port group {name}: the name is not usable in a match or is a switch's; not \
                 imported"
            ));
            continue;
        }
        let what = format!("port group {name}");
        cx.unhandled("Port_Group", &key, &what);
        let mut body = Vec::new();
        let ports: Vec<Node> = col_refs(&row, "ports")
            .iter()
            .map(|k| Node::str(name_of(k)))
            .collect();
        if !ports.is_empty() {
            body.push(("ports".to_owned(), Node::List(ports)));
        }
        if let Some(acls) = acls(cx, &row, "acls") {
            body.push(("acls".to_owned(), acls));
        }
        out.push((name, Node::Map(body)));
    }
    out
}

/// The ACLs a switch's or port group's `column` references, as flow maps.
fn acls(cx: &mut Cx, parent: &Row, column: &str) -> Option<Node> {
    let mut list = Vec::new();
    for k in col_refs(parent, column) {
        let Some(acl) = cx.row("ACL", &k).cloned() else {
            continue;
        };
        cx.unhandled("ACL", &k, &format!("acl {k}"));
        let mut f: Vec<(String, Node)> = vec![
            (
                "direction".to_owned(),
                Node::str(col_str(&acl, "direction").unwrap_or_default()),
            ),
            (
                "priority".to_owned(),
                Node::Int(col_int(&acl, "priority").unwrap_or_default()),
            ),
        ];
        f.push((
            "match".to_owned(),
            Node::str(col_str(&acl, "match").unwrap_or_default()),
        ));
        f.push((
            "action".to_owned(),
            Node::str(col_str(&acl, "action").unwrap_or_default()),
        ));
        if col_bool(&acl, "log") == Some(true) {
            f.push(("log".to_owned(), Node::Bool(true)));
        }
        for (key, col) in [
            ("severity", "severity"),
            ("name", "name"),
            ("meter", "meter"),
        ] {
            if let Some(v) = col_str(&acl, col) {
                f.push((key.to_owned(), Node::str(v)));
            }
        }
        if let Some(l) = col_int(&acl, "label").filter(|l| *l != 0) {
            f.push(("label".to_owned(), Node::Int(l)));
        }
        list.push(Node::Flow(f));
    }
    (!list.is_empty()).then_some(Node::List(list))
}

fn qos(cx: &mut Cx, sw: &Row) -> Option<Node> {
    let mut list = Vec::new();
    for k in col_refs(sw, "qos_rules") {
        let Some(q) = cx.row("QoS", &k).cloned() else {
            continue;
        };
        cx.unhandled("QoS", &k, &format!("qos {k}"));
        let mut f: Vec<(String, Node)> = vec![
            (
                "direction".to_owned(),
                Node::str(col_str(&q, "direction").unwrap_or_default()),
            ),
            (
                "priority".to_owned(),
                Node::Int(col_int(&q, "priority").unwrap_or_default()),
            ),
            (
                "match".to_owned(),
                Node::str(col_str(&q, "match").unwrap_or_default()),
            ),
        ];
        let ints = |c: &str| -> BTreeMap<String, i64> {
            q.get(c)
                .and_then(Datum::as_map)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| match (k, v) {
                            (Value::Atom(Atom::String(k)), Value::Atom(Atom::Integer(v))) => {
                                Some((k.clone(), *v))
                            }
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let bandwidth = ints("bandwidth");
        for key in ["rate", "burst"] {
            if let Some(v) = bandwidth.get(key) {
                f.push((key.to_owned(), Node::Int(*v)));
            }
        }
        if let Some(d) = ints("action").get("dscp") {
            f.push(("dscp".to_owned(), Node::Int(*d)));
        }
        list.push(Node::Flow(f));
    }
    (!list.is_empty()).then_some(Node::List(list))
}

/// Names of the rows a reference column names, as a list node (`None` when empty).
fn names(row: &Row, column: &str) -> Option<Node> {
    let list: Vec<Node> = col_refs(row, column)
        .iter()
        .map(|k| Node::str(name_of(k)))
        .collect();
    (!list.is_empty()).then_some(Node::List(list))
}

/// A switch's ACLs, QoS rules, load balancers, DHCP and DNS records, and the ports that stay
/// out of its DHCP (`dhcp: false`).
pub(super) fn switch_services(
    cx: &mut Cx,
    key: &RowKey,
    sw: &Row,
) -> (Vec<(String, Node)>, BTreeSet<String>) {
    let name = name_of(key);
    let mut body = Vec::new();
    if let Some(a) = acls(cx, sw, "acls") {
        body.push(("acls".to_owned(), a));
    }
    if let Some(q) = qos(cx, sw) {
        body.push(("qos".to_owned(), q));
    }
    if let Some(l) = names(sw, "load_balancer") {
        body.push(("load-balancers".to_owned(), l));
    }
    let subnet = col_map(sw, "other_config").get("subnet").cloned();
    let prefix = col_map(sw, "other_config").get("ipv6_prefix").cloned();
    let mut dhcp = Vec::new();
    let mut opted_out = BTreeSet::new();
    for (family, column, declared) in [
        ("v4", "dhcpv4_options", subnet),
        ("v6", "dhcpv6_options", prefix),
    ] {
        if let Some((node, out)) = switch_dhcp(cx, &name, sw, family, column, declared) {
            dhcp.push((family.to_owned(), Node::Flow(node)));
            opted_out.extend(out);
        }
    }
    if !dhcp.is_empty() {
        body.push(("dhcp".to_owned(), Node::Map(dhcp)));
    }
    if let Some(d) = switch_dns(cx, &name, sw) {
        body.push(("dns-records".to_owned(), d));
    }
    (body, opted_out)
}

/// What a reference cell holds: a keyed row, or the UUID of an unkeyed one.
enum Target {
    Keyed(RowKey),
    Unkeyed(Uuid),
}

fn targets(row: &Row, column: &str) -> Vec<Target> {
    row.get(column)
        .and_then(Datum::as_set)
        .map(|s| {
            s.iter()
                .filter_map(|v| match v {
                    Value::Ref(r) => Some(Target::Keyed(r.key.clone())),
                    Value::Atom(Atom::Uuid(u)) => Some(Target::Unkeyed(*u)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The columns of a referenced `DHCP_Options` / `DNS` row; an unkeyed one is recorded to be
/// named `key` on adoption.
fn tagged_row(cx: &mut Cx, table: &str, target: &Target, key: &RowKey) -> Option<Row> {
    match target {
        Target::Keyed(k) => {
            let row = cx.row(table, k)?.clone();
            if k != key {
                cx.note(format!(
                    "{table} {k}: named for another switch; imported as {key}"
                ));
            }
            Some(row)
        }
        Target::Unkeyed(u) => {
            let columns: &Columns = cx
                .input
                .live
                .others
                .iter()
                .find(|(t, id, _)| t == table && id == u)
                .map(|(_, _, c)| c)?;
            let row = Row {
                columns: columns
                    .iter()
                    .filter(|(c, _)| !c.starts_with('_'))
                    .map(|(c, d)| {
                        let cell = d
                            .try_map_atoms::<Value, std::convert::Infallible>(|a| {
                                Ok(Value::Atom(a.clone()))
                            })
                            .unwrap_or_default();
                        (c.clone(), cell)
                    })
                    .collect(),
            };
            if let Some(o) = super::ownership::owner(&row).filter(|o| o != cx.input.stack) {
                cx.note(format!("{table} {u}: owned by stack {o}; not imported"));
                return None;
            }
            cx.tags.push((table.to_owned(), *u, key.clone()));
            Some(row)
        }
    }
}

/// A flow mapping's entries.
type Fields = Vec<(String, Node)>;

fn switch_dhcp(
    cx: &mut Cx,
    switch: &str,
    sw: &Row,
    family: &str,
    column: &str,
    declared: Option<String>,
) -> Option<(Fields, BTreeSet<String>)> {
    // The options each VIF port of the switch references.
    let mut used: Vec<(String, Option<Target>)> = Vec::new();
    for p in col_refs(sw, "ports") {
        let Some(port) = cx.row("Logical_Switch_Port", &p) else {
            continue;
        };
        if col_str(port, "type").is_some_and(|t| !t.is_empty()) {
            continue;
        }
        used.push((name_of(&p), targets(port, column).into_iter().next()));
    }
    let mut distinct: Vec<&Target> = Vec::new();
    for t in used.iter().filter_map(|(_, t)| t.as_ref()) {
        let same = distinct.iter().any(|d| match (d, t) {
            (Target::Keyed(a), Target::Keyed(b)) => a == b,
            (Target::Unkeyed(a), Target::Unkeyed(b)) => a == b,
            _ => false,
        });
        if !same {
            distinct.push(t);
        }
    }
    let target = match distinct.as_slice() {
        [] => return None,
        [one] => *one,
        _ => {
            cx.note(format!(
                "switch {switch}: its ports use {} different DHCP{family} options; the \
                 language gives a switch one, not imported",
                distinct.len()
            ));
            return None;
        }
    };
    let key = RowKey::name(format!("{switch}/{family}"));
    let target = match target {
        Target::Keyed(k) => Target::Keyed(k.clone()),
        Target::Unkeyed(u) => Target::Unkeyed(*u),
    };
    let row = tagged_row(cx, "DHCP_Options", &target, &key)?;
    let cidr = col_str(&row, "cidr").unwrap_or_default();
    let options = col_map(&row, "options");
    let mut f: Vec<(String, Node)> = Vec::new();
    if declared.as_deref() != Some(cidr.as_str()) {
        f.push(("cidr".to_owned(), Node::str(cidr)));
    }
    let list = |v: &str| -> Vec<Node> {
        v.trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Node::str)
            .collect()
    };
    let unquoted = |v: &str| v.trim_matches('"').to_owned();
    let mut extra = Vec::new();
    if family == "v4" {
        let router = options.get("router");
        if let Some(r) = router {
            f.push(("router".to_owned(), Node::str(r.as_str())));
        }
        for (k, v) in &options {
            match k.as_str() {
                "router" => {}
                "server_id" if Some(v) == router => {}
                "server_id" => f.push(("server-id".to_owned(), Node::str(v.as_str()))),
                "server_mac" => f.push(("server-mac".to_owned(), Node::str(v.as_str()))),
                "lease_time" => match v.parse::<i64>() {
                    Ok(n) => f.push(("lease-time".to_owned(), Node::Int(n))),
                    Err(_) => extra.push((k.clone(), v.clone())),
                },
                "mtu" => match v.parse::<i64>() {
                    Ok(n) => f.push(("mtu".to_owned(), Node::Int(n))),
                    Err(_) => extra.push((k.clone(), v.clone())),
                },
                "dns_server" if is_ip_list(v) => {
                    f.push(("dns-server".to_owned(), Node::List(list(v))))
                }
                "domain_name" => f.push(("domain-name".to_owned(), Node::str(unquoted(v)))),
                _ => extra.push((k.clone(), v.clone())),
            }
        }
        if !options.contains_key("lease_time") {
            cx.note(format!(
                "switch {switch}: DHCPv4 options without lease_time; topo writes its default \
                 (3600)"
            ));
        }
    } else {
        for (k, v) in &options {
            match k.as_str() {
                "server_id" => f.push(("server-id".to_owned(), Node::str(v.as_str()))),
                "dns_server" if is_ip_list(v) => {
                    f.push(("dns-server".to_owned(), Node::List(list(v))))
                }
                "domain_search" => f.push(("domain-search".to_owned(), Node::str(unquoted(v)))),
                "dhcpv6_stateless" if v == "true" => {
                    f.push(("stateless".to_owned(), Node::Bool(true)))
                }
                _ => extra.push((k.clone(), v.clone())),
            }
        }
    }
    if !extra.is_empty() {
        f.push((
            "options".to_owned(),
            Node::Flow(extra.into_iter().map(|(k, v)| (k, Node::str(v))).collect()),
        ));
    }
    // VIF ports with an address of the family that reference nothing stay out.
    let opted_out = used
        .iter()
        .filter(|(_, t)| t.is_none())
        .filter(|(p, _)| {
            cx.row("Logical_Switch_Port", &RowKey::name(p.as_str()))
                .is_some_and(|port| has_family(port, family))
        })
        .map(|(p, _)| p.clone())
        .collect();
    Some((f, opted_out))
}

fn is_ip_list(v: &str) -> bool {
    v.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .map(str::trim)
        .all(|s| s.parse::<IpAddr>().is_ok())
}

/// Whether a port's `addresses` hold an address of `family` (or ask for one dynamically).
fn has_family(port: &Row, family: &str) -> bool {
    col_strs(port, "addresses").iter().any(|a| {
        a.split_whitespace().any(|w| {
            w == "dynamic"
                || w.parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_ipv4() == (family == "v4"))
        })
    })
}

fn switch_dns(cx: &mut Cx, switch: &str, sw: &Row) -> Option<Node> {
    let all = targets(sw, "dns_records");
    let target = match all.as_slice() {
        [] => return None,
        [one] => one,
        _ => {
            cx.note(format!(
                "switch {switch}: {} DNS rows; the language gives a switch one, not imported",
                all.len()
            ));
            return None;
        }
    };
    let row = tagged_row(cx, "DNS", target, &RowKey::name(switch))?;
    let records = col_map(&row, "records");
    Some(Node::Map(
        records
            .into_iter()
            .map(|(host, ips)| {
                (
                    host,
                    Node::List(ips.split_whitespace().map(Node::str).collect()),
                )
            })
            .collect(),
    ))
}

/// A router's load balancers.
pub(super) fn router_services(router: &Row) -> Vec<(String, Node)> {
    let mut body = Vec::new();
    if let Some(l) = names(router, "load_balancer") {
        body.push(("load-balancers".to_owned(), l));
    }
    body
}

pub(super) fn load_balancers(cx: &mut Cx) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    for (key, lb, name) in importable(cx, "Load_Balancer", "load balancer") {
        let what = format!("load balancer {name}");
        cx.unhandled("Load_Balancer", &key, &what);
        let mut body = Vec::new();
        if let Some(p) = col_str(&lb, "protocol") {
            body.push(("protocol".to_owned(), Node::str(p)));
        }
        let vips = col_map(&lb, "vips");
        body.push((
            "vips".to_owned(),
            Node::Map(
                vips.iter()
                    .map(|(vip, backends)| {
                        (
                            vip.clone(),
                            Node::List(
                                backends
                                    .split(',')
                                    .map(str::trim)
                                    .filter(|b| !b.is_empty())
                                    .map(Node::str)
                                    .collect(),
                            ),
                        )
                    })
                    .collect(),
            ),
        ));
        let checks = col_refs(&lb, "health_check");
        if let Some(first) = checks
            .first()
            .and_then(|k| cx.row("Load_Balancer_Health_Check", k))
        {
            let options = col_map(first, "options");
            let mut hc: Vec<(String, Node)> = Vec::new();
            for (k, yaml) in [
                ("interval", "interval"),
                ("timeout", "timeout"),
                ("success_count", "success-count"),
                ("failure_count", "failure-count"),
            ] {
                if let Some(n) = options.get(k).and_then(|v| v.parse::<i64>().ok()) {
                    hc.push((yaml.to_owned(), Node::Int(n)));
                }
            }
            let sources: BTreeSet<String> = col_map(&lb, "ip_port_mappings")
                .values()
                .filter_map(|v| {
                    v.split_once(':')
                        .map(|(_, src)| src.trim_matches(['[', ']']).to_owned())
                })
                .collect();
            hc.push((
                "source-ips".to_owned(),
                Node::List(sources.iter().map(|s| Node::str(s.as_str())).collect()),
            ));
            body.push(("health-check".to_owned(), Node::Flow(hc)));
            if checks.len() != vips.len() {
                cx.note(format!(
                    "{what}: health checks on {} of {} VIPs; topo checks every VIP of a \
                     balancer with a health check",
                    checks.len(),
                    vips.len()
                ));
            }
        }
        out.push((name, Node::Map(body)));
    }
    out
}

/// The `DHCP_Options` / `DNS` rows import named: they are keyed so in `live`, as after
/// adoption.
pub(crate) fn name_tagged(live: &mut crate::rows::live::Live, tags: &[(String, Uuid, RowKey)]) {
    for (table, uuid, key) in tags {
        crate::live::name_other(live, &Db::Northbound, table, *uuid, key.clone());
    }
}

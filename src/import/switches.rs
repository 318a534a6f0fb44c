//! Switches and their ports (router-type ports are imported with their router).

use std::collections::BTreeMap;

use super::yaml::Node;
use super::{Cx, col_bool, col_int, col_map, col_refs, col_str, col_strs, first_ref, name_of};
use crate::rows::{Row, RowKey};

pub(super) fn switches(cx: &mut Cx, rows: &[(RowKey, Row)]) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    for (key, sw) in rows {
        let name = name_of(key);
        if let Some(o) = cx.foreign(sw) {
            cx.note(format!("switch {name}: owned by stack {o}; not imported"));
            continue;
        }
        let what = format!("switch {name}");
        cx.unhandled("Logical_Switch", key, &what);
        let oc = col_map(sw, "other_config");
        cx.unknown_keys(
            &what,
            "other_config",
            &oc,
            &["subnet", "ipv6_prefix", "exclude_ips"],
        );
        let mut body: Vec<(String, Node)> = Vec::new();
        if let Some(s) = oc.get("subnet") {
            body.push(("subnet".to_owned(), Node::str(s.as_str())));
        }
        if let Some(s) = oc.get("ipv6_prefix") {
            body.push(("ipv6-prefix".to_owned(), Node::str(s.as_str())));
        }
        if let Some(s) = oc.get("exclude_ips") {
            body.push((
                "exclude-ips".to_owned(),
                Node::List(s.split_whitespace().map(Node::str).collect()),
            ));
        }
        let (services, no_dhcp) = super::services::switch_services(cx, key, sw);
        let mut ports = Vec::new();
        for p_key in col_refs(sw, "ports") {
            let Some(p) = cx.row("Logical_Switch_Port", &p_key).cloned() else {
                continue;
            };
            let ty = col_str(&p, "type").unwrap_or_default();
            if ty == "router" {
                continue; // imported with its router
            }
            let pname = name_of(&p_key);
            if let Some(mut f) = switch_port(cx, &pname, &p_key, &ty, &p) {
                if no_dhcp.contains(&pname) {
                    f.push(("dhcp".to_owned(), Node::Bool(false)));
                }
                ports.push((pname, Node::Flow(f)));
            }
        }
        if !ports.is_empty() {
            body.push(("ports".to_owned(), Node::Map(ports)));
        }
        body.extend(services);
        out.push((name, Node::Map(body)));
    }
    out
}

/// One non-router LSP as a flow mapping; `None` when its type is unknown to topo.
fn switch_port(
    cx: &mut Cx,
    name: &str,
    key: &RowKey,
    ty: &str,
    p: &Row,
) -> Option<Vec<(String, Node)>> {
    let what = format!("switch port {name}");
    let word = match ty {
        "" => "vif",
        "localnet" | "localport" | "l2gateway" | "vtep" | "external" | "virtual" => ty,
        other => {
            cx.note(format!(
                "{what}: type {other} is not in the topology language; not imported"
            ));
            return None;
        }
    };
    cx.unhandled("Logical_Switch_Port", key, &what);
    let mut f: Vec<(String, Node)> = Vec::new();
    if word != "vif" {
        f.push(("type".to_owned(), Node::str(word)));
    }
    let options = col_map(p, "options");
    let addresses = col_strs(p, "addresses");
    let mut known_options: Vec<&str> = Vec::new();
    match word {
        "localnet" | "l2gateway" | "vtep" => {
            if addresses != ["unknown"] {
                cx.note(format!(
                    "{what}: addresses {addresses:?}; topo writes [\"unknown\"] for {word} ports"
                ));
            }
            if let Some(n) = options.get("network_name") {
                f.push(("network".to_owned(), Node::str(n.as_str())));
            }
            if word == "l2gateway"
                && let Some(c) = options.get("l2gateway-chassis")
            {
                cx.chassis_used.insert(c.clone());
                if let Some(n) = options.get("network_name") {
                    cx.chassis_networks
                        .entry(c.clone())
                        .or_default()
                        .push(vec![n.clone()]);
                }
                f.push(("chassis".to_owned(), Node::str(c.as_str())));
            }
            if let Some(v) = options.get("vtep-physical-switch") {
                f.push(("vtep-physical-switch".to_owned(), Node::str(v.as_str())));
            }
            if let Some(v) = options.get("vtep-logical-switch") {
                f.push(("vtep-logical-switch".to_owned(), Node::str(v.as_str())));
            }
            known_options.extend([
                "network_name",
                "l2gateway-chassis",
                "vtep-physical-switch",
                "vtep-logical-switch",
            ]);
            if let Some(tag) = col_int(p, "tag_request") {
                f.push(("tag".to_owned(), Node::Int(tag)));
            }
        }
        _ => {
            addresses_of(cx, &what, word, &addresses, &mut f);
            if word == "vif"
                && let Some(c) = options.get("requested-chassis")
            {
                cx.chassis_used.insert(c.clone());
                f.push(("chassis".to_owned(), Node::str(c.as_str())));
                known_options.push("requested-chassis");
            }
            if word == "virtual" {
                if let Some(vip) = options.get("virtual-ip") {
                    f.retain(|(k, _)| k != "ip" && k != "ips");
                    f.push(("ip".to_owned(), Node::str(vip.as_str())));
                }
                if let Some(parents) = options.get("virtual-parents") {
                    f.push((
                        "parents".to_owned(),
                        Node::List(
                            parents
                                .split(',')
                                .filter(|s| !s.is_empty())
                                .map(Node::str)
                                .collect(),
                        ),
                    ));
                }
                known_options.extend(["virtual-ip", "virtual-parents"]);
            }
            if word == "external"
                && let Some(g) = first_ref(p, "ha_chassis_group")
            {
                f.push(("ha-group".to_owned(), Node::str(name_of(&g))));
            }
            if col_int(p, "tag_request").is_some() {
                cx.note(format!(
                    "{what}: tag_request on a {word} port is not expressible; not imported"
                ));
            }
            let ps = col_strs(p, "port_security");
            let own: Vec<String> = addresses
                .iter()
                .filter(|a| *a != "unknown" && *a != "dynamic")
                .cloned()
                .collect();
            if !ps.is_empty() {
                if ps == own && word != "virtual" {
                    f.push(("port-security".to_owned(), Node::Bool(true)));
                } else {
                    f.push((
                        "port-security".to_owned(),
                        Node::List(ps.into_iter().map(Node::Str).collect()),
                    ));
                }
            }
        }
    }
    cx.unknown_keys(&what, "options", &options, &known_options);
    if let Some(e) = col_bool(p, "enabled") {
        f.push(("enabled".to_owned(), Node::Bool(e)));
    }
    Some(f)
}

/// `addresses` of a vif / localport / external / virtual port as mac, ip(s), dynamic, unknown.
fn addresses_of(
    cx: &mut Cx,
    what: &str,
    word: &str,
    addresses: &[String],
    f: &mut Vec<(String, Node)>,
) {
    let mut entries: Vec<&String> = addresses.iter().filter(|a| *a != "unknown").collect();
    if addresses.iter().any(|a| a == "unknown") {
        if word == "vif" {
            f.push(("unknown".to_owned(), Node::Bool(true)));
        } else {
            cx.note(format!(
                "{what}: `unknown` in addresses is only expressible on vif ports"
            ));
        }
    }
    if entries.len() > 1 {
        cx.note(format!(
            "{what}: several address entries {entries:?}; only the first is imported"
        ));
    }
    let Some(first) = entries.drain(..).next() else {
        return;
    };
    let words: Vec<&str> = first.split_whitespace().collect();
    match words.as_slice() {
        ["dynamic"] => f.push(("dynamic".to_owned(), Node::Bool(true))),
        [mac, "dynamic"] => {
            f.push(("mac".to_owned(), Node::str(*mac)));
            f.push(("dynamic".to_owned(), Node::Bool(true)));
        }
        [mac] => f.push(("mac".to_owned(), Node::str(*mac))),
        [mac, ip] => {
            f.push(("mac".to_owned(), Node::str(*mac)));
            f.push(("ip".to_owned(), Node::str(*ip)));
        }
        [mac, ips @ ..] => {
            f.push(("mac".to_owned(), Node::str(*mac)));
            f.push((
                "ips".to_owned(),
                Node::List(ips.iter().map(|s| Node::str(*s)).collect()),
            ));
        }
        [] => {}
    }
}

/// The physical networks of each switch with localnet ports (by switch name): the networks a
/// gateway's chassis must reach when the gateway faces that switch.
pub(super) fn localnet_networks(
    cx: &Cx,
    switches: &[(RowKey, Row)],
) -> BTreeMap<String, Vec<String>> {
    switches
        .iter()
        .filter_map(|(k, sw)| {
            let nets: Vec<String> = col_refs(sw, "ports")
                .iter()
                .filter_map(|k| cx.row("Logical_Switch_Port", k))
                .filter(|p| col_str(p, "type").as_deref() == Some("localnet"))
                .map(|p| {
                    col_map(p, "options")
                        .get("network_name")
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            (!nets.is_empty()).then(|| (name_of(k), nets))
        })
        .collect()
}

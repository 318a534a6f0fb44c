//! Chassis (from the Southbound, plus every chassis the Northbound rows name) and HA chassis
//! groups.

use std::collections::BTreeSet;

use super::yaml::Node;
use super::{Cx, col_int, col_refs, col_str, name_of};
use crate::live::southbound::{Encap, SbChassis};
use crate::rows::{Row, RowKey};

pub(super) fn ha_groups(cx: &mut Cx) -> Vec<(String, Node)> {
    let groups: Vec<(RowKey, Row)> = cx
        .nb("HA_Chassis_Group")
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect();
    let mut out = Vec::new();
    for (key, g) in groups {
        if let Some(o) = cx.foreign(&g) {
            cx.note(format!(
                "HA chassis group {key}: owned by stack {o}; not imported"
            ));
            continue;
        }
        let name = name_of(&key);
        cx.unhandled(
            "HA_Chassis_Group",
            &key,
            &format!("HA chassis group {name}"),
        );
        let mut members = Vec::new();
        for m in col_refs(&g, "ha_chassis") {
            let Some(row) = cx.row("HA_Chassis", &m).cloned() else {
                continue;
            };
            let (Some(ch), Some(prio)) = (col_str(&row, "chassis_name"), col_int(&row, "priority"))
            else {
                continue;
            };
            cx.unhandled("HA_Chassis", &m, &format!("HA chassis {name}/{ch}"));
            cx.chassis_used.insert(ch.clone());
            members.push((ch, Node::Int(prio)));
        }
        out.push((name, Node::Flow(members)));
    }
    out
}

pub(super) fn chassis(cx: &mut Cx) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    let sb: Vec<SbChassis> = cx.input.chassis.map(<[_]>::to_vec).unwrap_or_default();
    // A hardware VTEP's chassis is a `vteps` entry (`vteps.rs`), unless the rows name it.
    let mut names: BTreeSet<String> = sb
        .iter()
        .filter(|c| !c.is_vtep())
        .map(|c| c.name.clone())
        .collect();
    names.extend(cx.chassis_used.iter().cloned());
    let mut placeholder = 0u8;
    for name in names {
        let found = sb.iter().find(|c| c.name == name);
        let mut f: Vec<(String, Node)> = Vec::new();
        match found.and_then(|c| {
            c.encaps
                .iter()
                .find(|e| e.kind == "geneve")
                .or(c.encaps.first())
        }) {
            Some(Encap { kind: ty, ip }) => {
                if found.is_some_and(|c| c.encaps.len() > 1) {
                    cx.note(format!(
                        "chassis {name}: several encapsulations; only {ty} {ip} is imported"
                    ));
                }
                f.push((
                    "encap".to_owned(),
                    Node::Flow(vec![
                        ("type".to_owned(), Node::str(ty.as_str())),
                        ("ip".to_owned(), Node::str(ip.as_str())),
                    ]),
                ));
            }
            None => {
                placeholder = placeholder.saturating_add(1);
                let ip = format!("192.0.2.{placeholder}");
                cx.note(format!(
                    "chassis {name}: named by the Northbound but {} the Southbound database; its \
                     encap is a placeholder ({ip}, a documentation address): fill it in",
                    if cx.input.chassis.is_some() {
                        "absent from"
                    } else {
                        "not read from"
                    }
                ));
                f.push((
                    "encap".to_owned(),
                    Node::Flow(vec![
                        ("type".to_owned(), Node::str("geneve")),
                        ("ip".to_owned(), Node::str(ip)),
                    ]),
                ));
            }
        }
        // The mappings ovn-controller uses there (malformed entries are not mappings).
        let mut mappings: Vec<(String, String)> = found
            .map(|c| c.bridge_mappings().entries().clone().into_iter().collect())
            .unwrap_or_default();
        // An l2gateway port's chassis must map its network; when the Southbound does not say
        // how, a placeholder bridge keeps the file valid, and a note says so.
        for nets in cx.chassis_networks.get(&name).cloned().unwrap_or_default() {
            let Some(net) = nets.first().cloned() else {
                continue;
            };
            if !mappings.iter().any(|(n, _)| nets.contains(n)) {
                let bridge = format!("br-{net}");
                cx.note(format!(
                    "chassis {name}: a gateway or l2gateway port needs network {net} there, but \
                     the Southbound has no bridge mapping for it; written as the placeholder \
                     `{net}: {bridge}`: fill in the real bridge"
                ));
                mappings.push((net, bridge));
            }
        }
        if !mappings.is_empty() {
            f.push((
                "bridge-mappings".to_owned(),
                Node::Flow(
                    mappings
                        .iter()
                        .map(|(n, b)| (n.clone(), Node::str(b.as_str())))
                        .collect(),
                ),
            ));
        }
        out.push((name, Node::Flow(f)));
    }
    out
}

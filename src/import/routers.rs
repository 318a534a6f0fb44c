//! Routers: their ports (with the switch side of each), distributed gateway ports, static
//! routes, policies and NAT.

use std::collections::BTreeMap;

use super::yaml::Node;
use super::{Cx, col_int, col_map, col_refs, col_str, col_strs, first_ref, name_of};
use crate::compiler::naming::{Mac, gateway_chassis_name, lrp_name, router_lsp_name};
use crate::rows::{Row, RowKey};

/// A router port's switch side: the router-type LSP whose `options:router-port` names it.
#[derive(Debug, Clone)]
pub(super) struct SwitchSide {
    switch: String,
    lsp: String,
    addresses: Vec<String>,
    nat_addresses: Option<String>,
}

/// The switch side of each router port, by the LRP's name: the router-type LSPs of the
/// stack's switches (and a note for each one that names no existing router port).
pub(super) fn switch_sides(
    cx: &mut Cx,
    switches: &[(RowKey, Row)],
) -> BTreeMap<String, SwitchSide> {
    let mut sides: BTreeMap<String, SwitchSide> = BTreeMap::new();
    for (sw_key, sw) in switches {
        if cx.foreign(sw).is_some() {
            continue;
        }
        for lsp_key in col_refs(sw, "ports") {
            let Some(lsp) = cx.row("Logical_Switch_Port", &lsp_key).cloned() else {
                continue;
            };
            if col_str(&lsp, "type").as_deref() != Some("router") {
                continue;
            }
            let options = col_map(&lsp, "options");
            let lsp_name = name_of(&lsp_key);
            match options.get("router-port") {
                Some(lrp)
                    if cx
                        .row("Logical_Router_Port", &RowKey::name(lrp.as_str()))
                        .is_some() =>
                {
                    let side = SwitchSide {
                        switch: name_of(sw_key),
                        lsp: lsp_name.clone(),
                        addresses: col_strs(&lsp, "addresses"),
                        nat_addresses: options.get("nat-addresses").cloned(),
                    };
                    if let Some(first) = sides.insert(lrp.clone(), side) {
                        cx.note(format!(
                            "router port {lrp}: faced by switch ports {} and {lsp_name}; only \
                             {lsp_name} is imported",
                            first.lsp
                        ));
                    }
                    let what = format!("switch port {lsp_name}");
                    cx.unknown_keys(
                        &what,
                        "options",
                        &options,
                        &["router-port", "nat-addresses"],
                    );
                    cx.unhandled("Logical_Switch_Port", &lsp_key, &what);
                }
                Some(lrp) => cx.note(format!(
                    "switch port {lsp_name}: router port {lrp} does not exist; not imported"
                )),
                None => cx.note(format!(
                    "switch port {lsp_name}: type router without options:router-port; not imported"
                )),
            }
        }
    }
    sides
}

pub(super) fn routers(
    cx: &mut Cx,
    sides: &BTreeMap<String, SwitchSide>,
    localnet: &BTreeMap<String, Vec<String>>,
) -> Vec<(String, Node)> {
    // Which router owns each LRP (for peers).
    let rows: Vec<(RowKey, Row)> = cx
        .nb("Logical_Router")
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect();
    let mut owner_of: BTreeMap<String, String> = BTreeMap::new();
    for (key, r) in &rows {
        for p in col_refs(r, "ports") {
            owner_of.insert(name_of(&p), name_of(key));
        }
    }
    let mut out = Vec::new();
    for (key, r) in &rows {
        let name = name_of(key);
        if let Some(o) = cx.foreign(r) {
            cx.note(format!("router {name}: owned by stack {o}; not imported"));
            continue;
        }
        let what = format!("router {name}");
        cx.unhandled("Logical_Router", key, &what);
        let options = col_map(r, "options");
        cx.unknown_keys(&what, "options", &options, &["chassis"]);
        let gateway_router = options.get("chassis").cloned();
        let mut body: Vec<(String, Node)> = Vec::new();
        if let Some(c) = &gateway_router {
            cx.chassis_used.insert(c.clone());
            body.push(("chassis".to_owned(), Node::str(c.as_str())));
        }

        let mut ports = Vec::new();
        // The physical networks of this router's gateway ports' switches.
        let mut gateway_nets: Vec<Vec<String>> = Vec::new();
        for p_key in col_refs(r, "ports") {
            let Some(p) = cx.row("Logical_Router_Port", &p_key).cloned() else {
                continue;
            };
            let lrp = name_of(&p_key);
            let what = format!("router port {lrp}");
            cx.unhandled("Logical_Router_Port", &p_key, &what);
            let mut f: Vec<(String, Node)> = Vec::new();
            // The switch side's settings, written after the port's own.
            let mut tail: Vec<(String, Node)> = Vec::new();
            let gateway = gateway(cx, &lrp, &p);
            let derived = if let Some(side) = sides.get(&lrp) {
                f.push(("switch".to_owned(), Node::str(side.switch.as_str())));
                if side.lsp != router_lsp_name(&side.switch, &name) {
                    tail.push(("switch-port".to_owned(), Node::str(side.lsp.as_str())));
                }
                if side.addresses != ["router"] {
                    tail.push((
                        "switch-port-addresses".to_owned(),
                        Node::List(side.addresses.iter().map(Node::str).collect()),
                    ));
                }
                let default_nat = (gateway_router.is_some() || gateway.is_some())
                    && localnet.contains_key(&side.switch);
                // The gateway's chassis must reach the switch's physical network.
                if let Some(nets) = localnet.get(&side.switch)
                    && (gateway_router.is_some() || gateway.is_some())
                {
                    gateway_nets.push(nets.clone());
                }
                if let Some(nets) = localnet.get(&side.switch) {
                    for ch in gateway_router
                        .iter()
                        .cloned()
                        .chain(gateway_chassis_of(cx, &p))
                    {
                        cx.chassis_networks
                            .entry(ch)
                            .or_default()
                            .push(nets.clone());
                    }
                }
                match (&side.nat_addresses, default_nat) {
                    (Some(v), true) if v == "router" => {}
                    (Some(v), _) => tail.push(("nat-addresses".to_owned(), Node::str(v.as_str()))),
                    (None, true) => tail.push(("nat-addresses".to_owned(), Node::str("none"))),
                    (None, false) => {}
                }
                lrp_name(&name, &side.switch)
            } else if let Some(peer) = col_str(&p, "peer") {
                let Some(other) = owner_of.get(&peer) else {
                    cx.note(format!(
                        "{what}: peer {peer} is no router's port; not imported"
                    ));
                    continue;
                };
                f.push(("peer".to_owned(), Node::str(other.as_str())));
                lrp_name(&name, other)
            } else {
                cx.note(format!(
                    "{what}: connected to no switch (no router-type LSP names it) and no peer; \
                     the topology language cannot express it, not imported"
                ));
                continue;
            };
            if lrp != derived {
                f.insert(0, ("name".to_owned(), Node::str(lrp.as_str())));
            }
            if let Some(mac) = col_str(&p, "mac")
                && mac.parse::<Mac>() != Ok(Mac::derived(&format!("{}/{lrp}", cx.input.stack)))
            {
                f.push(("mac".to_owned(), Node::str(mac)));
            }
            let nets = col_strs(&p, "networks");
            match nets.as_slice() {
                [one] => f.push(("ip".to_owned(), Node::str(one.as_str()))),
                many => f.push((
                    "ips".to_owned(),
                    Node::List(many.iter().map(Node::str).collect()),
                )),
            }
            if let Some(g) = gateway {
                f.push(("gateway".to_owned(), g));
            }
            let ra = col_map(&p, "ipv6_ra_configs");
            if !ra.is_empty() {
                f.push((
                    "ipv6-ra".to_owned(),
                    Node::Flow(ra.into_iter().map(|(k, v)| (k, Node::str(v))).collect()),
                ));
            }
            f.extend(tail);
            ports.push(Node::Flow(f));
        }
        if !ports.is_empty() {
            body.push(("ports".to_owned(), Node::List(ports)));
        }

        let routes = routes(cx, &name, r);
        if !routes.is_empty() {
            body.push(("routes".to_owned(), Node::List(routes)));
        }
        let policies = policies(cx, &name, r);
        if !policies.is_empty() {
            body.push(("policies".to_owned(), Node::List(policies)));
        }
        let nat = nat(cx, &name, r, &gateway_nets);
        if !nat.is_empty() {
            body.push(("nat".to_owned(), Node::List(nat)));
        }
        body.extend(super::services::router_services(r));
        out.push((name, Node::Map(body)));
    }
    out
}

/// The chassis a distributed gateway port may run on: its Gateway_Chassis, or the members
/// of its HA chassis group.
fn gateway_chassis_of(cx: &Cx, p: &Row) -> Vec<String> {
    let mut out: Vec<String> = col_refs(p, "gateway_chassis")
        .iter()
        .filter_map(|k| cx.row("Gateway_Chassis", k))
        .filter_map(|gc| col_str(gc, "chassis_name"))
        .collect();
    if let Some(g) = first_ref(p, "ha_chassis_group")
        && let Some(group) = cx.row("HA_Chassis_Group", &g)
    {
        out.extend(
            col_refs(group, "ha_chassis")
                .iter()
                .filter_map(|k| cx.row("HA_Chassis", k))
                .filter_map(|h| col_str(h, "chassis_name")),
        );
    }
    out
}

/// The `gateway` of a distributed gateway port, from its Gateway_Chassis or HA group.
fn gateway(cx: &mut Cx, lrp: &str, p: &Row) -> Option<Node> {
    if let Some(g) = first_ref(p, "ha_chassis_group") {
        return Some(Node::Flow(vec![(
            "ha-group".to_owned(),
            Node::str(name_of(&g)),
        )]));
    }
    let gcs = col_refs(p, "gateway_chassis");
    if gcs.is_empty() {
        return None;
    }
    let mut prios = Vec::new();
    // ovsdbapp's `<lrp>_<chassis>` when every row is named that way.
    let ovsdbapp = gcs.iter().all(|key| {
        cx.row("Gateway_Chassis", key)
            .and_then(|gc| col_str(gc, "chassis_name"))
            .is_some_and(|ch| name_of(key) == format!("{lrp}_{ch}"))
    });
    for key in gcs {
        let Some(gc) = cx.row("Gateway_Chassis", &key).cloned() else {
            continue;
        };
        let (Some(ch), Some(prio)) = (col_str(&gc, "chassis_name"), col_int(&gc, "priority"))
        else {
            continue;
        };
        let gc_name = name_of(&key);
        cx.unhandled(
            "Gateway_Chassis",
            &key,
            &format!("gateway chassis {gc_name}"),
        );
        let expected = if ovsdbapp {
            format!("{lrp}_{ch}")
        } else {
            gateway_chassis_name(lrp, &ch)
        };
        if gc_name != expected {
            cx.note(format!(
                "gateway chassis {gc_name}: topo names it `{expected}` (`<lrp>-<chassis>`, or \
                 `<lrp>_<chassis>` with `names: ovsdbapp`), so a plan replaces the row"
            ));
        }
        cx.chassis_used.insert(ch.clone());
        prios.push((ch, Node::Int(prio)));
    }
    let mut g = vec![("chassis".to_owned(), Node::Flow(prios))];
    if ovsdbapp {
        g.push(("names".to_owned(), Node::str("ovsdbapp")));
    }
    Some(Node::Flow(g))
}

fn routes(cx: &mut Cx, router: &str, r: &Row) -> Vec<Node> {
    let keys = col_refs(r, "static_routes");
    let rows: Vec<(RowKey, Row)> = keys
        .iter()
        .filter_map(|k| Some((k.clone(), cx.row("Logical_Router_Static_Route", k)?.clone())))
        .collect();
    // Several routes for one prefix and policy: ECMP.
    let mut count: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (_, row) in &rows {
        let prefix = col_str(row, "ip_prefix").unwrap_or_default();
        let policy = col_str(row, "policy").unwrap_or_else(|| "dst-ip".to_owned());
        *count.entry((prefix, policy)).or_default() += 1;
    }
    let mut out = Vec::new();
    for (key, row) in rows {
        let (Some(prefix), Some(nexthop)) = (col_str(&row, "ip_prefix"), col_str(&row, "nexthop"))
        else {
            continue;
        };
        cx.unhandled(
            "Logical_Router_Static_Route",
            &key,
            &format!("router {router}: route {prefix} via {nexthop}"),
        );
        let mut f = vec![
            ("prefix".to_owned(), Node::str(prefix.as_str())),
            ("nexthop".to_owned(), Node::str(nexthop)),
        ];
        let policy = col_str(&row, "policy");
        if let Some(p) = &policy {
            f.push(("policy".to_owned(), Node::str(p.as_str())));
        }
        if let Some(op) = col_str(&row, "output_port") {
            f.push(("output-port".to_owned(), Node::str(op)));
        }
        let policy = policy.unwrap_or_else(|| "dst-ip".to_owned());
        if count.get(&(prefix, policy)).copied().unwrap_or(0) > 1 {
            f.push(("ecmp".to_owned(), Node::Bool(true)));
        }
        out.push(Node::Flow(f));
    }
    out
}

fn policies(cx: &mut Cx, router: &str, r: &Row) -> Vec<Node> {
    let mut out = Vec::new();
    for key in col_refs(r, "policies") {
        let Some(row) = cx.row("Logical_Router_Policy", &key).cloned() else {
            continue;
        };
        let (Some(prio), Some(m), Some(action)) = (
            col_int(&row, "priority"),
            col_str(&row, "match"),
            col_str(&row, "action"),
        ) else {
            continue;
        };
        cx.unhandled(
            "Logical_Router_Policy",
            &key,
            &format!("router {router}: policy {prio} {m}"),
        );
        let mut f = vec![
            ("priority".to_owned(), Node::Int(prio)),
            ("match".to_owned(), Node::str(m)),
            ("action".to_owned(), Node::str(action)),
        ];
        let mut hops = col_strs(&row, "nexthops");
        if let Some(h) = col_str(&row, "nexthop") {
            hops.insert(0, h);
        }
        if !hops.is_empty() {
            f.push((
                "nexthops".to_owned(),
                Node::List(hops.into_iter().map(Node::Str).collect()),
            ));
        }
        out.push(Node::Flow(f));
    }
    out
}

/// The router's NAT rules. A distributed floating IP (`logical_port` + `external_mac`) is
/// answered on its VM's chassis, which must then map the gateway's physical network.
fn nat(cx: &mut Cx, router: &str, r: &Row, gateway_nets: &[Vec<String>]) -> Vec<Node> {
    let mut out = Vec::new();
    for key in col_refs(r, "nat") {
        let Some(row) = cx.row("NAT", &key).cloned() else {
            continue;
        };
        let (Some(ty), Some(ext), Some(logical)) = (
            col_str(&row, "type"),
            col_str(&row, "external_ip"),
            col_str(&row, "logical_ip"),
        ) else {
            continue;
        };
        cx.unhandled(
            "NAT",
            &key,
            &format!("router {router}: nat {ty} {ext} {logical}"),
        );
        let mut f = vec![
            ("type".to_owned(), Node::str(ty)),
            ("external-ip".to_owned(), Node::str(ext)),
            ("logical-ip".to_owned(), Node::str(logical)),
        ];
        if let Some(lp) = col_str(&row, "logical_port") {
            if col_str(&row, "external_mac").is_some()
                && let Some(chassis) = cx
                    .row("Logical_Switch_Port", &RowKey::name(lp.as_str()))
                    .and_then(|p| col_map(p, "options").get("requested-chassis").cloned())
            {
                cx.chassis_networks
                    .entry(chassis)
                    .or_default()
                    .extend(gateway_nets.iter().cloned());
            }
            f.push(("logical-port".to_owned(), Node::str(lp)));
        }
        if let Some(m) = col_str(&row, "external_mac") {
            f.push(("external-mac".to_owned(), Node::str(m)));
        }
        if let Some(gp) = first_ref(&row, "gateway_port") {
            f.push(("gateway-port".to_owned(), Node::str(name_of(&gp))));
        }
        out.push(Node::Flow(f));
    }
    out
}

//! `topo import`: the live Northbound (and the Southbound chassis) as a topology file.
//!
//! Pure: [`import`] turns what `live` read (plus the SB chassis) into YAML and a list of
//! notes, one for everything the topology language cannot express (ACLs, load balancers,
//! unknown options, ...), so nothing is dropped silently. Names and MACs that differ from
//! what the compiler would derive are written explicitly. [`self_check`] then compiles the
//! YAML and plans it against the same live state as if it were adopted: every difference
//! becomes a note too. [`adopt_operations`] builds the one guarded transaction that writes the
//! ownership mark into the imported rows.

pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};

use crate::compiler::naming::{Mac, gateway_chassis_name, lrp_name, router_lsp_name};
use crate::live::{Live, NB_TABLES};
use crate::ovsdb::{
    Atom, Columns, Condition, DatabaseSchema, Datum, Mutation, Operation, WaitUntil,
};
use crate::rows::{Cell, Db, Row, RowKey, State, Value, ownership};
use yaml::Node;

/// A Southbound chassis: name, encapsulations, bridge mappings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SbChassis {
    pub name: String,
    /// (type, ip), as the `Encap` rows say.
    pub encaps: Vec<(String, String)>,
    /// `other_config:ovn-bridge-mappings` (or `external_ids:` on older releases), parsed.
    pub bridge_mappings: Vec<(String, String)>,
}

/// What import read.
pub struct Input<'a> {
    pub stack: &'a str,
    pub live: &'a Live,
    pub schema: &'a DatabaseSchema,
    /// `None` when the Southbound database could not be read.
    pub chassis: Option<&'a [SbChassis]>,
    /// Row counts of Northbound tables topo does not manage (ACL, Load_Balancer, ...).
    pub other_tables: &'a [(String, usize)],
}

/// The topology and what it could not say.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub yaml: String,
    pub notes: Vec<String>,
}

/// NB tables whose rows are configuration of the server or of northd, not topology.
const INFRASTRUCTURE: &[&str] = &["NB_Global", "Connection", "SSL"];

/// The Northbound tables import reports on when they hold rows: everything but the managed
/// ones and the infrastructure.
pub fn unmanaged_tables(schema: &DatabaseSchema) -> Vec<String> {
    schema
        .tables
        .keys()
        .filter(|t| !NB_TABLES.contains(&t.as_str()) && !INFRASTRUCTURE.contains(&t.as_str()))
        .cloned()
        .collect()
}

/// Columns import reads per table; the others are reported when they hold a value.
fn handled(table: &str) -> &'static [&'static str] {
    match table {
        "Logical_Switch" => &["name", "ports", "other_config", "external_ids"],
        "Logical_Switch_Port" => &[
            "name",
            "type",
            "addresses",
            "port_security",
            "options",
            "tag_request",
            "ha_chassis_group",
            "enabled",
            "external_ids",
            // Written by northd / ovn-controller, not configuration.
            "up",
            "dynamic_addresses",
            "tag",
        ],
        "Logical_Router" => &[
            "name",
            "ports",
            "static_routes",
            "policies",
            "nat",
            "options",
            "external_ids",
        ],
        "Logical_Router_Port" => &[
            "name",
            "mac",
            "networks",
            "peer",
            "gateway_chassis",
            "ha_chassis_group",
            "external_ids",
            "status",
        ],
        "Logical_Router_Static_Route" => &[
            "ip_prefix",
            "nexthop",
            "policy",
            "output_port",
            "external_ids",
        ],
        "Logical_Router_Policy" => &[
            "priority",
            "match",
            "action",
            "nexthop",
            "nexthops",
            "external_ids",
        ],
        "NAT" => &[
            "type",
            "external_ip",
            "logical_ip",
            "logical_port",
            "external_mac",
            "gateway_port",
            "external_ids",
        ],
        "Gateway_Chassis" => &["name", "chassis_name", "priority", "external_ids"],
        "HA_Chassis_Group" => &["name", "ha_chassis", "external_ids"],
        "HA_Chassis" => &["chassis_name", "priority", "external_ids"],
        _ => &[],
    }
}

// ---- cell helpers -------------------------------------------------------------------------

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Atom(Atom::String(s)) => Some(s.clone()),
        Value::Atom(Atom::Integer(i)) => Some(i.to_string()),
        Value::Atom(a) => Some(a.to_string()),
        Value::Ref(_) => None,
    }
}

fn col_str(row: &Row, c: &str) -> Option<String> {
    row.get(c)?.as_scalar().and_then(text)
}

fn col_int(row: &Row, c: &str) -> Option<i64> {
    match row.get(c)?.as_scalar()? {
        Value::Atom(Atom::Integer(i)) => Some(*i),
        _ => None,
    }
}

fn col_bool(row: &Row, c: &str) -> Option<bool> {
    match row.get(c)?.as_scalar()? {
        Value::Atom(Atom::Boolean(b)) => Some(*b),
        _ => None,
    }
}

fn col_strs(row: &Row, c: &str) -> Vec<String> {
    row.get(c)
        .and_then(Datum::as_set)
        .map(|s| s.iter().filter_map(text).collect())
        .unwrap_or_default()
}

fn col_map(row: &Row, c: &str) -> BTreeMap<String, String> {
    row.get(c)
        .and_then(Datum::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Keys of the rows a set-of-references column names (by the referenced row's key).
fn col_refs(row: &Row, c: &str) -> Vec<RowKey> {
    row.get(c)
        .and_then(Datum::as_set)
        .map(|s| {
            s.iter()
                .filter_map(|v| match v {
                    Value::Ref(r) => Some(r.key.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn first_ref(row: &Row, c: &str) -> Option<RowKey> {
    col_refs(row, c).into_iter().next()
}

fn name_of(key: &RowKey) -> String {
    key.0.last().cloned().unwrap_or_default()
}

struct Cx<'a> {
    input: &'a Input<'a>,
    notes: Vec<String>,
    /// Chassis named by the rows (gateways, bindings, HA groups).
    chassis_used: BTreeSet<String>,
    /// Physical networks each chassis must map: per requirement, one of these networks (an
    /// l2gateway port's network; a gateway's switch's localnet networks).
    chassis_networks: BTreeMap<String, Vec<Vec<String>>>,
}

impl Cx<'_> {
    fn nb(&self, table: &str) -> impl Iterator<Item = (&RowKey, &Row)> {
        self.input
            .live
            .state
            .tables
            .get(&Db::Northbound)
            .and_then(|t| t.get(table))
            .into_iter()
            .flatten()
    }

    fn row(&self, table: &str, key: &RowKey) -> Option<&Row> {
        self.input.live.state.get(&Db::Northbound, table, key)
    }

    fn note(&mut self, s: impl Into<String>) {
        self.notes.push(s.into());
    }

    /// Whether a row belongs to another stack (and so is left out).
    fn foreign(&self, row: &Row) -> Option<String> {
        crate::diff::owner(row).filter(|o| o != self.input.stack)
    }

    /// Notes the columns of a row import does not carry and the map keys in `handled_keys`'
    /// complement, when they hold a value.
    fn unhandled(&mut self, table: &str, key: &RowKey, what: &str) {
        let Some(raw) = self.input.live.wire_columns(&Db::Northbound, table, key) else {
            return;
        };
        let Some(ts) = self.input.schema.table(table) else {
            return;
        };
        let handled = handled(table);
        let mut extra = Vec::new();
        for (c, schema_col) in &ts.columns {
            if handled.contains(&c.as_str()) {
                continue;
            }
            let Some(v) = raw.get(c) else {
                continue;
            };
            if *v != schema_col.ty.default_datum() && !is_default_setting(table, c, v) {
                extra.push(format!("{c}={v}"));
            }
        }
        if !extra.is_empty() {
            self.note(format!(
                "{what}: not expressible in the topology language, not imported: {}",
                extra.join(", ")
            ));
        }
        if let Some(ids) = self
            .row(table, key)
            .map(|r| col_map(r, "external_ids"))
            .filter(|m| m.keys().any(|k| !k.starts_with("topo:")))
        {
            let keys: Vec<&String> = ids.keys().filter(|k| !k.starts_with("topo:")).collect();
            self.note(format!(
                "{what}: external_ids keys {} belong to another tool; they are not in the \
                 topology, and topo keeps them as they are (it only writes its own topo: keys)",
                keys.iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    fn unknown_keys(
        &mut self,
        what: &str,
        column: &str,
        map: &BTreeMap<String, String>,
        known: &[&str],
    ) {
        let extra: Vec<String> = map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !extra.is_empty() {
            self.note(format!(
                "{what}: {column} keys not expressible in the topology language, not imported: {}",
                extra.join(", ")
            ));
        }
    }
}

/// Values that say what OVN does anyway (`ovn-nbctl lr-nat-add` writes
/// `options:stateless=false`), so leaving them out loses nothing.
fn is_default_setting(table: &str, column: &str, v: &Datum) -> bool {
    let Some(m) = v.as_map() else {
        return false;
    };
    let defaults: &[(&str, &str, &str, &str)] = &[("NAT", "options", "stateless", "false")];
    m.iter().all(|(k, val)| {
        defaults.iter().any(|(t, c, dk, dv)| {
            *t == table && *c == column && k.as_str() == Some(*dk) && val.as_str() == Some(*dv)
        })
    })
}

/// A router port's switch side: the router-type LSP whose `options:router-port` names it.
#[derive(Debug, Clone)]
struct SwitchSide {
    switch: String,
    lsp: String,
    addresses: Vec<String>,
    nat_addresses: Option<String>,
}

/// Builds the topology file from what was read.
pub fn import(input: &Input) -> Imported {
    let mut cx = Cx {
        input,
        notes: Vec::new(),
        chassis_used: BTreeSet::new(),
        chassis_networks: BTreeMap::new(),
    };
    for (table, n) in input.other_tables {
        if *n > 0 {
            cx.note(format!(
                "table {table}: {n} row(s) not imported (the topology language has no {table})"
            ));
        }
    }
    for dup in &input.live.duplicates {
        cx.note(format!(
            "{} {}: {} rows share this name; only the first ({}) is imported",
            dup.table,
            dup.key,
            dup.uuids.len(),
            dup.uuids
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ));
    }

    // Router-type LSPs, by the LRP they face.
    let mut sides: BTreeMap<String, SwitchSide> = BTreeMap::new();
    let switches_rows: Vec<(RowKey, Row)> = cx
        .nb("Logical_Switch")
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect();
    for (sw_key, sw) in &switches_rows {
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

    let ha_groups = ha_groups(&mut cx);
    let (routers, has_localnet_switches) = {
        let localnet: BTreeMap<String, Vec<String>> = switches_rows
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
            .collect();
        (routers(&mut cx, &sides, &localnet), localnet)
    };
    let _ = has_localnet_switches;
    let switches = switches(&mut cx, &switches_rows);
    let chassis = chassis(&mut cx);

    let mut doc: Vec<(String, Node)> = vec![("name".to_owned(), Node::str(input.stack))];
    if !chassis.is_empty() {
        doc.push(("chassis".to_owned(), Node::Map(chassis)));
    }
    if !ha_groups.is_empty() {
        doc.push(("ha-chassis-groups".to_owned(), Node::Map(ha_groups)));
    }
    doc.push(("switches".to_owned(), Node::Map(switches)));
    if !routers.is_empty() {
        doc.push(("routers".to_owned(), Node::Map(routers)));
    }
    let header = format!(
        "# Imported by `topo import --stack {}` from the live Northbound database.\n",
        input.stack
    );
    Imported {
        yaml: header + &yaml::render(&doc),
        notes: cx.notes,
    }
}

fn ha_groups(cx: &mut Cx) -> Vec<(String, Node)> {
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

fn routers(
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
        let nat = nat(cx, &name, r);
        if !nat.is_empty() {
            body.push(("nat".to_owned(), Node::List(nat)));
        }
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

fn nat(cx: &mut Cx, router: &str, r: &Row) -> Vec<Node> {
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

fn switches(cx: &mut Cx, rows: &[(RowKey, Row)]) -> Vec<(String, Node)> {
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
            if let Some(f) = switch_port(cx, &pname, &p_key, &ty, &p) {
                ports.push((pname, Node::Flow(f)));
            }
        }
        if !ports.is_empty() {
            body.push(("ports".to_owned(), Node::Map(ports)));
        }
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

fn chassis(cx: &mut Cx) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    let sb: Vec<SbChassis> = cx.input.chassis.map(<[_]>::to_vec).unwrap_or_default();
    let mut names: BTreeSet<String> = sb.iter().map(|c| c.name.clone()).collect();
    names.extend(cx.chassis_used.iter().cloned());
    let mut placeholder = 0u8;
    for name in names {
        let found = sb.iter().find(|c| c.name == name);
        let mut f: Vec<(String, Node)> = Vec::new();
        match found.and_then(|c| {
            c.encaps
                .iter()
                .find(|(t, _)| t == "geneve")
                .or(c.encaps.first())
        }) {
            Some((ty, ip)) => {
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
        let mut mappings: Vec<(String, String)> =
            found.map(|c| c.bridge_mappings.clone()).unwrap_or_default();
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

/// Parses `net:br,net2:br2`.
pub fn parse_bridge_mappings(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|e| {
            let (n, b) = e.trim().split_once(':')?;
            Some((n.to_owned(), b.to_owned()))
        })
        .collect()
}

/// Compiles `yaml` and plans it against `live` as if every live row it names carried the
/// mark: what a plan would change after `--adopt`. Returns the compiled desired state (for
/// adopt) and a note per problem or change.
pub fn self_check(yaml: &str, live: &Live, stack: &str) -> (Option<State>, Vec<String>) {
    let loaded = crate::spec::load_str("imported.yaml", yaml);
    let (state, diags) = crate::compiler::compile(&loaded.topology);
    let mut notes: Vec<String> = diags
        .items
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        .map(|d| format!("the imported topology does not validate: {}", d.message))
        .collect();
    if loaded
        .diagnostics
        .items
        .iter()
        .any(|d| d.severity == crate::diagnostics::Severity::Error)
    {
        notes.push("the imported topology does not parse (a bug in topo import)".to_owned());
    }
    let Some(state) = state else {
        return (None, notes);
    };
    let adopted = adopted(&state, live, stack);
    let plan = crate::diff::plan(
        &state,
        &adopted,
        stack,
        crate::diff::Options { prune: false },
    );
    for c in &plan.changes {
        let cols: Vec<String> = c
            .columns
            .iter()
            .map(|col| {
                format!(
                    "{}: {} → {}",
                    col.column,
                    col.before
                        .as_ref()
                        .map_or("(none)".to_owned(), ToString::to_string),
                    col.after
                        .as_ref()
                        .map_or("(none)".to_owned(), ToString::to_string)
                )
            })
            .collect();
        notes.push(format!(
            "a plan of the import would {} {} {}{}",
            match c.action {
                crate::diff::Action::Create => "create",
                crate::diff::Action::Update => "update",
                crate::diff::Action::Delete => "delete",
            },
            c.table,
            c.key,
            if cols.is_empty() || c.action != crate::diff::Action::Update {
                String::new()
            } else {
                format!(" ({})", cols.join("; "))
            }
        ));
    }
    for c in &plan.conflicts {
        notes.push(format!("a plan of the import would conflict: {c:?}"));
    }
    (Some(state), notes)
}

/// `live` with the mark added to the `external_ids` of every row `desired` names.
fn adopted(desired: &State, live: &Live, stack: &str) -> Live {
    let mut out = live.clone();
    for (db, table, key, _) in desired.rows() {
        if let Some(row) = out.state.get_mut(db, table, key) {
            if crate::diff::owner(row).is_some_and(|o| o != stack) {
                continue;
            }
            let mut ids = row
                .get("external_ids")
                .and_then(Datum::as_map)
                .cloned()
                .unwrap_or_default();
            for (k, v) in ownership::mark(stack) {
                ids.insert(Value::from(k), Value::from(v));
            }
            row.set("external_ids", Cell::Map(ids));
        }
    }
    out
}

/// The rows `--adopt` marks: those of `desired` that exist live without this stack's mark
/// (rows of other stacks are left alone and reported).
pub fn to_adopt(desired: &State, live: &Live, stack: &str) -> (Vec<(String, RowKey)>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (db, table, key, _) in desired.rows() {
        if *db != Db::Northbound {
            continue;
        }
        let Some(row) = live.state.get(db, table, key) else {
            continue;
        };
        match crate::diff::owner(row) {
            Some(o) if o == stack => {}
            Some(o) => notes.push(format!("{table} {key}: owned by stack {o}; not adopted")),
            None => rows.push((table.to_owned(), key.clone())),
        }
    }
    (rows, notes)
}

/// The adopt transaction: `wait` on each row's `_version` (it must not have moved since the
/// read), the stack lock's `assert` when held, one `mutate` of `external_ids` per row (delete
/// the mark's keys, insert the mark: a map insert never overwrites), and a comment.
pub fn adopt_operations(
    rows: &[(String, RowKey)],
    live: &Live,
    stack: &str,
    lock: Option<&str>,
) -> Vec<Operation> {
    let mut guards = Vec::new();
    let mut body = Vec::new();
    let mark = ownership::mark(stack);
    for (table, key) in rows {
        let Some(r) = live.row(&Db::Northbound, table, key) else {
            continue;
        };
        let mut expect = Columns::new();
        expect.insert("_uuid".to_owned(), Datum::scalar(Atom::Uuid(r.uuid)));
        let mut columns = vec!["_uuid".to_owned()];
        if let Some(v) = r.version {
            expect.insert("_version".to_owned(), Datum::scalar(Atom::Uuid(v)));
            columns.push("_version".to_owned());
        }
        guards.push(Operation::wait(
            table,
            vec![Condition::uuid(r.uuid)],
            columns,
            WaitUntil::Equal,
            vec![expect],
        ));
        body.push(Operation::mutate(
            table,
            vec![Condition::uuid(r.uuid)],
            vec![
                Mutation::delete(
                    "external_ids",
                    Datum::set(mark.iter().map(|(k, _)| Atom::from(k.as_str()))),
                ),
                Mutation::insert(
                    "external_ids",
                    Datum::map(
                        mark.iter()
                            .map(|(k, v)| (Atom::from(k.as_str()), Atom::from(v.as_str()))),
                    ),
                ),
            ],
        ));
    }
    let mut ops = guards;
    if let Some(lock) = lock {
        ops.push(Operation::assert_lock(lock));
    }
    ops.extend(body);
    ops.push(Operation::comment(&format!(
        "topo import --adopt: stack {stack}, {} row(s)",
        rows.len()
    )));
    ops
}

#[cfg(test)]
mod tests;

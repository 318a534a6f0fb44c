//! The topology as a picture: a small graph built from the checked [`Model`], written as
//! Graphviz DOT ([`dot`]) or Mermaid ([`mermaid`]) by `topo graph`.
//!
//! Nodes are the switches, routers (gateway routers marked with their chassis), the physical
//! networks that localnet and l2gateway ports reach, VTEP physical switches, HA chassis groups
//! and the chassis that gateways name; with [`Options::ports`] also the switches' other ports
//! (VMs, localports, ...). Edges are the router-port links (with the port's addresses), the
//! physical attachments, and the gateway scheduling (priorities). NAT and static routes are
//! summarised in the router's label.
//!
//! Pure and deterministic: node ids are derived from kind and name ([`node_id`]), nodes are
//! kept sorted by id and edges sorted, so the same model always gives the same text.

pub(crate) mod dot;
pub(crate) mod mermaid;

use std::collections::{BTreeMap, BTreeSet};

use crate::compiler::Model;
use crate::compiler::model::{Gateway, Link, Router, RouterPort};
use crate::spec::types::{NatType, PortType};

/// What to draw besides the fixed content.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Draw each switch port that is not a physical attachment (VMs, localports, ...).
    pub ports: bool,
}

/// What a node stands for; decides its shape and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Switch,
    Router,
    GatewayRouter,
    /// A physical network (`network:` of localnet / l2gateway ports).
    Network,
    /// A VTEP gateway's physical switch.
    VtepSwitch,
    Chassis,
    HaGroup,
    Port,
}

impl Kind {
    /// The id prefix, distinct per kind so two objects of different kinds never share an id.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Switch => "ls",
            Kind::Router | Kind::GatewayRouter => "lr",
            Kind::Network => "net",
            Kind::VtepSwitch => "vtep",
            Kind::Chassis => "ch",
            Kind::HaGroup => "ha",
            Kind::Port => "lsp",
        }
    }

    /// The class name the writers use for styling.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Switch => "switch",
            Kind::Router => "router",
            Kind::GatewayRouter => "gateway_router",
            Kind::Network => "network",
            Kind::VtepSwitch => "vtep",
            Kind::Chassis => "chassis",
            Kind::HaGroup => "ha_group",
            Kind::Port => "port",
        }
    }
}

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Style {
    /// A router port's link to a switch, or two routers peered.
    Link,
    /// A port to a physical network or VTEP switch.
    Physical,
    /// Gateway scheduling: a gateway port or HA group to a chassis.
    Gateway,
    /// A switch to one of its ports (`--ports`).
    Port,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub kind: Kind,
    /// Lines of the label; the first is the name.
    pub label: Vec<String>,
    /// What a plan would do to it (`topo graph --live`).
    pub mark: Option<Mark>,
}

/// What a plan would do to a node's object: create it, change it (or its ports, NAT,
/// routes), or delete it (an object of the stack that left the topology).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    Create,
    Update,
    Delete,
}

impl Mark {
    pub fn class(self) -> &'static str {
        match self {
            Mark::Create => "create",
            Mark::Update => "update",
            Mark::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub style: Style,
    /// Lines of the label (may be empty).
    pub label: Vec<String>,
}

/// The picture of one topology.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// The stack's name.
    pub title: String,
    /// A plan's summary when nodes are marked (`--live`).
    pub legend: Option<String>,
    /// Sorted by id.
    pub nodes: Vec<Node>,
    /// Sorted.
    pub edges: Vec<Edge>,
}

/// A node's stable id: the kind's prefix, `_`, and the name with every byte that is not an
/// ASCII letter or digit escaped (`_` as `__`, others as `_XX` in hex), so ids are valid
/// unquoted in DOT and Mermaid and two names never share one.
pub fn node_id(kind: Kind, name: &str) -> String {
    let mut id = String::with_capacity(kind.prefix().len() + 1 + name.len());
    id.push_str(kind.prefix());
    id.push('_');
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() {
            id.push(char::from(b));
        } else if b == b'_' {
            id.push_str("__");
        } else {
            id.push_str(&format!("_{b:02X}"));
        }
    }
    id
}

/// Builds the graph of a checked topology.
pub fn build(model: &Model, options: Options) -> Graph {
    let mut b = Builder::default();
    for (name, switch) in &model.switches {
        let mut label = vec![name.clone()];
        label.extend(switch.subnet.map(|s| s.to_string()));
        label.extend(switch.ipv6_prefix.map(|s| s.to_string()));
        b.node(Kind::Switch, name, label);
        let sw = node_id(Kind::Switch, name);
        for (port, p) in &switch.ports {
            match p.kind {
                PortType::Localnet | PortType::L2gateway => {
                    let Some(network) = &p.network else { continue };
                    let net = b.network(model, network);
                    let mut label = vec![format!("{} {port}", p.kind.word())];
                    label.extend(p.tag.map(|t| format!("VLAN {t}")));
                    label.extend(p.chassis.as_ref().map(|c| format!("on {c}")));
                    b.edge(&sw, &net, Style::Physical, label);
                }
                PortType::Vtep => {
                    let Some(physical) = &p.vtep_physical_switch else {
                        continue;
                    };
                    b.node(
                        Kind::VtepSwitch,
                        physical,
                        vec![physical.clone(), "VTEP physical switch".to_string()],
                    );
                    let vtep = node_id(Kind::VtepSwitch, physical);
                    let mut label = vec![format!("vtep {port}")];
                    label.extend(
                        p.vtep_logical_switch
                            .as_ref()
                            .map(|l| format!("logical switch {l}")),
                    );
                    b.edge(&sw, &vtep, Style::Physical, label);
                }
                _ if options.ports => {
                    let mut label = vec![port.clone()];
                    if p.kind != PortType::Vif {
                        label.push(p.kind.word().to_string());
                    }
                    let mut addresses: Vec<String> = Vec::new();
                    addresses.extend(p.mac.map(|m| m.to_string()));
                    addresses.extend(p.ips.iter().map(|ip| ip.to_string()));
                    if p.dynamic {
                        addresses.push("dynamic".to_string());
                    }
                    if !addresses.is_empty() {
                        label.push(addresses.join(" "));
                    }
                    label.extend(p.chassis.as_ref().map(|c| format!("on {c}")));
                    label.extend(p.ha_group.as_ref().map(|g| format!("HA group {g}")));
                    b.node(Kind::Port, port, label);
                    let id = node_id(Kind::Port, port);
                    b.edge(&sw, &id, Style::Port, Vec::new());
                }
                _ => {}
            }
        }
    }
    for (name, router) in &model.routers {
        b.router(model, name, router);
    }
    let mut nodes: Vec<Node> = b.nodes.into_values().collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    Graph {
        title: model.stack.clone(),
        legend: None,
        nodes,
        edges: b.edges.into_iter().collect(),
    }
}

/// Marks what `plan` would do on the graph of its topology: a switch, router or (with
/// `--ports`) port the plan creates, updates or deletes (a change of a port, NAT or route
/// reaches its switch or router as a change of its `ports`, `nat` or `static_routes`); an
/// object the plan deletes is not in the topology any more, so it is added, marked.
pub fn mark(graph: &mut Graph, plan: &crate::diff::Plan) {
    use crate::diff::Action;
    for change in &plan.changes {
        let kind = match change.table.as_str() {
            "Logical_Switch" => Kind::Switch,
            "Logical_Router" => Kind::Router,
            "Logical_Switch_Port" => Kind::Port,
            _ => continue,
        };
        let Some(name) = change.key.0.first() else {
            continue;
        };
        let mark = match change.action {
            Action::Create => Mark::Create,
            Action::Update => Mark::Update,
            Action::Delete => Mark::Delete,
        };
        let id = node_id(kind, name);
        match graph.nodes.iter_mut().find(|n| n.id == id) {
            Some(node) => node.mark = Some(mark),
            // Ports are drawn only with --ports; a deleted port shows on its switch's change.
            None if mark == Mark::Delete && kind != Kind::Port => graph.nodes.push(Node {
                id,
                kind,
                label: vec![name.clone(), "left the topology".to_owned()],
                mark: Some(mark),
            }),
            None => {}
        }
    }
    graph.nodes.sort_by(|a, b| a.id.cmp(&b.id));
    graph.legend = Some(format!(
        "{} (green: create, orange: update, red: delete)",
        crate::diff::render::summary_line(plan)
    ));
}

#[derive(Default)]
struct Builder {
    nodes: BTreeMap<String, Node>,
    edges: BTreeSet<Edge>,
}

impl Builder {
    /// Adds a node unless one with its id exists.
    fn node(&mut self, kind: Kind, name: &str, label: Vec<String>) {
        let id = node_id(kind, name);
        self.nodes.entry(id.clone()).or_insert(Node {
            id,
            kind,
            label,
            mark: None,
        });
    }

    fn edge(&mut self, from: &str, to: &str, style: Style, label: Vec<String>) {
        self.edges.insert(Edge {
            from: from.to_string(),
            to: to.to_string(),
            style,
            label,
        });
    }

    /// A physical network's node, labelled with the chassis bridges that map it.
    fn network(&mut self, model: &Model, network: &str) -> String {
        let mut label = vec![network.to_string(), "physical network".to_string()];
        for (chassis, c) in &model.chassis {
            if let Some(bridge) = c.bridge_mappings.get(network) {
                label.push(format!("{chassis}: {bridge}"));
            }
        }
        self.node(Kind::Network, network, label);
        node_id(Kind::Network, network)
    }

    fn chassis(&mut self, name: &str) -> String {
        self.node(
            Kind::Chassis,
            name,
            vec![name.to_string(), "chassis".to_string()],
        );
        node_id(Kind::Chassis, name)
    }

    /// An HA chassis group's node, with an edge to each member chassis.
    fn ha_group(&mut self, model: &Model, group: &str) -> String {
        let id = node_id(Kind::HaGroup, group);
        if self.nodes.contains_key(&id) {
            return id;
        }
        self.node(
            Kind::HaGroup,
            group,
            vec![group.to_string(), "HA chassis group".to_string()],
        );
        if let Some(members) = model.ha_groups.get(group) {
            for (chassis, priority) in members {
                let ch = self.chassis(chassis);
                self.edge(
                    &id,
                    &ch,
                    Style::Gateway,
                    vec![format!("priority {priority}")],
                );
            }
        }
        id
    }

    fn router(&mut self, model: &Model, name: &str, router: &Router) {
        let (kind, mut label) = match &router.chassis {
            Some(chassis) => (
                Kind::GatewayRouter,
                vec![name.to_string(), format!("gateway router on {chassis}")],
            ),
            None => (Kind::Router, vec![name.to_string()]),
        };
        label.extend(nat_summary(router));
        label.extend(route_summary(router));
        if !router.policies.is_empty() {
            label.push(plural(router.policies.len(), "policy", "policies"));
        }
        self.node(kind, name, label);
        let id = node_id(Kind::Router, name);
        for (lrp, port) in &router.ports {
            match &port.link {
                Link::Switch(switch) => {
                    let mut label = port_label(lrp, port);
                    if port.gateway.is_some() {
                        label.push("gateway port".to_string());
                    }
                    self.edge(&id, &node_id(Kind::Switch, switch), Style::Link, label);
                }
                Link::Peer {
                    router: peer,
                    port: peer_port,
                } => {
                    // Each side names the other: draw the pair once, from the smaller end.
                    if (name, lrp.as_str()) > (peer.as_str(), peer_port.as_str()) {
                        continue;
                    }
                    let mut label = port_label(lrp, port);
                    if let Some(p) = model.routers.get(peer).and_then(|r| r.ports.get(peer_port)) {
                        label.extend(port_label(peer_port, p));
                    }
                    self.edge(&id, &node_id(Kind::Router, peer), Style::Link, label);
                }
            }
            match &port.gateway {
                Some(Gateway::Chassis(chassis)) => {
                    for (c, priority) in chassis {
                        let ch = self.chassis(c);
                        self.edge(
                            &id,
                            &ch,
                            Style::Gateway,
                            vec![lrp.clone(), format!("priority {priority}")],
                        );
                    }
                }
                Some(Gateway::HaGroup(group)) => {
                    let ha = self.ha_group(model, group);
                    self.edge(&id, &ha, Style::Gateway, vec![lrp.clone()]);
                }
                None => {}
            }
        }
    }
}

/// A router port's name and its addresses (`networks`), one line each.
fn port_label(lrp: &str, port: &RouterPort) -> Vec<String> {
    let mut label = vec![lrp.to_string()];
    if !port.networks.is_empty() {
        let networks: Vec<String> = port.networks.iter().map(|n| n.to_string()).collect();
        label.push(networks.join(" "));
    }
    label
}

/// "2 SNAT, 1 DNAT_AND_SNAT": the router's NAT rules counted by type.
fn nat_summary(router: &Router) -> Option<String> {
    let mut counts: BTreeMap<NatType, usize> = BTreeMap::new();
    for nat in &router.nat {
        *counts.entry(nat.ty).or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(ty, n)| format!("{n} {}", ty.as_str().to_ascii_uppercase()))
        .collect();
    Some(parts.join(", "))
}

/// "3 static routes (default via 10.0.0.1)".
fn route_summary(router: &Router) -> Option<String> {
    if router.routes.is_empty() {
        return None;
    }
    let mut text = plural(router.routes.len(), "static route", "static routes");
    let defaults: Vec<String> = router
        .routes
        .iter()
        .filter(|r| r.prefix.prefix_len() == 0)
        .map(|r| r.nexthop.to_string())
        .collect();
    if !defaults.is_empty() {
        text.push_str(&format!(" (default via {})", defaults.join(", ")));
    }
    Some(text)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_escaped_and_distinct() {
        assert_eq!(node_id(Kind::Switch, "ls1"), "ls_ls1");
        assert_eq!(node_id(Kind::Switch, "a-b.c_d"), "ls_a_2Db_2Ec__d");
        assert_ne!(node_id(Kind::Switch, "a_2D"), node_id(Kind::Switch, "a-"));
        assert_ne!(node_id(Kind::Switch, "x"), node_id(Kind::Network, "x"));
    }
}

//! The graph as Graphviz DOT (an undirected `graph`), for `dot -Tsvg` and friends.

use std::fmt::Write;

use super::{Graph, Kind, Mark, Style};

/// The DOT text of `graph`: one statement a line, nodes then edges, in the graph's order.
pub fn render(graph: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "graph {} {{", quote(&graph.title));
    let title = match &graph.legend {
        Some(legend) => format!("stack {}\n{legend}", graph.title),
        None => format!("stack {}", graph.title),
    };
    let _ = writeln!(
        out,
        "  graph [label={}, labelloc=t, fontname=\"Helvetica\", rankdir=TB, nodesep=0.5];",
        quote(&title)
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11, style=filled];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for node in &graph.nodes {
        let mark = match node.mark {
            Some(Mark::Create) => ", color=\"#16a34a\", penwidth=3",
            Some(Mark::Update) => ", color=\"#d97706\", penwidth=3",
            Some(Mark::Delete) => ", color=\"#dc2626\", penwidth=3, style=\"filled,dashed\"",
            None => "",
        };
        let _ = writeln!(
            out,
            "  {} [label={}, {}{mark}];",
            node.id,
            quote(&node.label.join("\n")),
            node_style(node.kind)
        );
    }
    for edge in &graph.edges {
        let mut attrs = Vec::new();
        if !edge.label.is_empty() {
            attrs.push(format!("label={}", quote(&edge.label.join("\n"))));
        }
        attrs.extend(edge_style(edge.style).map(str::to_string));
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(out, "  {} -- {}{attrs};", edge.from, edge.to);
    }
    out.push_str("}\n");
    out
}

fn node_style(kind: Kind) -> &'static str {
    match kind {
        Kind::Switch => "shape=box, fillcolor=\"#dbeafe\"",
        Kind::Router => "shape=ellipse, fillcolor=\"#fde68a\"",
        Kind::GatewayRouter => "shape=doubleoctagon, fillcolor=\"#fdba74\"",
        Kind::Network => "shape=cylinder, fillcolor=\"#bbf7d0\"",
        Kind::VtepSwitch => "shape=box3d, fillcolor=\"#bbf7d0\"",
        Kind::Chassis => "shape=box3d, fillcolor=\"#e5e7eb\"",
        Kind::HaGroup => "shape=hexagon, fillcolor=\"#e9d5ff\"",
        Kind::Port => "shape=note, fillcolor=\"#ffffff\"",
    }
}

fn edge_style(style: Style) -> Option<&'static str> {
    match style {
        Style::Link => None,
        Style::Physical => Some("penwidth=2, color=\"#15803d\""),
        Style::Gateway => Some("style=dashed, color=\"#7c3aed\""),
        Style::Port => Some("color=\"#6b7280\""),
    }
}

/// A DOT quoted string: `"` and `\` escaped, line breaks as `\n` (centred lines).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_escape_what_dot_reads() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}

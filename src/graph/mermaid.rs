//! The graph as a Mermaid flowchart (GitHub and GitLab render it in Markdown).

use std::fmt::Write;

use super::{Graph, Kind, Mark, Style};

const KINDS: [Kind; 8] = [
    Kind::Switch,
    Kind::Router,
    Kind::GatewayRouter,
    Kind::Network,
    Kind::VtepSwitch,
    Kind::Chassis,
    Kind::HaGroup,
    Kind::Port,
];

/// The Mermaid text of `graph`: nodes, edges, then one class per kind of node.
pub fn render(graph: &Graph) -> String {
    let mut out = String::new();
    let title = match &graph.legend {
        Some(legend) => format!("stack {}: {legend}", graph.title),
        None => format!("stack {}", graph.title),
    };
    let _ = writeln!(out, "---\ntitle: \"{}\"\n---", text(&title));
    out.push_str("flowchart TB\n");
    for node in &graph.nodes {
        let label = quote(&node.label);
        let shape = match node.kind {
            Kind::Switch => format!("[{label}]"),
            Kind::Router => format!("([{label}])"),
            Kind::GatewayRouter => format!("{{{{{label}}}}}"),
            Kind::Network => format!("[({label})]"),
            Kind::VtepSwitch | Kind::Chassis => format!("[[{label}]]"),
            Kind::HaGroup => format!("{{{{{label}}}}}"),
            Kind::Port => format!("[/{label}/]"),
        };
        let _ = writeln!(out, "  {}{shape}", node.id);
    }
    for edge in &graph.edges {
        let link = match edge.style {
            Style::Link | Style::Port => "---",
            Style::Physical => "===",
            Style::Gateway => "-.-",
        };
        if edge.label.is_empty() {
            let _ = writeln!(out, "  {} {link} {}", edge.from, edge.to);
        } else {
            let _ = writeln!(
                out,
                "  {} {link}|{}| {}",
                edge.from,
                quote(&edge.label),
                edge.to
            );
        }
    }
    for kind in KINDS {
        let members: Vec<&str> = graph
            .nodes
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| n.id.as_str())
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  classDef {} {}", kind.class(), class_style(kind));
        let _ = writeln!(out, "  class {} {}", members.join(","), kind.class());
    }
    // What a plan would do (`--live`), drawn over the kind's class.
    for mark in [Mark::Create, Mark::Update, Mark::Delete] {
        let members: Vec<&str> = graph
            .nodes
            .iter()
            .filter(|n| n.mark == Some(mark))
            .map(|n| n.id.as_str())
            .collect();
        if members.is_empty() {
            continue;
        }
        let style = match mark {
            Mark::Create => "stroke:#16a34a,stroke-width:3px",
            Mark::Update => "stroke:#d97706,stroke-width:3px",
            Mark::Delete => "stroke:#dc2626,stroke-width:3px,stroke-dasharray:5 5",
        };
        let _ = writeln!(out, "  classDef {} {style}", mark.class());
        let _ = writeln!(out, "  class {} {}", members.join(","), mark.class());
    }
    out
}

fn class_style(kind: Kind) -> &'static str {
    match kind {
        Kind::Switch => "fill:#dbeafe,stroke:#1e40af",
        Kind::Router => "fill:#fde68a,stroke:#92400e",
        Kind::GatewayRouter => "fill:#fdba74,stroke:#9a3412",
        Kind::Network | Kind::VtepSwitch => "fill:#bbf7d0,stroke:#15803d",
        Kind::Chassis => "fill:#e5e7eb,stroke:#374151",
        Kind::HaGroup => "fill:#e9d5ff,stroke:#6b21a8",
        Kind::Port => "fill:#ffffff,stroke:#6b7280",
    }
}

/// A quoted label, lines joined with `<br/>`.
fn quote(lines: &[String]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| text(l)).collect();
    format!("\"{}\"", lines.join("<br/>"))
}

/// Text safe inside a quoted Mermaid label: the characters Mermaid or its HTML labels would
/// read as syntax written as entity codes (`#quot;`, `#35;`, ...).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '\\' => out.push_str("#92;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn labels_escape_mermaid_syntax() {
        assert_eq!(text("a\"b#<c>|&"), "a#quot;b#35;#lt;c#gt;#124;#amp;");
    }
}

//! A small YAML writer for the topologies `topo import` emits: block mappings for the
//! structure, flow mappings (`{ a: b }`) for leaves such as one port, as the examples are
//! written. Strings are written plain only when YAML cannot read them as anything else.

use std::fmt::Write;

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A sequence; in block style unless every item is a scalar or a flow node.
    List(Vec<Node>),
    /// A mapping in block style.
    Map(Vec<(String, Node)>),
    /// A mapping written on one line (`{ k: v, ... }`).
    Flow(Vec<(String, Node)>),
}

impl Node {
    pub(crate) fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    fn is_inline(&self) -> bool {
        match self {
            Node::Str(_) | Node::Int(_) | Node::Bool(_) | Node::Flow(_) => true,
            Node::List(items) => items
                .iter()
                .all(|i| matches!(i, Node::Str(_) | Node::Int(_) | Node::Bool(_))),
            Node::Map(m) => m.is_empty(),
        }
    }
}

/// Renders a document: a top-level mapping.
pub(crate) fn render(doc: &[(String, Node)]) -> String {
    let mut out = String::new();
    block_map(&mut out, doc, 0);
    out
}

fn block_map(out: &mut String, map: &[(String, Node)], indent: usize) {
    for (k, v) in map {
        let pad = " ".repeat(indent);
        if v.is_inline() {
            let _ = writeln!(out, "{pad}{}: {}", scalar(k), inline(v));
        } else {
            let _ = writeln!(out, "{pad}{}:", scalar(k));
            match v {
                Node::Map(m) => block_map(out, m, indent + 2),
                Node::List(items) => block_list(out, items, indent + 2),
                _ => {}
            }
        }
    }
}

fn block_list(out: &mut String, items: &[Node], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        if item.is_inline() {
            let _ = writeln!(out, "{pad}- {}", inline(item));
        } else {
            // Nested block collections inside lists are not emitted by import.
            let _ = writeln!(out, "{pad}- {}", inline_any(item));
        }
    }
}

fn inline(n: &Node) -> String {
    inline_any(n)
}

fn inline_any(n: &Node) -> String {
    match n {
        Node::Str(s) => scalar(s),
        Node::Int(i) => i.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::List(items) => format!(
            "[{}]",
            items.iter().map(inline_any).collect::<Vec<_>>().join(", ")
        ),
        Node::Map(m) | Node::Flow(m) if m.is_empty() => "{}".to_owned(),
        Node::Map(m) | Node::Flow(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), inline_any(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A string as a YAML scalar: plain when unambiguous, else double-quoted (JSON escaping is
/// valid YAML).
pub(crate) fn scalar(s: &str) -> String {
    if is_plain(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
    }
}

fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
    {
        return false;
    }
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf",
    ];
    if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    // Numbers (and YAML 1.1 octal/sexagesimal look-alikes) stay strings only when quoted.
    let numeric = s.parse::<f64>().is_ok()
        || s.parse::<i64>().is_ok()
        || s.chars()
            .all(|c| c.is_ascii_digit() || c == '_' || c == '.');
    !numeric || s.matches('.').count() > 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(scalar("ls1-vm1"), "ls1-vm1");
        assert_eq!(scalar("10.10.10.0/24"), "10.10.10.0/24");
        assert_eq!(scalar("10.10.10.2"), "10.10.10.2");
        assert_eq!(scalar("00:00:00:00:00:03"), "\"00:00:00:00:00:03\"");
        assert_eq!(scalar("1.5"), "\"1.5\"");
        assert_eq!(scalar("100"), "\"100\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(
            scalar("ip4.src == 10.0.0.0/24"),
            "\"ip4.src == 10.0.0.0/24\""
        );
    }

    #[test]
    fn documents_mix_block_and_flow_style() {
        let doc = vec![
            ("name".to_owned(), Node::str("lab")),
            (
                "switches".to_owned(),
                Node::Map(vec![(
                    "ls1".to_owned(),
                    Node::Map(vec![(
                        "ports".to_owned(),
                        Node::Map(vec![(
                            "vm1".to_owned(),
                            Node::Flow(vec![
                                ("mac".to_owned(), Node::str("00:00:00:00:00:01")),
                                ("port-security".to_owned(), Node::Bool(true)),
                            ]),
                        )]),
                    )]),
                )]),
            ),
            (
                "routes".to_owned(),
                Node::List(vec![Node::Flow(vec![(
                    "prefix".to_owned(),
                    Node::str("0.0.0.0/0"),
                )])]),
            ),
            ("empty".to_owned(), Node::Map(vec![])),
        ];
        assert_eq!(
            render(&doc),
            "name: lab\nswitches:\n  ls1:\n    ports:\n      vm1: { mac: \"00:00:00:00:00:01\", \
             port-security: true }\nroutes:\n  - { prefix: 0.0.0.0/0 }\nempty: {}\n"
        );
    }
}

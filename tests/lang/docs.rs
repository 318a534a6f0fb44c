//! The diagnostics catalogue and the key reference stay in step with the code.

use topo::diagnostics::Code;

use super::root;

/// Every code topo can emit that the catalogue covers: the topology's diagnostics, the
/// OVSDB client's and the import command's errors, apply's own refusals, the VTEP database's errors.
fn codes() -> Vec<&'static str> {
    Code::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(topo::ovsdb::Error::CODES.iter().copied())
        .chain(topo::import::Error::CODES.iter().copied())
        .chain(topo::apply::Error::CODES.iter().copied())
        .chain(topo::live::vtep::CODES.iter().copied())
        .collect()
}

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let missing: Vec<&str> = codes()
        .into_iter()
        .filter(|c| !doc.contains(&format!("`{c}`")))
        .collect();
    assert!(missing.is_empty(), "undocumented codes: {missing:?}");
}

#[test]
fn every_documented_code_exists() {
    let doc = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let known = codes();
    for word in doc.split('`').filter(|w| w.starts_with("topo::")) {
        assert!(
            known.contains(&word),
            "docs/diagnostics.md names unknown code {word}"
        );
    }
}

#[test]
fn every_topology_key_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/topology.md")).unwrap();
    let schema = serde_json::to_value(topo::spec::schema::schema()).unwrap();
    let mut keys = std::collections::BTreeSet::new();
    collect_keys(&schema, &mut keys);
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "keys missing from docs/topology.md: {missing:?}"
    );
}

fn collect_keys(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::Object(props)) = m.get("properties") {
                out.extend(props.keys().cloned());
            }
            m.values().for_each(|x| collect_keys(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_keys(x, out)),
        _ => {}
    }
}

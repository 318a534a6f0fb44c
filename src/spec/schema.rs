//! The JSON Schema of a topology file (`topo schema`), for editors: with
//! `# yaml-language-server: $schema=topo.schema.json` at the top of a file, yaml-language-server
//! completes keys and flags unknown ones. Semantic checks stay with `topo validate`.
//!
//! Draft-07, not 2020-12: yaml-language-server (and most editors' validators) implement
//! draft-07 and silently ignore the newer keywords (`$defs`, `prefixItems`,
//! `unevaluatedProperties`, `dependentRequired`, ...), which would turn checks into no-ops.
//! schemars' draft-07 settings write `definitions` and rewrite the newer keywords; a test
//! checks no 2019-09 / 2020-12 keyword is left.

use schemars::generate::SchemaSettings;

use super::types::Topology;

/// The `$schema` the schema declares.
pub const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// The schema, generated from the same types the loader deserializes.
pub fn schema() -> schemars::Schema {
    let mut s = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Topology>();
    s.insert("title".into(), "topo topology".into());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keywords of drafts after 07 that a draft-07 validator ignores.
    const NEWER: &[&str] = &[
        "$defs",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "prefixItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "dependentRequired",
        "dependentSchemas",
        "minContains",
        "maxContains",
        "contentSchema",
    ];

    fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_schema_is_draft_07_only() {
        let v = schema().to_value();
        assert_eq!(v["$schema"], DRAFT_07);
        assert!(v["definitions"].is_object(), "definitions, not $defs");
        let mut all = Vec::new();
        keys(&v, &mut all);
        // `properties` maps hold property names, not keywords: none of the topology's keys
        // is spelled like one of these, so a plain walk is enough.
        let newer: Vec<_> = all.iter().filter(|k| NEWER.contains(&k.as_str())).collect();
        assert!(newer.is_empty(), "keywords newer than draft-07: {newer:?}");
        let text = v.to_string();
        assert!(!text.contains("#/$defs/"), "references into $defs");
    }
}

//! The JSON Schema of a topology file (`topo schema`), for editors: with
//! `# yaml-language-server: $schema=topo.schema.json` at the top of a file, yaml-language-server
//! completes keys and flags unknown ones. Semantic checks stay with `topo validate`.

use super::types::Topology;

/// The schema, generated from the same types the loader deserializes.
pub fn schema() -> schemars::Schema {
    let mut s = schemars::schema_for!(Topology);
    s.insert("title".into(), "topo topology".into());
    s
}

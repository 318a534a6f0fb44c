//! `topo schema` as an editor uses it: a draft-07 validator (what yaml-language-server
//! implements) accepts every example topology and rejects the invalid fixtures whose mistake is
//! structural — an unknown key, a wrong type, a word that is not allowed, a missing key. The
//! other fixtures (references, addresses, names, ...) are `topo validate`'s to find.

use std::path::{Path, PathBuf};

use super::root;

/// The fixtures a schema can catch: their code is about the document's shape.
const STRUCTURAL: &[&str] = &[
    "yaml--unknown-key",
    "yaml--unknown-key--top-level",
    "yaml--unknown-variant",
    "yaml--missing-key",
    "yaml--syntax--wrong-type",
];

fn validator() -> jsonschema::Validator {
    let schema = topo::spec::schema::schema().to_value();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("the schema is a valid draft-07 schema")
}

/// The YAML file as the JSON document an editor validates.
fn as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_is_valid_against_the_schema() {
    let v = validator();
    let files = yaml_files(&root().join("examples/topologies"));
    assert!(files.len() >= 5, "examples found: {files:?}");
    for path in files {
        let errs = errors(&v, &as_json(&path));
        assert!(errs.is_empty(), "{}: {errs:#?}", path.display());
    }
}

#[test]
fn structural_mistakes_are_rejected_by_the_schema() {
    let v = validator();
    let dir = root().join("tests/fixtures/invalid");
    for stem in STRUCTURAL {
        let path = dir.join(format!("{stem}.yaml"));
        assert!(
            !errors(&v, &as_json(&path)).is_empty(),
            "{stem}: the schema accepts it"
        );
    }
    // Every fixture of these codes is in the list, so a new one is checked too.
    let shape_codes = [
        "yaml--unknown-key",
        "yaml--unknown-variant",
        "yaml--missing-key",
    ];
    for path in yaml_files(&dir) {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        if shape_codes.iter().any(|c| stem.starts_with(c)) {
            assert!(STRUCTURAL.contains(&stem), "{stem}: add it to STRUCTURAL");
        }
    }
}

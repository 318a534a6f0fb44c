//! `topo validate`, `topo compile`, `topo schema` as a user runs them.

use std::process::Command;

use super::root;

fn topo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_topo"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn validate_exits_0_for_a_valid_topology_and_1_for_an_invalid_one() {
    let ok = topo(&["validate", "examples/topologies/gateway-router.yaml"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = topo(&[
        "validate",
        "tests/fixtures/invalid/ref--unknown-switch.yaml",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("topo::ref::unknown-switch") && err.contains("did you mean"),
        "{err}"
    );
}

#[test]
fn validate_accepts_warnings() {
    let out = topo(&[
        "validate",
        "tests/fixtures/invalid/chassis--unmapped-network.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 warning"));
}

#[test]
fn validate_json_lists_code_severity_message_and_position() {
    let out = topo(&[
        "validate",
        "--format",
        "json",
        "tests/fixtures/invalid/addr--duplicate-mac.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "topo::addr::duplicate-mac");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "tests/fixtures/invalid/addr--duplicate-mac.yaml");
    assert_eq!(d["line"], 8);
    assert_eq!(d["column"], 19);
    assert_eq!(d["related"][0]["line"], 7);
    // The same places as byte offsets into the file.
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/invalid/addr--duplicate-mac.yaml"))
            .unwrap();
    let offset = d["offset"].as_u64().unwrap() as usize;
    let length = d["length"].as_u64().unwrap() as usize;
    assert_eq!(text.get(..offset).unwrap().matches('\n').count() + 1, 8);
    assert_eq!(&text[offset..offset + length], "\"00:00:00:00:00:01\"");
}

/// `--format github`: one workflow command per diagnostic on stdout, nothing else; an error
/// with a related place, an error with help, a warning.
#[test]
fn validate_github_prints_one_annotation_per_diagnostic() {
    for (fixture, code) in [
        ("name--duplicate", 1),
        ("ref--unknown-switch", 1),
        ("chassis--vif-unmapped", 0),
    ] {
        let path = format!("tests/fixtures/invalid/{fixture}.yaml");
        let out = topo(&["validate", "--format", "github", &path]);
        assert_eq!(out.status.code(), Some(code), "{fixture}");
        assert!(out.stderr.is_empty(), "{fixture}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout
                .lines()
                .all(|l| l.starts_with("::error file=") || l.starts_with("::warning file=")),
            "{stdout}"
        );
        insta::assert_snapshot!(fixture, stdout);
    }
    let ok = topo(&[
        "validate",
        "--format",
        "github",
        "examples/topologies/gateway-router.yaml",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(ok.stdout.is_empty());
}

#[test]
fn compile_prints_rows_as_json_and_yaml() {
    let out = topo(&[
        "compile",
        "--format",
        "json",
        "examples/topologies/distributed-router.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tables: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["table"].as_str().unwrap())
        .collect();
    assert!(tables.contains(&"Logical_Router_Port"));
    let yaml = topo(&["compile", "examples/topologies/distributed-router.yaml"]);
    assert!(String::from_utf8_lossy(&yaml.stdout).contains("table: Logical_Switch"));
    let bad = topo(&["compile", "tests/fixtures/invalid/addr--bad-ip.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
}

#[test]
fn compile_is_byte_identical_across_runs() {
    let a = topo(&["compile", "examples/topologies/gateway-router.yaml"]);
    let b = topo(&["compile", "examples/topologies/gateway-router.yaml"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn schema_is_a_json_schema_of_the_file() {
    let out = topo(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["$schema"].as_str().unwrap().contains("json-schema.org"));
    assert!(s["properties"]["switches"].is_object());
    assert_eq!(s["additionalProperties"], false);
}

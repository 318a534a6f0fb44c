//! Loading: files and directories, merging, YAML anchors, and the resource budgets that
//! refuse hostile documents quickly.

use std::time::{Duration, Instant};

use topo::diagnostics::Code;
use topo::spec;

use super::diagnose;

fn codes(loaded: &spec::Loaded) -> Vec<&'static str> {
    diagnose(loaded)
        .items
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

#[test]
fn anchors_and_merge_keys_work() {
    let text = r#"
name: lab
chassis:
  hv1: { encap: { type: geneve, ip: 172.17.42.20 } }
switches:
  ls1:
    subnet: 10.0.0.0/24
    ports:
      vm1: &vm { mac: "00:00:00:00:00:01", ip: 10.0.0.11, chassis: hv1, port-security: true }
      vm2:
        <<: *vm
        mac: "00:00:00:00:00:02"
        ip: 10.0.0.12
"#;
    let loaded = spec::load_str("anchors.yaml", text);
    assert!(codes(&loaded).is_empty(), "{:?}", codes(&loaded));
    let model = topo::compiler::check(&loaded.topology).0.unwrap();
    let vm2 = &model.switches["ls1"].ports["vm2"];
    assert_eq!(vm2.chassis.as_deref(), Some("hv1"));
    assert_eq!(
        vm2.port_security,
        vec!["00:00:00:00:00:02 10.0.0.12".to_owned()]
    );
}

/// The classic billion laughs: nine levels of ten aliases each. Typed deserialization stops
/// at the first value of the wrong shape, before any expansion.
#[test]
fn an_alias_bomb_is_refused_quickly() {
    let mut text = String::from("name: lab\nchecks:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        text.push_str(&format!(
            "  - &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert!(text.len() < 1024);
    let start = Instant::now();
    let loaded = spec::load_str("bomb.yaml", &text);
    let took = start.elapsed();
    assert!(loaded.diagnostics.has_errors());
    assert!(took < Duration::from_millis(500), "took {took:?}");
}

/// A bomb of the right shape (ports merged from ports, ten times per level) is stopped by
/// the alias replay budget, not expanded.
#[test]
fn a_well_typed_alias_bomb_hits_the_budget() {
    let path = super::root().join("tests/fixtures/invalid/yaml--budget.yaml");
    let start = Instant::now();
    let loaded = super::load(&path);
    let took = start.elapsed();
    assert_eq!(codes(&loaded), vec![Code::YamlBudget.as_str()]);
    assert!(took < Duration::from_millis(500), "took {took:?}");
}

/// Templates are what anchors are for: 2,000 ports merged from one template (about 10,000
/// replayed events) load fine.
#[test]
fn a_template_heavy_topology_is_accepted() {
    let mut text = String::from(
        "name: lab\nchassis:\n  hv1: { encap: { type: geneve, ip: 172.17.42.20 } }\nswitches:\n  ls1:\n    subnet: 10.0.0.0/16\n    ports:\n      vm0: &vm { mac: \"0a:00:00:00:00:01\", ip: 10.0.0.1, chassis: hv1, port-security: true, enabled: true }\n",
    );
    for i in 1..2000u32 {
        text.push_str(&format!(
            "      vm{i}: {{ <<: *vm, mac: \"0a:00:00:00:{:02x}:{:02x}\", ip: 10.0.{}.{} }}\n",
            (i + 1) / 256,
            (i + 1) % 256,
            (i + 1) / 256,
            (i + 1) % 256
        ));
    }
    let loaded = spec::load_str("templates.yaml", &text);
    assert!(codes(&loaded).is_empty(), "{:?}", codes(&loaded));
    let model = topo::compiler::check(&loaded.topology).0.unwrap();
    assert_eq!(model.switches["ls1"].ports.len(), 2000);
    assert_eq!(
        model.switches["ls1"].ports["vm1999"].chassis.as_deref(),
        Some("hv1")
    );
}

#[test]
fn deep_nesting_is_refused() {
    for depth in [65, 1_000, 100_000] {
        let text = format!(
            "name: lab\nchecks: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let start = Instant::now();
        let loaded = spec::load_str("deep.yaml", &text);
        assert!(loaded.diagnostics.has_errors(), "depth {depth}");
        assert!(start.elapsed() < Duration::from_millis(500));
    }
}

#[test]
fn directories_merge_their_yaml_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "name: lab\nswitches:\n  ls1: {}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.yml"), "switches:\n  ls2: {}\n").unwrap();
    std::fs::write(dir.path().join(".hidden.yaml"), "switches:\n  ls1: {}\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not yaml").unwrap();
    let loaded = spec::load_paths(&[dir.path().to_path_buf()]);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let names: Vec<&str> = loaded
        .topology
        .switches
        .iter()
        .map(|(k, _)| k.value.as_str())
        .collect();
    assert_eq!(names, ["ls1", "ls2"]);
    assert_eq!(loaded.sources.files().len(), 2);
}

#[test]
fn missing_files_and_empty_directories_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = spec::load_paths(&[dir.path().join("nope.yaml"), dir.path().to_path_buf()]);
    let codes: Vec<&str> = loaded
        .diagnostics
        .items
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, [Code::IoRead.as_str(), Code::IoRead.as_str()]);
}

#[test]
fn an_oversized_file_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(spec::load::MAX_FILE_BYTES + 10).unwrap();
    let loaded = spec::load_paths(&[path]);
    let codes: Vec<&str> = loaded
        .diagnostics
        .items
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, [Code::IoTooLarge.as_str()]);
}

#[test]
fn a_file_of_comments_is_an_empty_topology() {
    let loaded = spec::load_str("empty.yaml", "# nothing yet\n\n");
    assert!(loaded.diagnostics.is_empty());
    // ... which has no stack name.
    assert_eq!(codes(&loaded), [Code::NameMissingStack.as_str()]);
}

#[test]
fn json_positions_are_one_based_lines_and_columns() {
    let loaded = spec::load_str("p.yaml", "name: lab\nswitches:\n  ls1:\n    subnett: x\n");
    let d = &loaded.diagnostics.items[0];
    let j = topo::diagnostics::JsonDiagnostic::new(d, &loaded.sources);
    assert_eq!(
        (j.file.as_deref(), j.line, j.column),
        (Some("p.yaml"), Some(4), Some(5))
    );
}

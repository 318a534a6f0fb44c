//! One invalid topology per mistake (`tests/fixtures/invalid/*.yaml`), each rendered as the
//! user sees it. A fixture is named after the code it must produce (`ref--unknown-switch`
//! expects `topo::ref::unknown-switch`, optionally followed by `--<variant>`), and produces
//! only that code, so a fixture cannot silently start testing something else.

use std::collections::BTreeSet;

use topo::diagnostics::{Code, JsonDiagnostic};

use super::{diagnose, load, render, root};

fn expected_code(stem: &str) -> String {
    let parts: Vec<&str> = stem.split("--").collect();
    format!("topo::{}::{}", parts[0], parts[1])
}

#[test]
fn invalid_topologies_render_their_diagnostics() {
    insta::glob!("../fixtures/invalid", "*.yaml", |path| {
        let loaded = load(path);
        let diags = diagnose(&loaded);
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let expected = expected_code(stem);
        assert!(!diags.is_empty(), "{stem}: no diagnostic");
        for d in &diags.items {
            assert_eq!(
                d.code.as_str(),
                expected,
                "{stem}: unexpected {}",
                d.message
            );
            assert!(d.primary.is_some(), "{stem}: diagnostic without a place");
        }
        let source = std::fs::read_to_string(path).unwrap();
        insta::with_settings!({ description => source, omit_expression => true }, {
            insta::assert_snapshot!(render(&loaded, &diags));
        });
    });
}

/// Every code is produced by some fixture, except those about files, which have their own
/// tests in `loader`.
#[test]
fn every_code_has_a_fixture() {
    let dir = root().join("tests/fixtures/invalid");
    let covered: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| expected_code(p.file_stem().unwrap().to_str().unwrap()))
        .collect();
    let io = [Code::IoRead, Code::IoTooLarge];
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !io.contains(c))
        .map(|c| c.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
    assert!(covered.len() >= 40);
}

/// Fixtures of warning codes stay valid topologies; every other fixture is invalid.
#[test]
fn warning_fixtures_are_valid_and_the_others_are_not() {
    let warnings = [
        "topo::chassis::unmapped-network",
        "topo::chassis::vif-unmapped",
        "topo::chassis::gateway-unverified",
    ];
    let dir = root().join("tests/fixtures/invalid");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let diags = diagnose(&load(&path));
        if warnings.contains(&expected_code(&stem).as_str()) {
            assert!(!diags.has_errors(), "{stem}");
            assert_eq!(diags.warnings(), 1, "{stem}");
        } else {
            assert!(diags.has_errors(), "{stem}");
        }
    }
}

/// All problems are reported at once, not just the first.
#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
name: lab
switches:
  ls1:
    subnet: 10.0.0.0/24
    ports:
      vm1: { mac: "00:00:00:00:00:01", ip: 10.0.1.11, chassis: hv9 }
      vm2: { mac: "zz", ip: 10.0.0.12 }
routers:
  lr1:
    ports:
      - { switch: ls9, ip: 10.0.0.1/24 }
"#;
    let loaded = topo::spec::load_str("many.yaml", text);
    let diags = diagnose(&loaded);
    let codes: BTreeSet<&str> = diags.items.iter().map(|d| d.code.as_str()).collect();
    for c in [
        "topo::ref::unknown-chassis",
        "topo::addr::bad-mac",
        "topo::addr::outside-subnet",
        "topo::ref::unknown-switch",
    ] {
        assert!(codes.contains(c), "{c} missing from {codes:?}");
    }
}

/// Every unknown key of every file at once, and the semantic problems after them: an unknown
/// key is skipped, not fatal (issue 12: the first unknown key of a file hid the rest).
#[test]
fn every_unknown_key_of_every_file_is_reported_with_the_rest() {
    let loaded = topo::spec::load_files(vec![
        (
            "a.yaml".into(),
            "name: lab\nswitches:\n  ls1:\n    subnett: 10.0.0.0/24\n    ports:\n      vm1: { mac: \"00:00:00:00:00:01\", ip: 10.0.0.11, chasis: hv1, chassis: hv9 }\n".into(),
        ),
        (
            "b.yaml".into(),
            "routers:\n  lr1:\n    colour: red\n    ports:\n      - { switch: ls2, ip: 10.0.0.1/24 }\n".into(),
        ),
    ]);
    let diags = diagnose(&loaded);
    let found: Vec<(&str, &str)> = diags
        .items
        .iter()
        .map(|d| (d.code.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "topo::yaml::unknown-key",
                "unknown key `subnett` in switch: did you mean `subnet`?"
            ),
            (
                "topo::yaml::unknown-key",
                "unknown key `chasis` in port: did you mean `chassis`?"
            ),
            ("topo::ref::unknown-chassis", "unknown chassis `hv9`"),
            ("topo::yaml::unknown-key", "unknown key `colour` in router"),
            ("topo::ref::unknown-switch", "unknown switch `ls2`"),
        ],
        "{found:#?}"
    );
    insta::assert_snapshot!(render(&loaded, &diags));
}

/// A file with an unknown key compiles to nothing: its diagnostics are errors, so there is no
/// model, even though the checks ran.
#[test]
fn an_unknown_key_leaves_no_model() {
    let loaded = topo::spec::load_str("k.yaml", "name: lab\nswitches:\n  ls1: { subnett: x }\n");
    assert!(loaded.checkable());
    assert!(loaded.diagnostics.has_errors());
    // A file that does not parse leaves nothing to check.
    let broken = topo::spec::load_str("b.yaml", "name: lab\nswitches:\n  ls1: { subnet: x\n");
    assert!(!broken.checkable());
}

/// A typo of a required key is one error, at the typo: not also "missing key".
#[test]
fn a_typo_of_a_required_key_is_one_error() {
    let loaded = topo::spec::load_str(
        "t.yaml",
        "name: lab\nchassis:\n  hv1: { encapp: { type: geneve, ip: 172.17.42.20 } }\n",
    );
    let diags = diagnose(&loaded);
    let found: Vec<&str> = diags.items.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        found,
        ["unknown key `encapp` in chassis: did you mean `encap`?"]
    );
}

/// A duplicate key points at its second occurrence and labels the first.
#[test]
fn a_duplicate_key_points_at_the_second_occurrence() {
    let text = "name: lab\nswitches:\n  ls1:\n    subnet: 10.0.0.0/24\n    subnet: 10.0.1.0/24\n";
    let loaded = topo::spec::load_str("d.yaml", text);
    let d = &diagnose(&loaded).items[0];
    let j = JsonDiagnostic::new(d, &loaded.sources);
    assert_eq!(
        (j.code, j.line, j.column),
        ("topo::yaml::duplicate-key", Some(5), Some(5))
    );
    assert_eq!((j.related[0].line, j.related[0].column), (Some(4), Some(5)));
}

/// A network typo is one error with the name it likely meant, not one per chassis that then
/// seems unable to reach the network.
#[test]
fn a_network_typo_is_one_error() {
    let path = root().join("tests/fixtures/invalid/ref--unknown-network--localnet-typo.yaml");
    let diags = diagnose(&load(&path));
    assert_eq!(diags.items.len(), 1, "{:#?}", diags.items);
    assert!(
        diags.items[0].message.contains("did you mean `provider`?"),
        "{}",
        diags.items[0].message
    );
}

/// Two files defining the same switch: one error naming both files.
#[test]
fn an_object_defined_in_two_files_names_both() {
    let loaded = topo::spec::load_files(vec![
        ("a.yaml".into(), "name: lab\nswitches:\n  ls1: {}\n".into()),
        ("b.yaml".into(), "switches:\n  ls2: {}\n  ls1: {}\n".into()),
    ]);
    let diags = diagnose(&loaded);
    assert_eq!(diags.items.len(), 1);
    let out = render(&loaded, &diags);
    insta::assert_snapshot!(out);
    assert!(
        out.contains("a.yaml:3:3") && out.contains("b.yaml:3:3"),
        "{out}"
    );
}

/// One mistake, one diagnostic: a router port address that does not parse must not also
/// make its routes' nexthops "unreachable".
#[test]
fn a_bad_router_address_does_not_cascade() {
    let text = "name: lab\nswitches:\n  ls1: { subnet: 10.0.0.0/24 }\n  ls2: { subnet: 10.0.1.0/24 }\nrouters:\n  lr1:\n    ports:\n      - { switch: ls1, ip: 10.0.0.1 }\n      - { switch: ls2, ip: 10.0.1.1/24 }\n    routes: [ { prefix: 0.0.0.0/0, nexthop: 10.0.0.254 } ]\n";
    let loaded = topo::spec::load_str("cascade.yaml", text);
    let codes: Vec<&str> = diagnose(&loaded)
        .items
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, ["topo::addr::bad-cidr"]);
}

/// 1-based line and column (in characters) of a byte offset, computed from the text alone.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Checks one JSON label: its line and column are where its offset is in its file.
fn assert_place(
    files: &[(&str, &str)],
    file: &serde_json::Value,
    line: &serde_json::Value,
    column: &serde_json::Value,
    offset: &serde_json::Value,
    length: &serde_json::Value,
) {
    let name = file.as_str().unwrap();
    let (_, text) = files.iter().find(|(n, _)| *n == name).unwrap();
    let offset = offset.as_u64().unwrap() as usize;
    let length = length.as_u64().unwrap() as usize;
    assert!(offset + length <= text.len(), "{name}: {offset}+{length}");
    let (l, c) = line_column(text, offset);
    assert_eq!(
        (
            line.as_u64().unwrap() as usize,
            column.as_u64().unwrap() as usize
        ),
        (l, c),
        "{name}: offset {offset}"
    );
}

/// `validate --format json`: for every label of every fixture's diagnostics (and of one spread
/// over two files), `line` and `column` are where `offset` lands in `file`.
#[test]
fn json_lines_and_columns_match_the_offsets() {
    let mut cases: Vec<(topo::spec::Loaded, Vec<(String, String)>)> = Vec::new();
    let dir = root().join("tests/fixtures/invalid");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let loaded = load(&path);
        let name = loaded.sources.files()[0].name.clone();
        let text = std::fs::read_to_string(&path).unwrap();
        cases.push((loaded, vec![(name, text)]));
    }
    let two = vec![
        (
            "a.yaml".to_owned(),
            "name: lab\nswitches:\n  ls1: {}\n".to_owned(),
        ),
        (
            "b.yaml".to_owned(),
            "switches:\n  ls2: {}\n  ls1: {}\n".to_owned(),
        ),
    ];
    cases.push((topo::spec::load_files(two.clone()), two));
    let mut labels = 0;
    for (loaded, files) in &cases {
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        for d in &diagnose(loaded).items {
            let j = serde_json::to_value(JsonDiagnostic::new(d, &loaded.sources)).unwrap();
            assert_place(
                &files,
                &j["file"],
                &j["line"],
                &j["column"],
                &j["offset"],
                &j["length"],
            );
            labels += 1;
            for r in j["related"].as_array().unwrap() {
                assert_place(
                    &files,
                    &r["file"],
                    &r["line"],
                    &r["column"],
                    &r["offset"],
                    &r["length"],
                );
                labels += 1;
            }
        }
    }
    assert!(labels > cases.len(), "{labels} labels");
}

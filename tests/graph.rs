//! `topo graph`: the topology as DOT, Mermaid and (through Graphviz) SVG.

use std::path::PathBuf;

use crate::support::topo_cmd::TopoCmd;
use crate::support::{find_bin, in_ci};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/topologies")
        .join(name)
}

fn graph(file: &str, extra: &[&str]) -> String {
    let mut args = vec!["graph".to_string(), example(file).display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    TopoCmd::new(args).run().success().stdout()
}

#[test]
fn gateway_router_as_dot() {
    insta::assert_snapshot!(graph("gateway-router.yaml", &[]));
}

#[test]
fn dgp_gateway_chassis_as_dot() {
    insta::assert_snapshot!(graph("dgp-gateway-chassis.yaml", &["--format", "dot"]));
}

#[test]
fn dgp_ha_group_with_ports_as_mermaid() {
    insta::assert_snapshot!(graph(
        "dgp-ha-group.yaml",
        &["--format", "mermaid", "--ports"]
    ));
}

/// Every example draws in both text formats, and drawing twice gives the same bytes.
#[test]
fn every_example_draws_the_same_twice() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/topologies");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in &files {
        for format in ["dot", "mermaid"] {
            let args = ["--format", format, "--ports"];
            let first = graph(file, &args);
            assert!(!first.is_empty(), "{file} as {format} is empty");
            assert_eq!(first, graph(file, &args), "{file} as {format} differs");
        }
    }
}

#[test]
fn an_invalid_topology_reports_its_diagnostics() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/invalid/addr--bad-cidr.yaml");
    let out = TopoCmd::new(["graph".as_ref(), file.as_os_str()])
        .run()
        .expect_code(1);
    assert!(out.stdout().is_empty(), "stdout: {}", out.stdout());
    assert!(
        out.stderr().contains("topo::addr::bad-cidr"),
        "stderr: {}",
        out.stderr()
    );
}

/// Without Graphviz on PATH, `--format svg` says so with its code and exits 1.
#[test]
fn svg_without_graphviz_is_a_diagnostic() {
    let empty = tempfile::tempdir().unwrap();
    let out = TopoCmd::new([
        "graph",
        &example("gateway-router.yaml").display().to_string(),
        "--format",
        "svg",
    ])
    .env("PATH", empty.path())
    .run()
    .expect_code(1);
    assert!(out.stdout().is_empty());
    let err = out.stderr_flat();
    assert!(err.contains("topo::graph::no-graphviz"), "stderr: {err}");
    assert!(err.contains("apt-get install graphviz"), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

/// With Graphviz installed, `--format svg` is a well-formed SVG document naming every
/// object. Under `CI=true` a missing `dot` fails the test; locally it is skipped loudly.
#[test]
fn svg_through_graphviz_is_well_formed() {
    if find_bin("dot").is_none() {
        let msg = "test `graph::svg_through_graphviz_is_well_formed` needs Graphviz's `dot`; \
                   install it with scripts/install-deps.sh";
        if in_ci() {
            panic!("{msg} (CI=true: a missing binary fails the test)");
        }
        eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
        return;
    }
    let svg = graph("gateway-router.yaml", &["--format", "svg"]);
    let root = well_formed(&svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    assert_eq!(root, "svg");
    for name in [
        "lr1",
        "lr2",
        "ls1",
        "ls2",
        "lsjoin",
        "lslocal",
        "externalnet",
    ] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name} missing");
    }
    assert!(svg.contains("gateway router on master"));
}

/// Checks XML well-formedness the way an SVG reader needs it (declarations, comments,
/// doctype, balanced elements, quoted attributes) and returns the root element's name.
fn well_formed(xml: &str) -> Result<String, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut root = None;
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root element: {text:?}"));
        }
        rest = &rest[start..];
        let (end_marker, skip) = if rest.starts_with("<?") {
            ("?>", true)
        } else if rest.starts_with("<!--") {
            ("-->", true)
        } else if rest.starts_with("<!") {
            (">", true)
        } else {
            (">", false)
        };
        let end = tag_end(rest, end_marker).ok_or("unterminated markup")?;
        let tag = &rest[..end];
        rest = &rest[end + end_marker.len()..];
        if skip {
            continue;
        }
        let inner = &tag[1..];
        if let Some(name) = inner.strip_prefix('/') {
            let open = stack.pop().ok_or("closing tag without an open one")?;
            if open != name.trim() {
                return Err(format!("</{}> closes <{open}>", name.trim()));
            }
        } else {
            let name: String = inner
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            if name.is_empty() {
                return Err("element without a name".into());
            }
            if stack.is_empty() {
                if root.is_some() {
                    return Err("two root elements".into());
                }
                root = Some(name.clone());
            }
            if !inner.ends_with('/') {
                stack.push(name);
            }
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements: {stack:?}"));
    }
    root.ok_or_else(|| "no root element".to_string())
}

/// Where `marker` ends the markup at the start of `s`, skipping quoted attribute values.
fn tag_end(s: &str, marker: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if marker == ">" && (c == '"' || c == '\'') => quote = Some(c),
            None if s[i..].starts_with(marker) => return Some(i),
            None => {}
        }
    }
    None
}

/// `--live` colours what a plan would do: against a database holding the topology with a
/// switch more (ls3) and a port less on ls1, the picture of the topology marks ls3 deleted
/// (added back, "left the topology") and ls1 updated; against an empty one, everything
/// created; the legend is the plan's summary.
#[test]
fn live_marks_what_a_plan_would_create_update_and_delete() {
    crate::require_ovn!();
    use crate::apply::{apply, edited, example as apply_example, topo, write};
    let ovn = crate::support::ovn::OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let base = apply_example("gateway-router.yaml");
    let file = base.to_str().unwrap();
    let out = topo(&ovn, &["graph", file, "--live"]).success();
    let dot = out.stdout();
    assert!(dot.contains("green: create"), "{dot}");
    // Node statements only (edges are `a -- b`).
    let nodes = dot
        .lines()
        .filter(|l| (l.starts_with("  ls_") || l.starts_with("  lr_")) && !l.contains(" -- "));
    for line in nodes {
        assert!(line.contains("#16a34a"), "not marked created: {line}");
    }
    // The live database: one switch more, one VM port less than the file.
    let live = write(
        dir.path(),
        "live.yaml",
        &edited(
            "gateway-router.yaml",
            &[
                (
                    "  lsjoin:\n",
                    "  ls3:\n    subnet: 10.10.50.0/24\n  lsjoin:\n",
                ),
                (
                    "      ls1-vm2: { mac: \"00:00:00:00:00:04\", ip: 10.10.10.3, port-security: true, chassis: master }\n",
                    "",
                ),
            ],
        ),
    );
    apply(&ovn, &live);
    let out = topo(&ovn, &["graph", file, "--live"]).success();
    let dot = out.stdout();
    let line = |id: &str| {
        dot.lines()
            .find(|l| l.starts_with(&format!("  {id} [")))
            .unwrap_or_else(|| panic!("no node {id} in\n{dot}"))
            .to_owned()
    };
    assert!(line("ls_ls3").contains("left the topology"), "{dot}");
    assert!(line("ls_ls3").contains("#dc2626"), "{dot}");
    assert!(line("ls_ls1").contains("#d97706"), "{dot}");
    assert!(!line("ls_ls2").contains("penwidth=3"), "{dot}");
    let mermaid = topo(&ovn, &["graph", file, "--live", "--format", "mermaid"]).success();
    assert!(
        mermaid.stdout().contains("classDef delete"),
        "{}",
        mermaid.stdout()
    );
}

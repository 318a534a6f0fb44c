//! Rows topo does not own, made by hand (ovn-nbctl) as children of rows it does own (issue 11
//! item 2): an ACL, a QoS rule, a switch port and a load balancer on an owned switch, a NAT
//! rule and a load balancer on an owned router.
//!
//! For each: an apply with the parent unchanged keeps the child (the row exists and is still
//! referenced; the plan says "kept", exit 0, and drift reports it, exit 2); a plan that
//! removes the parent names the child under "Foreign rows at risk" (deleted by the database
//! for a child of a non-root table, detached for a load balancer, a root row); `topo apply`
//! (of the topology and of a saved plan) and `topo destroy` refuse it with
//! `topo::apply::foreign-loss`, writing nothing (the NB dump is byte-identical), and
//! `--allow-foreign-loss` applies it.

use std::path::{Path, PathBuf};

use super::{apply, assert_converged, assert_lines, plan, topo, write};
use crate::require_ovn;
use crate::support::ovn::OvnSandbox;
use crate::support::topo_cmd::TopoOutput;

/// Switch a-web (with port web1) and router r2 are the parents; a-db and r1 stay.
const WITH: &str = r#"name: s
switches:
  a-web:
    subnet: 10.0.0.0/24
    ports:
      web1: { mac: "00:00:00:00:01:02", ip: 10.0.0.2 }
  a-db:
    subnet: 10.0.1.0/24
routers:
  r1:
    ports:
      - { switch: a-db, mac: "00:00:00:00:01:11", ip: 10.0.1.1/24 }
  r2:
    ports:
      - { switch: a-db, mac: "00:00:00:00:01:12", ip: 10.0.1.2/24 }
"#;

/// The same without a-web and r2.
const WITHOUT: &str = r#"name: s
switches:
  a-db:
    subnet: 10.0.1.0/24
routers:
  r1:
    ports:
      - { switch: a-db, mac: "00:00:00:00:01:11", ip: 10.0.1.1/24 }
"#;

struct Files {
    _dir: tempfile::TempDir,
    with: PathBuf,
    without: PathBuf,
    saved: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    Files {
        with: write(dir.path(), "with.yaml", WITH),
        without: write(dir.path(), "without.yaml", WITHOUT),
        saved: dir.path().join("plan.json"),
        _dir: dir,
    }
}

fn nb_only() -> OvnSandbox {
    OvnSandbox::builder().sb(false).northd(false).start()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `ovn-nbctl --bare --columns=COLUMN find TABLE CONDITION`, trimmed.
fn find(ovn: &OvnSandbox, table: &str, column: &str, condition: &str) -> String {
    ovn.nbctl(&[
        "--bare",
        &format!("--columns={column}"),
        "find",
        table,
        condition,
    ])
    .trim()
    .to_owned()
}

/// `ovn-nbctl --bare get TABLE RECORD COLUMN`, trimmed.
fn get(ovn: &OvnSandbox, table: &str, record: &str, column: &str) -> String {
    ovn.nbctl(&["--bare", "get", table, record, column])
        .trim()
        .to_owned()
}

/// One hand-made child of an owned parent.
struct Child<'a> {
    /// ovn-nbctl commands that make it.
    make: &'a [&'a [&'a str]],
    /// Its `_uuid`, found again.
    uuid: &'a dyn Fn(&OvnSandbox) -> String,
    /// The parent's table, record and column that hold it.
    parent: (&'a str, &'a str, &'a str),
    /// The plan's line for it while the parent stays.
    kept: &'a str,
    /// The plan's line for it once the parent leaves the topology.
    at_risk: &'a str,
    /// Its table.
    table: &'a str,
    /// Whether it outlives its parent (a root row: detached, not deleted).
    survives: bool,
}

fn refusal(out: &TopoOutput) -> String {
    let err = super::stderr(out);
    assert!(err.contains("topo::apply::foreign-loss"), "{err}");
    assert!(
        err.contains("that stack s does not own; nothing was written"),
        "{err}"
    );
    err
}

fn check(child: Child<'_>) {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.with);
    for cmd in child.make {
        ovn.nbctl(cmd);
    }
    let uuid = (child.uuid)(&ovn);
    assert!(!uuid.is_empty(), "the child was not made");
    let (table, record, column) = child.parent;
    let held = || get(&ovn, table, record, column).contains(&uuid);
    assert!(held());

    // 1. The parent stays: the child is kept, and said to be.
    let out = plan(&ovn, &f.with, 0);
    assert_lines("plan", &out.stdout(), &[child.kept]);
    assert!(out.stdout().contains("No changes."), "{}", out.stdout());
    let drift = topo(&ovn, &["drift", p(&f.with)]).expect_code(2);
    assert_lines("drift", &drift.stdout(), &[child.kept]);
    // Edits to the parents (a port more on a-web, a route on r2) keep it too.
    let edited = write(
        f.with.parent().unwrap(),
        "edited.yaml",
        &WITH
            .replace(
                "      web1: { mac: \"00:00:00:00:01:02\", ip: 10.0.0.2 }\n",
                "      web1: { mac: \"00:00:00:00:01:02\", ip: 10.0.0.2 }\n      \
                 web2: { mac: \"00:00:00:00:01:03\", ip: 10.0.0.3 }\n",
            )
            .replace(
                "      - { switch: a-db, mac: \"00:00:00:00:01:12\", ip: 10.0.1.2/24 }\n",
                "      - { switch: a-db, mac: \"00:00:00:00:01:12\", ip: 10.0.1.2/24 }\n    \
                 routes:\n      - { prefix: 0.0.0.0/0, nexthop: 10.0.1.254 }\n",
            ),
    );
    let out = apply(&ovn, &edited);
    assert!(
        !out.stdout().contains("Foreign rows at risk"),
        "{}",
        out.stdout()
    );
    assert!(
        held(),
        "apply dropped the child from {table} {record} {column}"
    );
    let out = apply(&ovn, &f.with);
    assert!(
        held(),
        "apply dropped the child from {table} {record} {column}"
    );
    assert_lines("apply", &out.stdout(), &[child.kept]);
    assert_converged(&ovn, &f.with);

    // 2. The parent leaves the topology: the child is at risk.
    let out = plan(&ovn, &f.without, 2);
    assert_lines(
        "plan",
        &out.stdout(),
        &[
            "Foreign rows at risk (apply refuses without --allow-foreign-loss):",
            &format!("! {}", child.at_risk),
        ],
    );
    let json = topo(&ovn, &["plan", "--format", "json", p(&f.without)]).expect_code(2);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    let risk = doc["foreign_at_risk"].as_array().unwrap();
    assert_eq!(risk.len(), 1, "{risk:?}");
    assert_eq!(risk[0]["row"]["uuid"], uuid.as_str());
    let fate = if child.survives {
        "detached"
    } else {
        "deleted"
    };
    assert_eq!(risk[0]["fate"], fate);
    let md = topo(&ovn, &["plan", "--format", "markdown", p(&f.without)]).expect_code(2);
    assert!(
        md.stdout().contains(&format!("> - {}", child.at_risk)),
        "{}",
        md.stdout()
    );

    // Refused, nothing written: the topology, a saved plan, destroy.
    let before = ovn.nb_dump();
    let out = topo(&ovn, &["apply", "--yes", p(&f.without)]).expect_code(1);
    assert!(refusal(&out).contains(child.at_risk), "{}", out.stderr());
    assert_eq!(before, ovn.nb_dump());
    topo(&ovn, &["plan", "-o", p(&f.saved), p(&f.without)]).expect_code(2);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&f.saved).unwrap()).unwrap();
    assert_eq!(saved["foreign_at_risk"].as_array().map(Vec::len), Some(1));
    refusal(&topo(&ovn, &["apply", "--yes", p(&f.saved)]).expect_code(1));
    assert_eq!(before, ovn.nb_dump());
    // The saved list is for review: apply checks the saved changes again against the
    // database, so a plan without it (edited, or saved by an older topo) is refused too.
    let mut edited_plan = saved.clone();
    edited_plan
        .as_object_mut()
        .unwrap()
        .remove("foreign_at_risk");
    let stripped = f.saved.with_file_name("stripped.json");
    std::fs::write(&stripped, edited_plan.to_string()).unwrap();
    refusal(&topo(&ovn, &["apply", "--yes", p(&stripped)]).expect_code(1));
    assert_eq!(before, ovn.nb_dump());
    let out = topo(&ovn, &["plan", "--destroy", p(&f.with)]).expect_code(2);
    assert_lines(
        "plan --destroy",
        &out.stdout(),
        &[&format!("! {}", child.at_risk)],
    );
    refusal(&topo(&ovn, &["destroy", "--yes", p(&f.with)]).expect_code(1));
    assert_eq!(before, ovn.nb_dump());

    // 3. Allowed: applied.
    topo(
        &ovn,
        &["apply", "--yes", "--allow-foreign-loss", p(&f.saved)],
    )
    .success();
    let rows = ovn.nbctl(&["--bare", "--columns=_uuid", "list", child.table]);
    assert_eq!(rows.contains(&uuid), child.survives, "{rows}");
    assert_converged(&ovn, &f.without);
}

#[test]
fn a_hand_made_acl_on_an_owned_switch() {
    check(Child {
        make: &[&[
            "acl-add",
            "a-web",
            "to-lport",
            "1000",
            "ip4.src == 10.0.0.9",
            "drop",
        ]],
        uuid: &|ovn| find(ovn, "ACL", "_uuid", "priority=1000"),
        parent: ("Logical_Switch", "a-web", "acls"),
        kept: "kept: acl a-web to-lport 1000 ip4.src == 10.0.0.9 in switch a-web acls \
               (not owned by stack s)",
        at_risk: "acl a-web to-lport 1000 ip4.src == 10.0.0.9 would be deleted by the \
                  database: its last strong reference goes with switch a-web acls (not owned \
                  by stack s)",
        table: "ACL",
        survives: false,
    });
}

#[test]
fn a_hand_made_qos_rule_on_an_owned_switch() {
    check(Child {
        make: &[&["qos-add", "a-web", "to-lport", "100", "ip4", "rate=1000"]],
        uuid: &|ovn| find(ovn, "QoS", "_uuid", "priority=100"),
        parent: ("Logical_Switch", "a-web", "qos_rules"),
        kept: "kept: qos a-web to-lport 100 ip4 in switch a-web qos_rules (not owned by stack s)",
        at_risk: "qos a-web to-lport 100 ip4 would be deleted by the database: its last strong \
                  reference goes with switch a-web qos_rules (not owned by stack s)",
        table: "QoS",
        survives: false,
    });
}

#[test]
fn a_hand_made_port_on_an_owned_switch() {
    check(Child {
        make: &[&["lsp-add", "a-web", "by-hand"]],
        uuid: &|ovn| get(ovn, "Logical_Switch_Port", "by-hand", "_uuid"),
        parent: ("Logical_Switch", "a-web", "ports"),
        kept: "kept: switch port by-hand in switch a-web ports (not owned by stack s)",
        at_risk: "switch port by-hand would be deleted by the database: its last strong \
                  reference goes with switch a-web ports (not owned by stack s)",
        table: "Logical_Switch_Port",
        survives: false,
    });
}

#[test]
fn a_hand_made_nat_rule_on_an_owned_router() {
    check(Child {
        make: &[&["lr-nat-add", "r2", "snat", "198.51.100.1", "10.0.1.0/24"]],
        uuid: &|ovn| find(ovn, "NAT", "_uuid", "type=snat"),
        parent: ("Logical_Router", "r2", "nat"),
        kept: "kept: nat r2 snat 198.51.100.1 10.0.1.0/24 in router r2 nat (not owned by stack s)",
        at_risk: "nat r2 snat 198.51.100.1 10.0.1.0/24 would be deleted by the database: its last \
                  strong reference goes with router r2 nat (not owned by stack s)",
        table: "NAT",
        survives: false,
    });
}

/// A load balancer is a root row: removing the switch detaches it, it is not deleted.
#[test]
fn a_hand_made_load_balancer_on_an_owned_switch() {
    check(Child {
        make: &[
            &["lb-add", "lb1", "10.0.0.100:80", "10.0.0.2:80"],
            &["ls-lb-add", "a-web", "lb1"],
        ],
        uuid: &|ovn| get(ovn, "Load_Balancer", "lb1", "_uuid"),
        parent: ("Logical_Switch", "a-web", "load_balancer"),
        kept: "kept: load-balancer lb1 in switch a-web load_balancer (not owned by stack s)",
        at_risk: "load-balancer lb1 would be detached from switch a-web load_balancer; the row \
                  itself stays (not owned by stack s)",
        table: "Load_Balancer",
        survives: true,
    });
}

#[test]
fn a_hand_made_load_balancer_on_an_owned_router() {
    check(Child {
        make: &[
            &["lb-add", "lb1", "10.0.1.100:80", "10.0.1.5:80"],
            &["lr-lb-add", "r2", "lb1"],
        ],
        uuid: &|ovn| get(ovn, "Load_Balancer", "lb1", "_uuid"),
        parent: ("Logical_Router", "r2", "load_balancer"),
        kept: "kept: load-balancer lb1 in router r2 load_balancer (not owned by stack s)",
        at_risk: "load-balancer lb1 would be detached from router r2 load_balancer; the row \
                  itself stays (not owned by stack s)",
        table: "Load_Balancer",
        survives: true,
    });
}

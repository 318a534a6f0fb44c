//! `topo drift`: out-of-band changes made with ovn-nbctl are listed (exit 2, text and JSON),
//! the next `topo apply` fixes them (then exit 0) — except a row topo does not own added to
//! an owned row's set, which apply keeps and drift reports until it is removed or adopted —
//! and a name the topology wants held by a row
//! topo does not own is a conflict that plan (exit 1) and apply (exit 1, nothing written)
//! refuse.

use super::{apply, assert_converged, assert_lines, example, topo};
use crate::require_ovn;
use crate::support::ovn::OvnSandbox;

fn drift(ovn: &OvnSandbox, file: &str, code: i32) -> String {
    topo(ovn, &["drift", file]).expect_code(code).stdout()
}

#[test]
fn out_of_band_changes_are_reported_and_fixed() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let path = example("gateway-router.yaml");
    let file = path.to_str().unwrap();
    apply(&ovn, &path);
    let text = drift(&ovn, file, 0);
    assert!(text.contains("In sync: stack tutorial"), "{text}");

    // Three out-of-band changes to owned rows (the third adds a row topo does not own).
    ovn.nbctl(&[
        "lsp-set-addresses",
        "ls1-vm1",
        "00:00:00:00:00:99 10.10.10.99",
    ]);
    ovn.nbctl(&["ls-del", "ls2"]);
    ovn.nbctl(&["lr-nat-add", "lr2", "snat", "10.10.40.1", "10.10.50.0/24"]);
    let before = ovn.nb_dump();
    let text = drift(&ovn, file, 2);
    assert_lines(
        "drift",
        &text,
        &[
            "Drift: the live databases differ from the topology of stack tutorial.",
            "~ switch port ls1-vm1",
            r#"addresses: "00:00:00:00:00:99 10.10.10.99" → "00:00:00:00:00:03 10.10.10.2""#,
            "+ switch ls2",
            "+ switch port ls2-vm1",
            "+ switch port ls2-vm2",
            "+ switch port ls2-lr1",
            "kept: nat lr2 snat 10.10.40.1 10.10.50.0/24 in router lr2 nat (not owned by stack \
             tutorial)",
            "Plan: 4 to create, 1 to update, 0 to delete.",
        ],
    );
    // The same for CI, as JSON.
    let json = topo(&ovn, &["drift", "--format", "json", file])
        .expect_code(2)
        .stdout();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changes: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["action"].as_str().unwrap(),
                c["table"].as_str().unwrap(),
                c["key"][0].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "update Logical_Switch_Port ls1-vm1",
        "create Logical_Switch ls2",
    ] {
        assert!(
            changes.iter().any(|c| c == want),
            "{want} not in {changes:?}"
        );
    }
    assert!(
        !changes.iter().any(|c| c.contains("Logical_Router ")),
        "{changes:?}"
    );
    assert_eq!(v["foreign_kept"][0]["row"]["table"], "NAT");
    assert_eq!(v["foreign_kept"][0]["by"]["column"], "nat");
    assert_eq!(v["in_sync"], false);
    // drift is read-only.
    assert_eq!(before, ovn.nb_dump());

    apply(&ovn, &path);
    // The hand-made NAT rule is kept in lr2's set: still drift, and nothing for apply to do.
    let text = drift(&ovn, file, 2);
    assert_lines(
        "drift",
        &text,
        &[
            "Rows the stack does not own were added to its rows (apply keeps them; adopt them \
             with `topo import --adopt`, or remove them):",
            "kept: nat lr2 snat 10.10.40.1 10.10.50.0/24 in router lr2 nat (not owned by stack \
             tutorial)",
        ],
    );
    assert_converged(&ovn, &path);
    assert_eq!(
        ovn.nbctl(&["lsp-get-addresses", "ls1-vm1"]).trim(),
        "00:00:00:00:00:03 10.10.10.2"
    );
    assert!(ovn.nbctl(&["ls-list"]).contains("(ls2)"));
    let nats = ovn.nbctl(&["lr-nat-list", "lr2"]);
    assert!(nats.contains("10.10.50.0/24"), "{nats}");
    // Removed by hand, the stack is in sync again.
    ovn.nbctl(&["lr-nat-del", "lr2", "snat", "10.10.50.0/24"]);
    let text = drift(&ovn, file, 0);
    assert!(text.contains("In sync"), "{text}");
}

#[test]
fn an_unowned_row_with_a_wanted_name_is_a_conflict() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let path = example("gateway-router.yaml");
    let file = path.to_str().unwrap();
    apply(&ovn, &path);
    // ls2 deleted and made again by hand: same name, no topo mark.
    ovn.nbctl(&["ls-del", "ls2"]);
    ovn.nbctl(&["ls-add", "ls2"]);
    let uuid = ovn.nbctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "Logical_Switch",
        "name=ls2",
    ]);
    let uuid = uuid.trim();
    let before = ovn.nb_dump();

    let conflict = format!(
        "! switch ls2 exists ({uuid}) but is owned by no stack (made by another tool): adopt it \
         with `topo import --adopt`, or rename it in the topology"
    );
    let text = drift(&ovn, file, 2);
    assert_lines("drift", &text, &[&conflict]);
    let out = topo(&ovn, &["plan", file]).expect_code(1);
    assert_lines(
        "plan",
        &out.stdout(),
        &[
            "Conflicts (apply refuses until they are resolved):",
            &conflict,
        ],
    );
    let out = topo(&ovn, &["apply", "--yes", file]).expect_code(1);
    assert!(
        super::stderr(&out).contains("the plan has 1 conflict(s); nothing was written"),
        "{}",
        out.stderr()
    );
    assert_eq!(before, ovn.nb_dump(), "apply wrote despite the conflict");

    // Removing the stray row lets apply converge again.
    ovn.nbctl(&["ls-del", "ls2"]);
    apply(&ovn, &path);
    assert_converged(&ovn, &path);
}

/// R11: two switches with the stack's name and mark (a transaction committed twice, or a
/// copy made by hand): plan (exit 1), drift (exit 2) and apply (exit 1, nothing written) name
/// both rows, and no summary says the databases match.
#[test]
fn duplicate_owned_rows_are_reported_with_both_uuids() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let path = example("distributed-router.yaml");
    let file = path.to_str().unwrap();
    apply(&ovn, &path);
    let first = ovn.nbctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "Logical_Switch",
        "name=ls1",
    ]);
    let second = ovn.nbctl(&[
        "create",
        "Logical_Switch",
        "name=ls1",
        "external_ids:topo\\:stack=tutorial",
        "external_ids:topo\\:version=1",
    ]);
    let mut uuids = [first.trim().to_owned(), second.trim().to_owned()];
    uuids.sort();
    let line = format!(
        "! switch ls1 is held by 2 rows ({}, {}): remove the extra rows before applying",
        uuids[0], uuids[1]
    );
    let before = ovn.nb_dump();
    let plan = topo(&ovn, &["plan", file]).expect_code(1).stdout();
    assert_lines("plan", &plan, &[&line]);
    // Which of the two rows the plan compares with follows UUID order (random per run), so
    // the plan may or may not show changes; its summary always says the conflict blocks.
    let summary = plan.lines().last().unwrap();
    assert!(summary.ends_with("1 conflict(s) block apply."), "{plan}");
    assert!(!plan.contains("match the topology"), "{plan}");
    let text = drift(&ovn, file, 2);
    assert_lines("drift", &text, &[&line]);
    let out = topo(&ovn, &["apply", "--yes", file]).expect_code(1);
    assert!(
        super::stderr(&out).contains("the plan has 1 conflict(s); nothing was written"),
        "{}",
        out.stderr()
    );
    assert!(
        !out.stderr().contains("match the topology"),
        "{}",
        out.stderr()
    );
    assert_eq!(before, ovn.nb_dump());
}

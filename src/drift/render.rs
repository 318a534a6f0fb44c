//! Drift for people: the verdict, the changes `topo apply` would make to bring the databases
//! back (the plan's own rendering), and what the Southbound shows of the chassis. Text for a
//! terminal, Markdown for an issue or a pull-request comment. Pure; `cli/drift.rs` prints.

use std::fmt::Write;

use crate::diff::Plan;
use crate::diff::render::{self, MARKDOWN_BUDGET};

/// What `topo drift` found.
pub(crate) struct Drift<'a> {
    /// The changes apply would make (rows and reachable chassis), and the conflicts.
    pub plan: &'a Plan,
    /// One sentence per Southbound finding ([`super::chassis::chassis_drift`]).
    pub findings: &'a [String],
    /// Whether the Southbound could be read; without it the chassis were not checked.
    pub chassis_checked: bool,
}

impl Drift<'_> {
    /// No change, no conflict, no Southbound finding, no gateway finding that blocks apply
    /// (a warning, such as an acknowledged `unmapped-ok`, is shown but is no drift).
    pub(crate) fn in_sync(&self) -> bool {
        !self.plan_has_something() && self.findings.is_empty()
    }

    fn plan_has_something(&self) -> bool {
        !(self.plan.is_empty()
            && self.plan.conflicts.is_empty()
            && self.plan.foreign_kept.is_empty()
            && !crate::diff::gateways::blocking(&self.plan.gateways))
    }
}

/// The terminal report.
pub(crate) fn text(drift: &Drift<'_>, color: bool) -> String {
    let stack = &drift.plan.stack;
    let mut out = String::new();
    if drift.in_sync() {
        let _ = writeln!(out, "In sync: stack {stack} matches the topology.");
        for line in render::unchecked_lines(drift.plan) {
            let _ = writeln!(out, "  ? {line} (not checked)");
        }
        for line in render::gateway_lines(drift.plan) {
            let _ = writeln!(out, "  ! {line}");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "Drift: the live databases differ from the topology of stack {stack}."
    );
    if drift.plan_has_something() {
        if drift.plan.is_empty()
            && drift.plan.conflicts.is_empty()
            && drift.plan.foreign_kept.is_empty()
        {
            // Only a gateway finding that blocks apply: the rows match.
            let _ = writeln!(
                out,
                "A gateway's chassis does not map its physical network in the Southbound:\n"
            );
        } else if drift.plan.is_empty() && drift.plan.conflicts.is_empty() {
            // Only references to rows the stack does not own: apply keeps them.
            let _ = writeln!(
                out,
                "Rows the stack does not own were added to its rows (apply keeps them; adopt \
                 them with `topo import --adopt`, or remove them):\n"
            );
        } else {
            let _ = writeln!(out, "What `topo apply` would do to bring them back:\n");
        }
        out.push_str(&render::text(drift.plan, color));
    }
    if !drift.findings.is_empty() {
        let _ = writeln!(out, "\nChassis (from the Southbound):");
        for f in drift.findings {
            let _ = writeln!(out, "  ! {f}");
        }
    }
    out
}

/// A Markdown document of its own: heading, verdict, the changes apply would make (as in
/// `topo plan --format markdown`), the Southbound findings as a list; within
/// [`MARKDOWN_BUDGET`] like a plan.
pub(crate) fn markdown(drift: &Drift<'_>) -> String {
    markdown_within(drift, MARKDOWN_BUDGET)
}

/// [`markdown`] within `budget` bytes: the findings take at most a quarter of it, the plan's
/// sections what is left.
pub(crate) fn markdown_within(drift: &Drift<'_>, budget: usize) -> String {
    let stack = &drift.plan.stack;
    let mut out = String::new();
    let _ = writeln!(out, "### topo drift for stack `{stack}`\n");
    if drift.in_sync() {
        let _ = writeln!(out, "**In sync: the live databases match the topology.**\n");
        // Out of sync, the plan's sections say it.
        let unchecked = render::unchecked_lines(drift.plan);
        if !unchecked.is_empty() {
            out.push_str("> [!NOTE]\n> Chassis not checked (the plan says nothing about them):\n");
            for line in unchecked {
                let _ = writeln!(out, "> - {line}");
            }
            out.push('\n');
        }
        let gateways = render::gateway_lines(drift.plan);
        if !gateways.is_empty() {
            out.push_str("> [!WARNING]\n> Gateways (their chassis, from the Southbound):\n");
            for line in gateways {
                let _ = writeln!(out, "> - {line}");
            }
            out.push('\n');
        }
    } else {
        let _ = writeln!(
            out,
            "**Drift: the live databases differ from the topology.**\n"
        );
    }
    if !drift.chassis_checked {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> The chassis were not checked: the Southbound could not be read.\n"
        );
    }
    let findings = findings_markdown(drift.findings, budget / 4);
    if drift.plan_has_something() {
        if drift.plan.is_empty()
            && drift.plan.conflicts.is_empty()
            && drift.plan.foreign_kept.is_empty()
        {
            let _ = writeln!(out, "#### A gateway's chassis lacks its physical network\n");
        } else if drift.plan.is_empty() && drift.plan.conflicts.is_empty() {
            let _ = writeln!(out, "#### Rows the stack does not own, added to its rows\n");
        } else {
            let _ = writeln!(out, "#### What `topo apply` would do to bring them back\n");
        }
        let room = budget.saturating_sub(out.len() + findings.len());
        out.push_str(&render::markdown_sections(drift.plan, room));
        if !findings.is_empty() {
            out.push('\n');
        }
    }
    out.push_str(&findings);
    out
}

/// The Southbound findings as a list under their heading, as many as fit in `room` bytes.
fn findings_markdown(findings: &[String], room: usize) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut out = String::from("#### Chassis (from the Southbound)\n\n");
    let mut shown = 0;
    for f in findings {
        let line = format!("- {f}\n");
        // Room for the line saying how many were left out.
        if out.len() + line.len() + 100 > room {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < findings.len() {
        let _ = writeln!(
            out,
            "- … and {} more finding(s): `topo drift` lists them all",
            findings.len() - shown
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Action, Change, ChassisChange, ColumnChange, Conflict, ReadSet};
    use crate::ovsdb::Datum;
    use crate::rows::{Db, RowKey, Value};

    fn change(action: Action, table: &str, key: &str, columns: Vec<ColumnChange>) -> Change {
        Change {
            action,
            db: Db::Northbound,
            table: table.into(),
            key: RowKey::name(key),
            columns,
        }
    }

    fn column(name: &str, before: Option<&str>, after: Option<&str>) -> ColumnChange {
        let cell = |v: &str| Datum::scalar(Value::from(v));
        ColumnChange {
            column: name.into(),
            before: before.map(cell),
            after: after.map(cell),
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            format_version: crate::diff::plan::FORMAT_VERSION,
            stack: "lab".into(),
            changes,
            kept: vec![],
            conflicts: vec![],
            foreign_kept: vec![],
            foreign_at_risk: vec![],
            chassis: vec![],
            chassis_unchecked: vec![],
            vteps: Vec::new(),
            gateways: Vec::new(),
            read: ReadSet::default(),
        }
    }

    fn drifted() -> Plan {
        let mut p = plan(vec![
            change(
                Action::Create,
                "Logical_Switch",
                "ls3",
                vec![column("name", None, Some("ls3"))],
            ),
            change(
                Action::Update,
                "Logical_Switch_Port",
                "vm1",
                vec![column(
                    "addresses",
                    Some("00:00:00:00:00:01 10.0.0.9"),
                    Some("00:00:00:00:00:01 10.0.0.2"),
                )],
            ),
            change(Action::Delete, "Logical_Router", "lr-old", vec![]),
        ]);
        p.conflicts.push(Conflict::Unowned {
            db: Db::Northbound,
            table: "Logical_Switch".into(),
            key: RowKey::name("ls9"),
            uuid: uuid::Uuid::from_u128(7),
            owner: None,
        });
        p.chassis.push(ChassisChange {
            chassis: "gw1".into(),
            remote: "unix:/gw1.sock".into(),
            bridge_mappings_before: String::new(),
            bridge_mappings_after: "ext:br-ex".into(),
            owned_before: String::new(),
            owned_after: "ext".into(),
            bridges_added: vec!["br-ex".into()],
            ports_added: Default::default(),
            settings_changed: vec![],
            bridge_mappings: [("ext".to_owned(), "br-ex".to_owned())].into(),
            bridges: Default::default(),
            settings: Default::default(),
            datapath_type: String::new(),
        });
        p
    }

    fn findings() -> Vec<String> {
        vec![
            "chassis hv2 is not registered in the Southbound (is ovn-controller running there?)"
                .into(),
            "chassis gw1 does not map network ext (the topology maps it to br-ex)".into(),
        ]
    }

    #[test]
    fn drift_markdown_is_a_document_of_its_own() {
        let p = drifted();
        let f = findings();
        let md = markdown(&Drift {
            plan: &p,
            findings: &f,
            chassis_checked: true,
        });
        insta::assert_snapshot!(md);
    }

    #[test]
    fn drift_markdown_in_sync_and_unchecked() {
        let p = plan(vec![]);
        let in_sync = markdown(&Drift {
            plan: &p,
            findings: &[],
            chassis_checked: true,
        });
        assert_eq!(
            in_sync,
            "### topo drift for stack `lab`\n\n\
             **In sync: the live databases match the topology.**\n\n"
        );
        let unchecked = markdown(&Drift {
            plan: &p,
            findings: &[],
            chassis_checked: false,
        });
        insta::assert_snapshot!(unchecked);
        // Only the Southbound differs: no plan section, the findings alone.
        let f = findings();
        let chassis_only = markdown(&Drift {
            plan: &p,
            findings: &f,
            chassis_checked: true,
        });
        assert!(chassis_only.contains("**Drift:"), "{chassis_only}");
        assert!(!chassis_only.contains("topo apply"), "{chassis_only}");
        assert!(
            chassis_only.ends_with(&format!("- {}\n", f[1])),
            "{chassis_only}"
        );
    }

    #[test]
    fn drift_text_is_unchanged_by_the_markdown() {
        let p = drifted();
        let f = findings();
        let text = text(
            &Drift {
                plan: &p,
                findings: &f,
                chassis_checked: true,
            },
            false,
        );
        assert!(text.starts_with(
            "Drift: the live databases differ from the topology of stack lab.\n\
             What `topo apply` would do to bring them back:\n\n+ switch ls3\n"
        ));
        assert!(text.ends_with(&format!(
            "\nChassis (from the Southbound):\n  ! {}\n  ! {}\n",
            f[0], f[1]
        )));
    }

    #[test]
    fn a_large_drift_stays_within_the_budget() {
        let changes = (0..4000)
            .map(|i| {
                change(
                    Action::Create,
                    "Logical_Switch",
                    &format!("ls{i}"),
                    vec![column("name", None, Some(&format!("ls{i}")))],
                )
            })
            .collect();
        let p = plan(changes);
        let f: Vec<String> = (0..2000)
            .map(|i| format!("chassis hv{i} is not registered in the Southbound"))
            .collect();
        let md = markdown(&Drift {
            plan: &p,
            findings: &f,
            chassis_checked: true,
        });
        assert!(md.len() <= MARKDOWN_BUDGET, "{}", md.len());
        assert!(md.contains("| switch | 4000 | 0 | 0 |"), "{md}");
        assert!(md.contains("more change(s) not shown"), "{md}");
        assert!(md.contains("more finding(s)"), "{md}");
        assert!(md.contains("#### Chassis (from the Southbound)"), "{md}");
    }

    /// A gateway warning (a backup, or acknowledged by `unmapped-ok`) is shown but is no
    /// drift; an error (the active chassis lacks the network) is.
    #[test]
    fn a_gateway_warning_is_in_sync_an_error_is_drift() {
        use crate::compiler::model::GatewayRole;
        use crate::diff::gateways::{GatewayFinding, Problem, Severity};
        let finding = |severity| GatewayFinding {
            severity,
            problem: Problem::Unmapped,
            chassis: "node1".into(),
            port: "lr1-lslocal".into(),
            networks: vec!["externalnet".into()],
            role: GatewayRole::Active,
            acknowledged: severity == Severity::Warning,
            message: "chassis node1 does not map externalnet (lr1-lslocal)".into(),
        };
        let mut p = plan(vec![]);
        p.gateways.push(finding(Severity::Warning));
        let drift = Drift {
            plan: &p,
            findings: &[],
            chassis_checked: true,
        };
        assert!(drift.in_sync());
        let out = text(&drift, false);
        assert!(out.starts_with("In sync"), "{out}");
        assert!(
            out.contains("  ! warning: chassis node1 does not map externalnet (lr1-lslocal)"),
            "{out}"
        );
        assert!(markdown(&drift).contains("> - warning: chassis node1"));
        p.gateways[0] = finding(Severity::Error);
        let drift = Drift {
            plan: &p,
            findings: &[],
            chassis_checked: true,
        };
        assert!(!drift.in_sync());
        let out = text(&drift, false);
        assert!(
            out.contains("  ! error (blocks apply): chassis node1"),
            "{out}"
        );
        assert!(
            out.contains("A gateway's chassis does not map its physical network"),
            "{out}"
        );
    }
}

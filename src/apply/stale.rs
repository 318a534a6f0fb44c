//! Whether the database moved: a saved plan's read set against a fresh read ([`moved_since`],
//! also for rows of the stack it never saw), and, when a `wait` guard failed at commit, which
//! row it guarded ([`guard_subject`]).

use std::collections::BTreeSet;

use crate::diff::{self, Plan, ReadRow};
use crate::ovsdb::{Atom, Operation};
use crate::rows::live::{self, Live};
use crate::rows::ownership;

/// What moved between a saved plan's read and `live`: rows it read whose UUID or version
/// changed, keys it expected free that are taken, and rows of the stack it never saw.
pub(crate) fn moved_since(saved: &Plan, live: &Live) -> Vec<String> {
    let mut moved = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &saved.read.rows {
        seen.insert((r.db.clone(), r.table.clone(), r.key.clone()));
        let now = live.row(&r.db, &r.table, &r.key);
        let what = diff::render::subject(&r.db, &r.table, &r.key);
        match (r.uuid, now) {
            (None, Some(_)) => moved.push(format!("{what} was created")),
            (Some(_), None) => moved.push(format!("{what} was deleted")),
            (Some(u), Some(n)) if n.uuid != u => moved.push(format!("{what} was replaced")),
            (Some(_), Some(n)) if !same_content(r, n) => moved.push(format!("{what} was modified")),
            _ => {}
        }
    }
    for (db, table, key, row) in live.state.rows() {
        if ownership::owner(row).as_deref() == Some(saved.stack.as_str())
            && !seen.contains(&(db.clone(), table.to_owned(), key.clone()))
        {
            moved.push(format!(
                "{} was created",
                diff::render::subject(db, table, key)
            ));
        }
    }
    moved
}

/// Whether a row still holds what the plan read: by content when the plan has a digest of
/// this topo's kind, else (plans made before digests, or with the older wire-JSON digest) by
/// `_version`.
fn same_content(read: &ReadRow, now: &live::LiveRow) -> bool {
    match &read.digest {
        Some(d) if d.starts_with(live::DIGEST_PREFIX) => now.digest() == *d,
        _ => now.version == read.version,
    }
}

/// Names the row whose `wait` guard at `index` failed.
pub(super) fn guard_subject(plan: &Plan, ops: &[Operation], index: usize) -> Option<String> {
    match ops.get(index)? {
        Operation::Wait {
            table, conditions, ..
        } => {
            let cond = conditions.first()?;
            if table == "NB_Global" {
                return Some(format!(
                    "another apply of stack {} committed after this one read the database",
                    plan.stack
                ));
            }
            let key = match cond.value.as_scalar()? {
                Atom::String(name) => {
                    return Some(format!(
                        "{} {name} was created by someone else",
                        diff::render::noun(table)
                    ));
                }
                Atom::Uuid(u) => *u,
                _ => return None,
            };
            plan.read
                .rows
                .iter()
                .find(|r: &&ReadRow| r.uuid == Some(key))
                .map(|r| {
                    format!(
                        "{} was modified",
                        diff::render::subject(&r.db, &r.table, &r.key)
                    )
                })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovsdb::Datum;
    use crate::rows::live::LiveRow;
    use crate::rows::{Db, Row, RowKey, State, Value};
    use uuid::Uuid;

    fn live_with(version: u128, addresses: &str) -> Live {
        let key = RowKey::name("vm1");
        let mut live = Live::default();
        let row = Row::new().with("addresses", Datum::scalar(Value::from(addresses)));
        let digest = crate::rows::live::digest_of(&row);
        live.state
            .insert(Db::Northbound, "Logical_Switch_Port", key.clone(), row);
        live.rows.insert(
            (Db::Northbound, "Logical_Switch_Port".into(), key),
            LiveRow {
                uuid: Uuid::from_u128(1),
                version: Some(Uuid::from_u128(version)),
                digest,
            },
        );
        live
    }

    fn saved(live: &Live) -> Plan {
        let desired = State::new();
        diff::plan(&desired, live, "lab", diff::Options { prune: false })
    }

    /// `_version` differs on every member of a RAFT cluster: a saved plan compares content.
    #[test]
    fn a_saved_plan_compares_content_not_version() {
        let mut plan = saved(&live_with(7, "00:00:00:00:00:01 10.0.0.2"));
        // The plan reads nothing it neither wants nor owns: add the row by hand.
        let read = live_with(7, "00:00:00:00:00:01 10.0.0.2");
        let row = read
            .row(&Db::Northbound, "Logical_Switch_Port", &RowKey::name("vm1"))
            .unwrap();
        plan.read.rows.push(ReadRow {
            db: Db::Northbound,
            table: "Logical_Switch_Port".into(),
            key: RowKey::name("vm1"),
            uuid: Some(row.uuid),
            version: row.version,
            digest: Some(row.digest()),
        });
        // Same content, another server's _version: not moved.
        assert!(moved_since(&plan, &live_with(8, "00:00:00:00:00:01 10.0.0.2")).is_empty());
        // Changed content: moved.
        assert_eq!(
            moved_since(&plan, &live_with(7, "00:00:00:00:00:01 10.0.0.9")),
            ["switch port vm1 was modified"]
        );
        // A digest of the older kind (wire JSON, no prefix) cannot be compared: _version is.
        plan.read.rows[0].digest = Some("0123456789abcdef".into());
        assert!(moved_since(&plan, &live_with(7, "00:00:00:00:00:01 10.0.0.2")).is_empty());
        // A plan without digests (made before them) falls back to _version.
        plan.read.rows[0].digest = None;
        assert_eq!(
            moved_since(&plan, &live_with(8, "00:00:00:00:00:01 10.0.0.2")),
            ["switch port vm1 was modified"]
        );
    }
}

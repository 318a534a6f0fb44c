//! Desired vs live → [`Plan`]. Pure and deterministic, and table-agnostic: it compares rows
//! of the row model by natural key and column, and orders creates by the references between
//! rows. The only OVN-specific knowledge it uses is the ownership mark.
//!
//! Ownership rules: topo updates or deletes only rows that carry its stack's mark. A desired
//! row whose key is held by an unowned row is a [`Conflict::Unowned`] (the user must adopt or
//! rename it); a key held by several live rows is a [`Conflict::Duplicate`].

pub mod plan;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};

pub use plan::{Action, Change, ColumnChange, Conflict, Plan, ReadRow, ReadSet};

use crate::live::Live;
use crate::ovsdb::Atom;
use crate::rows::{Cell, Db, Row, RowKey, State, Value, ownership};

/// Options of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Delete owned rows that left the topology.
    pub prune: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { prune: true }
    }
}

/// The stack that owns `row`, from its `external_ids`.
pub fn owner(row: &Row) -> Option<String> {
    let ids = row.get("external_ids")?.as_map()?;
    ids.get(&Value::Atom(Atom::from(ownership::STACK_KEY)))
        .and_then(|v| match v {
            Value::Atom(Atom::String(s)) => Some(s.clone()),
            _ => None,
        })
}

/// Plans the changes that turn `live` into `desired` for `stack`.
pub fn plan(desired: &State, live: &Live, stack: &str, options: Options) -> Plan {
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let mut deletes = Vec::new();
    let mut kept = Vec::new();
    let mut conflicts = Vec::new();
    let mut read = Vec::new();

    for dup in &live.duplicates {
        if desired.get(&dup.db, &dup.table, &dup.key).is_some()
            || live
                .state
                .get(&dup.db, &dup.table, &dup.key)
                .is_some_and(|r| owner(r).as_deref() == Some(stack))
        {
            conflicts.push(Conflict::Duplicate {
                db: dup.db.clone(),
                table: dup.table.clone(),
                key: dup.key.clone(),
                uuids: dup.uuids.clone(),
            });
        }
    }

    for (db, table, key, want) in desired.rows() {
        let Some(have) = live.state.get(db, table, key) else {
            read.push(ReadRow {
                db: db.clone(),
                table: table.to_owned(),
                key: key.clone(),
                uuid: None,
                version: None,
                digest: None,
            });
            creates.push(Change {
                action: Action::Create,
                db: db.clone(),
                table: table.to_owned(),
                key: key.clone(),
                columns: want
                    .columns
                    .iter()
                    .map(|(c, v)| ColumnChange {
                        column: c.clone(),
                        before: None,
                        after: Some(v.clone()),
                    })
                    .collect(),
            });
            continue;
        };
        let live_row = live.row(db, table, key);
        read.push(read_row(db, table, key, live_row));
        let owned_by = owner(have);
        if owned_by.as_deref() != Some(stack) {
            conflicts.push(Conflict::Unowned {
                db: db.clone(),
                table: table.to_owned(),
                key: key.clone(),
                uuid: live_row.map(|r| r.uuid).unwrap_or_default(),
                owner: owned_by,
            });
            continue;
        }
        let columns: Vec<ColumnChange> = want
            .columns
            .iter()
            .filter_map(|(c, after)| {
                let before = have.get(c);
                let after = if c == ownership::COLUMN {
                    keep_foreign_keys(after, before)
                } else {
                    after.clone()
                };
                (before != Some(&after)).then(|| ColumnChange {
                    column: c.clone(),
                    before: before.cloned(),
                    after: Some(after),
                })
            })
            .collect();
        if !columns.is_empty() {
            updates.push(Change {
                action: Action::Update,
                db: db.clone(),
                table: table.to_owned(),
                key: key.clone(),
                columns,
            });
        }
    }

    for (db, table, key, have) in live.state.rows() {
        if owner(have).as_deref() != Some(stack) || desired.get(db, table, key).is_some() {
            continue;
        }
        read.push(read_row(db, table, key, live.row(db, table, key)));
        let change = Change {
            action: Action::Delete,
            db: db.clone(),
            table: table.to_owned(),
            key: key.clone(),
            columns: have
                .columns
                .iter()
                .map(|(c, v)| ColumnChange {
                    column: c.clone(),
                    before: Some(v.clone()),
                    after: None,
                })
                .collect(),
        };
        if options.prune {
            deletes.push(change)
        } else {
            kept.push(change)
        }
    }

    let mut changes = order_creates(creates);
    changes.extend(updates);
    changes.extend(deletes);
    read.sort_by(|a, b| (&a.db, &a.table, &a.key).cmp(&(&b.db, &b.table, &b.key)));
    Plan {
        format_version: plan::FORMAT_VERSION,
        stack: stack.to_owned(),
        changes,
        kept,
        conflicts,
        read: ReadSet { rows: read },
    }
}

/// The `external_ids` topo wants on a row it owns: its own `topo:` keys as the topology says,
/// and every other key as it is live. Other tools (Neutron's `neutron:*`, an operator's
/// notes) keep their keys on rows topo adopted; only topo's own keys are compared and written.
fn keep_foreign_keys(desired: &Cell, live: Option<&Cell>) -> Cell {
    let (Some(want), Some(have)) = (desired.as_map(), live.and_then(|l| l.as_map())) else {
        return desired.clone();
    };
    let mut merged: std::collections::BTreeMap<Value, Value> = have
        .iter()
        .filter(
            |(k, _)| !matches!(k, Value::Atom(Atom::String(s)) if s.starts_with(ownership::PREFIX)),
        )
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    merged.extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
    crate::ovsdb::Datum::Map(merged.into())
}

fn read_row(db: &Db, table: &str, key: &RowKey, live: Option<&crate::live::LiveRow>) -> ReadRow {
    ReadRow {
        db: db.clone(),
        table: table.to_owned(),
        key: key.clone(),
        uuid: live.map(|r| r.uuid),
        version: live.and_then(|r| r.version),
        digest: live.map(crate::live::LiveRow::digest),
    }
}

/// Orders creates so that every row comes after the created rows it references (OVSDB wants a
/// named-uuid inserted before it is used). Ties keep (db, table, key) order; a reference
/// cycle (which OVN's schemas do not have among created rows) falls back to that order.
fn order_creates(creates: Vec<Change>) -> Vec<Change> {
    type Id = (Db, String, RowKey);
    let ids: BTreeSet<Id> = creates
        .iter()
        .map(|c| (c.db.clone(), c.table.clone(), c.key.clone()))
        .collect();
    let mut deps: BTreeMap<Id, BTreeSet<Id>> = BTreeMap::new();
    for c in &creates {
        let id = (c.db.clone(), c.table.clone(), c.key.clone());
        let mut d = BTreeSet::new();
        for col in &c.columns {
            for r in col.after.iter().flat_map(refs) {
                let target = (c.db.clone(), r.0, r.1);
                if target != id && ids.contains(&target) {
                    d.insert(target);
                }
            }
        }
        deps.insert(id, d);
    }
    let mut by_id: BTreeMap<Id, Change> = creates
        .into_iter()
        .map(|c| ((c.db.clone(), c.table.clone(), c.key.clone()), c))
        .collect();
    let mut done: BTreeSet<Id> = BTreeSet::new();
    let mut out = Vec::with_capacity(by_id.len());
    while !by_id.is_empty() {
        let ready: Vec<Id> = by_id
            .keys()
            .filter(|id| {
                deps.get(*id)
                    .is_none_or(|d| d.iter().all(|x| done.contains(x)))
            })
            .cloned()
            .collect();
        let batch = if ready.is_empty() {
            by_id.keys().take(1).cloned().collect()
        } else {
            ready
        };
        for id in batch {
            if let Some(c) = by_id.remove(&id) {
                out.push(c);
            }
            done.insert(id);
        }
    }
    out
}

/// The (table, key) of every reference in a cell.
fn refs(cell: &Cell) -> Vec<(String, RowKey)> {
    let mut out = Vec::new();
    let mut add = |v: &Value| {
        if let Value::Ref(r) = v {
            out.push((r.table.clone(), r.key.clone()));
        }
    };
    match cell {
        crate::ovsdb::Datum::Set(s) => s.iter().for_each(&mut add),
        crate::ovsdb::Datum::Map(m) => m.iter().for_each(|(k, v)| {
            add(k);
            add(v);
        }),
    }
    out
}

#[cfg(test)]
mod tests;

//! Desired vs live → [`Plan`]. Pure and deterministic, and table-agnostic: it compares rows
//! of the row model by natural key and column, and orders creates by the references between
//! rows. The only OVN-specific knowledge it uses is the ownership mark.
//!
//! Ownership rules: topo updates or deletes only rows that carry its stack's mark. A desired
//! row whose key is held by an unowned row is a [`Conflict::Unowned`] (the user must adopt or
//! rename it); a key held by several live rows is a [`Conflict::Duplicate`]. References from
//! owned rows to rows the stack does not own are kept, and rows the changes would delete or
//! detach are named ([`foreign`]).

pub(crate) mod chassis;
pub(crate) mod foreign;
pub(crate) mod gateways;
pub(crate) mod plan;
pub(crate) mod render;
pub(crate) mod vtep;

use std::cmp::Ordering;

pub(crate) use plan::{
    Action, BindingChange, Change, ChassisChange, ColumnChange, Conflict, ForeignKept, Plan,
    ReadRow, ReadSet, Referrer, SettingChange, UncheckedChassis, VtepChange,
};

use crate::ovsdb::{Atom, Datum};
use crate::rows::live::{Live, LiveRow};
use crate::rows::{Cell, Db, Row, RowKey, State, Value, ownership};

/// Options of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// Delete owned rows that left the topology.
    pub prune: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { prune: true }
    }
}

/// The stack that owns `row`, without copying it; `stack_key` is `topo:stack` as a value
/// (made once per plan, not once per row).
fn owner_of<'a>(row: &'a Row, stack_key: &Value) -> Option<&'a str> {
    match row.get(ownership::COLUMN)?.as_map()?.get(stack_key)? {
        Value::Atom(Atom::String(s)) => Some(s),
        _ => None,
    }
}

/// Plans the changes that turn `live` into `desired` for `stack`.
///
/// The chassis section of `desired` is not rows: [`chassis::change_of`] compares it with each
/// chassis's own database.
///
/// Both states (and `live.rows`) are sorted by database, table and key, so they are walked
/// together once, like a merge: no lookups per row, and every list comes out in key order.
pub(crate) fn plan(desired: &State, live: &Live, stack: &str, options: Options) -> Plan {
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let mut deletes = Vec::new();
    let mut kept = Vec::new();
    let mut conflicts = Vec::new();
    let mut foreign_kept = Vec::new();
    let mut read = Vec::new();
    let stack_key = Value::from(ownership::STACK_KEY);
    let owned = |row: &Row| owner_of(row, &stack_key) == Some(stack);

    for dup in &live.duplicates {
        if desired.get(&dup.db, &dup.table, &dup.key).is_some()
            || live
                .state
                .get(&dup.db, &dup.table, &dup.key)
                .is_some_and(owned)
        {
            conflicts.push(Conflict::Duplicate {
                db: dup.db.clone(),
                table: dup.table.clone(),
                key: dup.key.clone(),
                uuids: dup.uuids.clone(),
            });
        }
    }

    for (db, want_tables, have_tables) in
        merge_sorted(desired.tables.iter(), live.state.tables.iter())
    {
        for (table, want_rows, have_rows) in merge_sorted(
            want_tables.into_iter().flatten(),
            have_tables.into_iter().flatten(),
        ) {
            let mut live_rows = LiveRows::new(live, db, table, have_rows.is_some());
            let ref_columns = foreign::ref_columns(live.schema.as_deref(), table);
            let owners = foreign::Owners::new(live, db, stack);
            let refs = Refs {
                columns: &ref_columns,
                owners: &owners,
                table,
            };
            for (key, want, have) in merge_sorted(
                want_rows.into_iter().flatten(),
                have_rows.into_iter().flatten(),
            ) {
                match (want, have) {
                    (Some(want), None) => {
                        read.push(ReadRow {
                            db: db.clone(),
                            table: table.clone(),
                            key: key.clone(),
                            uuid: None,
                            version: None,
                            digest: None,
                        });
                        creates.push(Change {
                            action: Action::Create,
                            db: db.clone(),
                            table: table.clone(),
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
                    }
                    (Some(want), Some(have)) => {
                        let live_row = live_rows.get(key);
                        read.push(read_row(db, table, key, live_row));
                        let owned_by = owner_of(have, &stack_key);
                        if owned_by != Some(stack) {
                            conflicts.push(Conflict::Unowned {
                                db: db.clone(),
                                table: table.clone(),
                                key: key.clone(),
                                uuid: live_row.map(|r| r.uuid).unwrap_or_default(),
                                owner: owned_by.map(str::to_owned),
                            });
                            continue;
                        }
                        let columns = changed_columns(want, have, &refs, key, &mut foreign_kept);
                        if !columns.is_empty() {
                            updates.push(Change {
                                action: Action::Update,
                                db: db.clone(),
                                table: table.clone(),
                                key: key.clone(),
                                columns,
                            });
                        }
                    }
                    (None, Some(have)) => {
                        if !owned(have) {
                            continue;
                        }
                        read.push(read_row(db, table, key, live_rows.get(key)));
                        let change = Change {
                            action: Action::Delete,
                            db: db.clone(),
                            table: table.clone(),
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
                    (None, None) => {}
                }
            }
        }
    }

    let mut changes = order_creates(creates);
    changes.extend(updates);
    changes.extend(deletes);
    let foreign_at_risk = foreign::at_risk(&changes, live, stack);
    foreign_kept.sort();
    // The walk visits rows in (db, table, key) order, so the read set is already sorted.
    debug_assert!(read.is_sorted_by(|a, b| (&a.db, &a.table, &a.key) <= (&b.db, &b.table, &b.key)));
    Plan {
        format_version: plan::FORMAT_VERSION,
        stack: stack.to_owned(),
        changes,
        kept,
        conflicts,
        foreign_kept,
        foreign_at_risk,
        chassis: Vec::new(),
        chassis_unchecked: Vec::new(),
        vteps: Vec::new(),
        gateways: Vec::new(),
        read: ReadSet { rows: read },
    }
}

/// What the plan's stack's Northbound rows of `live` become once `plan` is applied: its rows
/// as read, with the plan's creates, updates and deletes carried out (other stacks' and
/// other tools' rows left out). For a saved plan, which has no topology, this is what the
/// re-plan after its commit compares the database with: planning from it against the
/// database as read after the commit is empty exactly when every change holds and nothing
/// else of the stack's moved.
pub(crate) fn expected_after(plan: &Plan, live: &Live) -> State {
    let stack_key = Value::from(ownership::STACK_KEY);
    let mut state = State::new();
    let nb = Db::Northbound;
    for (table, rows) in live.state.tables.get(&nb).into_iter().flatten() {
        for (key, row) in rows {
            if owner_of(row, &stack_key) == Some(plan.stack.as_str()) {
                state.insert(nb.clone(), table, key.clone(), row.clone());
            }
        }
    }
    for change in plan.changes.iter().filter(|c| c.db == nb) {
        let after = change
            .columns
            .iter()
            .filter_map(|c| Some((c.column.clone(), c.after.clone()?)));
        match change.action {
            Action::Create => {
                let mut row = Row::new();
                row.columns.extend(after);
                state.insert(change.db.clone(), &change.table, change.key.clone(), row);
            }
            Action::Update => {
                if let Some(row) = state.get_mut(&change.db, &change.table, &change.key) {
                    for (column, cell) in after {
                        row.columns.insert(column, cell);
                    }
                }
            }
            Action::Delete => {
                if let Some(rows) = state
                    .tables
                    .get_mut(&change.db)
                    .and_then(|t| t.get_mut(&change.table))
                {
                    rows.remove(&change.key);
                }
            }
        }
    }
    state
}

/// What [`changed_columns`] needs to keep references to rows the stack does not own: the
/// table's reference columns and who owns what.
struct Refs<'a> {
    columns: &'a std::collections::BTreeMap<&'a str, foreign::RefColumn<'a>>,
    owners: &'a foreign::Owners<'a>,
    table: &'a str,
}

/// The columns of an owned row that differ from what the topology wants. Cells are compared
/// in place and copied only when they differ. In reference columns, live references to rows
/// the stack does not own stay in the value (recorded in `kept`).
fn changed_columns(
    want: &Row,
    have: &Row,
    refs: &Refs<'_>,
    key: &RowKey,
    kept: &mut Vec<ForeignKept>,
) -> Vec<ColumnChange> {
    let mut columns = Vec::new();
    // Both rows' columns are sorted by name: walked together, not looked up one by one.
    let mut live = have.columns.iter().peekable();
    for (c, after) in &want.columns {
        while live.next_if(|(h, _)| *h < c).is_some() {}
        let before = live.next_if(|(h, _)| *h == c).map(|(_, v)| v);
        if c == ownership::COLUMN {
            if foreign_keys_kept_equal(after, before) {
                continue;
            }
            let after = keep_foreign_keys(after, before);
            if before != Some(&after) {
                columns.push(ColumnChange {
                    column: c.clone(),
                    before: before.cloned(),
                    after: Some(after),
                });
            }
        } else if before != Some(after) {
            let merged = match (refs.columns.get(c.as_str()), before) {
                (Some(rc), Some(before)) => foreign::keep_foreign(
                    refs.owners,
                    *rc,
                    before,
                    after,
                    || Referrer {
                        table: refs.table.to_owned(),
                        key: key.clone(),
                        column: c.clone(),
                    },
                    kept,
                ),
                _ => None,
            };
            let after = merged.as_ref().unwrap_or(after);
            if before != Some(after) {
                columns.push(ColumnChange {
                    column: c.clone(),
                    before: before.cloned(),
                    after: Some(after.clone()),
                });
            }
        }
    }
    // Reference columns the topology does not set (an ACL list the language has no words
    // for yet): never written, but the rows they name that the stack does not own are
    // reported as kept all the same.
    for (column, rc) in refs.columns {
        if want.columns.contains_key(*column) {
            continue;
        }
        if let Some(Datum::Set(values)) = have.get(column) {
            for v in values.iter().filter(|v| refs.owners.is_foreign(v)) {
                kept.push(ForeignKept {
                    row: refs.owners.row_of(v, rc.target),
                    by: Referrer {
                        table: refs.table.to_owned(),
                        key: key.clone(),
                        column: (*column).to_owned(),
                    },
                });
            }
        }
    }
    columns
}

/// Walks two maps sorted by the same key together, like a merge: each key once, with what
/// each side holds for it.
fn merge_sorted<'a, K: Ord + 'a, A: 'a, B: 'a>(
    a: impl IntoIterator<Item = (&'a K, &'a A)>,
    b: impl IntoIterator<Item = (&'a K, &'a B)>,
) -> impl Iterator<Item = (&'a K, Option<&'a A>, Option<&'a B>)> {
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    std::iter::from_fn(move || {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
        };
        Some(match order {
            Ordering::Less => {
                let (k, v) = a.next()?;
                (k, Some(v), None)
            }
            Ordering::Greater => {
                let (k, w) = b.next()?;
                (k, None, Some(w))
            }
            Ordering::Equal => {
                let (k, v) = a.next()?;
                let (_, w) = b.next()?;
                (k, Some(v), Some(w))
            }
        })
    })
}

type LiveRange<'a> = std::collections::btree_map::Range<'a, (Db, String, RowKey), LiveRow>;

/// The [`LiveRow`]s of one table, looked up in ascending key order: a cursor over
/// `live.rows` instead of a lookup (and a copy of the key) per row.
struct LiveRows<'a> {
    /// `None` when the table has no live rows (nothing will be looked up).
    rows: Option<std::iter::Peekable<LiveRange<'a>>>,
    db: &'a Db,
    table: &'a str,
}

impl<'a> LiveRows<'a> {
    fn new(live: &'a Live, db: &'a Db, table: &'a str, any: bool) -> LiveRows<'a> {
        let rows = any.then(|| {
            live.rows
                .range((db.clone(), table.to_owned(), RowKey(Vec::new()))..)
                .peekable()
        });
        LiveRows { rows, db, table }
    }

    /// The row of `key`; keys must be asked in ascending order.
    fn get(&mut self, key: &RowKey) -> Option<&'a LiveRow> {
        let rows = self.rows.as_mut()?;
        while let Some(((db, table, k), row)) = rows.peek() {
            if db != self.db || table != self.table {
                return None;
            }
            match k.cmp(key) {
                Ordering::Less => {
                    rows.next();
                }
                Ordering::Equal => return Some(row),
                Ordering::Greater => return None,
            }
        }
        None
    }
}

/// Whether [`keep_foreign_keys`] would give back `live` unchanged, worked out without
/// building the merged map: every wanted entry is live as wanted, and every live `topo:` key
/// is wanted.
fn foreign_keys_kept_equal(desired: &Cell, live: Option<&Cell>) -> bool {
    let Some(live) = live else {
        return false;
    };
    let (Some(want), Some(have)) = (desired.as_map(), live.as_map()) else {
        return desired == live;
    };
    want.iter().all(|(k, v)| have.get(k) == Some(v))
        && have.keys().all(|k| !is_topo_key(k) || want.contains_key(k))
}

fn is_topo_key(k: &Value) -> bool {
    matches!(k, Value::Atom(Atom::String(s)) if s.starts_with(ownership::PREFIX))
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
        .filter(|(k, _)| !is_topo_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    merged.extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
    crate::ovsdb::Datum::Map(merged.into())
}

fn read_row(db: &Db, table: &str, key: &RowKey, live: Option<&LiveRow>) -> ReadRow {
    ReadRow {
        db: db.clone(),
        table: table.to_owned(),
        key: key.clone(),
        uuid: live.map(|r| r.uuid),
        version: live.and_then(|r| r.version),
        digest: live.map(crate::rows::live::LiveRow::digest),
    }
}

/// Orders creates so that every row comes after the created rows it references (OVSDB wants a
/// named-uuid inserted before it is used). Ties keep (db, table, key) order; a reference
/// cycle (which OVN's schemas do not have among created rows) falls back to that order.
///
/// Rows are layered: each round takes, in (db, table, key) order, every row whose referenced
/// creates were taken in earlier rounds (or, when none is ready, the first row left).
fn order_creates(creates: Vec<Change>) -> Vec<Change> {
    fn id(c: &Change) -> (&Db, &str, &RowKey) {
        (&c.db, c.table.as_str(), &c.key)
    }
    // Positions in (db, table, key) order; found again by binary search, never copied.
    let mut sorted: Vec<usize> = (0..creates.len()).collect();
    sorted.sort_by(|&a, &b| id(&creates[a]).cmp(&id(&creates[b])));
    let find = |target: (&Db, &str, &RowKey)| {
        sorted
            .binary_search_by(|&i| id(&creates[i]).cmp(&target))
            .ok()
            .map(|p| sorted[p])
    };
    let deps: Vec<Vec<usize>> = creates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut d = Vec::new();
            for cell in c.columns.iter().filter_map(|col| col.after.as_ref()) {
                for_each_value(cell, |v| {
                    if let Value::Ref(r) = v
                        && let Some(j) = find((&c.db, r.table.as_str(), &r.key))
                        && j != i
                    {
                        d.push(j);
                    }
                });
            }
            d
        })
        .collect();
    let mut done = vec![false; creates.len()];
    let mut left = sorted.clone();
    let mut order = Vec::with_capacity(creates.len());
    while let Some(&first) = left.first() {
        let ready: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| deps[i].iter().all(|&d| done[d]))
            .collect();
        let batch = if ready.is_empty() { vec![first] } else { ready };
        for i in batch {
            done[i] = true;
            order.push(i);
        }
        left.retain(|&i| !done[i]);
    }
    let mut slots: Vec<Option<Change>> = creates.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Calls `f` on every value of a cell (map keys and values alike).
fn for_each_value(cell: &Cell, mut f: impl FnMut(&Value)) {
    match cell {
        crate::ovsdb::Datum::Set(s) => s.iter().for_each(f),
        crate::ovsdb::Datum::Map(m) => m.iter().for_each(|(k, v)| {
            f(k);
            f(v);
        }),
    }
}

#[cfg(test)]
mod tests;

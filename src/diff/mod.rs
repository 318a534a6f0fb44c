//! Desired vs live → [`Plan`]. Pure and deterministic, and table-agnostic: it compares rows
//! of the row model by natural key and column, and orders creates by the references between
//! rows. The only OVN-specific knowledge it uses is the ownership mark.
//!
//! Ownership rules: topo updates or deletes only rows that carry its stack's mark. A desired
//! row whose key is held by an unowned row is a [`Conflict::Unowned`] (the user must adopt or
//! rename it); a key held by several live rows is a [`Conflict::Duplicate`]. References from
//! owned rows to rows the stack does not own are kept, and rows the changes would delete or
//! detach are named ([`foreign`]).
//!
//! A large plan (thousands of rows) is made on two threads, in pieces of the key order whose
//! lists are joined in that order, so it is the plan one thread makes; std's scoped threads,
//! no pool: [`plan`] runs twice per apply.

pub(crate) mod chassis;
pub(crate) mod foreign;
pub(crate) mod gateways;
pub(crate) mod plan;
pub(crate) mod render;
pub(crate) mod vtep;

use std::cmp::Ordering;
use std::ops::Bound;

use crate::parallel::{on_threads, ranges_on_threads};

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
/// A row's plan depends on that row alone, so a large walk is cut at keys into pieces walked
/// on two threads, their lists joined in order: the plan is the same either way.
pub(crate) fn plan(desired: &State, live: &Live, stack: &str, options: Options) -> Plan {
    plan_split(desired, live, stack, options, PARALLEL_MIN_ROWS)
}

/// The rows (desired and live together) from which [`plan`] walks on two threads: below it a
/// thread costs more than it saves (a row takes a few microseconds).
const PARALLEL_MIN_ROWS: usize = 2_000;

/// [`plan`], on two threads when desired and live hold `parallel_min` rows or more.
fn plan_split(
    desired: &State,
    live: &Live,
    stack: &str,
    options: Options,
    parallel_min: usize,
) -> Plan {
    let stack_key = Value::from(ownership::STACK_KEY);
    let owned = |row: &Row| owner_of(row, &stack_key) == Some(stack);

    let mut conflicts = Vec::new();
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

    let tables = spans(desired, live);
    let walk = Walk {
        live,
        stack,
        options,
        stack_key: &stack_key,
    };
    let walked = if rows(&tables) < parallel_min.max(1) {
        walk.spans(&tables)
    } else {
        let pieces = cut(&tables, PIECES);
        Walked::join(on_threads(2, pieces.len(), |i| walk.spans(&pieces[i])))
    };
    let Walked {
        creates,
        updates,
        deletes,
        kept,
        conflicts: unowned,
        mut foreign_kept,
        read,
    } = walked;
    conflicts.extend(unowned);

    let mut changes = order_creates(creates, parallel_min);
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

type Rows = std::collections::BTreeMap<RowKey, Row>;

/// Every table of `desired` or `live`, whole, in (db, table) order.
fn spans<'a>(desired: &'a State, live: &'a Live) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    for (db, want_tables, have_tables) in
        merge_sorted(desired.tables.iter(), live.state.tables.iter())
    {
        for (table, want, have) in merge_sorted(
            want_tables.into_iter().flatten(),
            have_tables.into_iter().flatten(),
        ) {
            spans.push(Span {
                db,
                table,
                want,
                have,
                from: None,
                to: None,
            });
        }
    }
    spans
}

/// One table's rows, desired and live, from key `from` (included) to `to` (excluded); `None`:
/// from the first, to the last.
#[derive(Clone, Copy)]
struct Span<'a> {
    db: &'a Db,
    table: &'a String,
    want: Option<&'a Rows>,
    have: Option<&'a Rows>,
    from: Option<&'a RowKey>,
    to: Option<&'a RowKey>,
}

impl Span<'_> {
    /// The rows of the whole table (spans are cut only after they are counted).
    fn len(&self) -> usize {
        self.want.map_or(0, Rows::len) + self.have.map_or(0, Rows::len)
    }
}

/// How many rows `tables` hold, desired and live together.
fn rows(tables: &[Span<'_>]) -> usize {
    tables.iter().map(Span::len).sum()
}

/// Into how many pieces a walk on two threads is cut: rows cost more in some tables than in
/// others (a switch's port list against a port), so two halves by count would not take as
/// long; each thread takes the next piece left.
const PIECES: usize = 8;

/// `tables` cut into `pieces` runs of about as many rows, in order; a cut inside a table is at
/// a key.
fn cut<'a>(tables: &[Span<'a>], pieces: usize) -> Vec<Vec<Span<'a>>> {
    let total = rows(tables);
    let mut out = Vec::with_capacity(pieces);
    let mut piece = Vec::new();
    let mut before = 0;
    for t in tables {
        let len = t.len();
        // The key that far into the larger side: desired and live share most keys, or one
        // side is (nearly) empty.
        let larger = match (t.want, t.have) {
            (Some(w), Some(h)) if h.len() > w.len() => Some(h),
            (Some(w), _) => Some(w),
            (None, h) => h,
        };
        let mut from = t.from;
        for n in 1..pieces {
            let at = total * n / pieces;
            if at < before || at >= before + len {
                continue;
            }
            let Some(key) = larger.and_then(|l| l.keys().nth((at - before) * l.len() / len)) else {
                continue;
            };
            piece.push(Span {
                from,
                to: Some(key),
                ..*t
            });
            out.push(std::mem::take(&mut piece));
            from = Some(key);
        }
        piece.push(Span { from, ..*t });
        before += len;
    }
    out.push(piece);
    out
}

/// What [`plan`] needs for each row.
struct Walk<'a> {
    live: &'a Live,
    stack: &'a str,
    options: Options,
    /// `topo:stack` as a value (made once per plan, not once per row).
    stack_key: &'a Value,
}

/// What the walk over some rows found, in the order it visited them.
#[derive(Default)]
struct Walked {
    creates: Vec<Change>,
    updates: Vec<Change>,
    deletes: Vec<Change>,
    kept: Vec<Change>,
    conflicts: Vec<Conflict>,
    foreign_kept: Vec<ForeignKept>,
    read: Vec<ReadRow>,
}

impl Walked {
    /// The pieces' lists joined in order, each allocated once (growing them piece by piece
    /// cost more than walking a piece).
    fn join(mut pieces: Vec<Walked>) -> Walked {
        fn join<T>(pieces: &mut [Walked], list: fn(&mut Walked) -> &mut Vec<T>) -> Vec<T> {
            let mut out = Vec::with_capacity(pieces.iter_mut().map(|p| list(p).len()).sum());
            for piece in pieces {
                out.append(list(piece));
            }
            out
        }
        Walked {
            creates: join(&mut pieces, |w| &mut w.creates),
            updates: join(&mut pieces, |w| &mut w.updates),
            deletes: join(&mut pieces, |w| &mut w.deletes),
            kept: join(&mut pieces, |w| &mut w.kept),
            conflicts: join(&mut pieces, |w| &mut w.conflicts),
            foreign_kept: join(&mut pieces, |w| &mut w.foreign_kept),
            read: join(&mut pieces, |w| &mut w.read),
        }
    }
}

impl Walk<'_> {
    fn spans(&self, spans: &[Span<'_>]) -> Walked {
        let mut out = Walked::default();
        for span in spans {
            self.span(span, &mut out);
        }
        out
    }

    fn span(&self, span: &Span<'_>, out: &mut Walked) {
        let Walk {
            live,
            stack,
            options,
            stack_key,
        } = *self;
        let &Span {
            db,
            table,
            want,
            have,
            from,
            to,
        } = span;
        let range = (
            from.map_or(Bound::Unbounded, Bound::Included),
            to.map_or(Bound::Unbounded, Bound::Excluded),
        );
        let mut live_rows = LiveRows::new(live, db, table, have.is_some(), from);
        let ref_columns = foreign::ref_columns(live.schema.as_deref(), table);
        let owners = foreign::Owners::new(live, db, stack);
        let refs = Refs {
            columns: &ref_columns,
            owners: &owners,
            table,
        };
        for (key, want, have) in merge_sorted(
            want.into_iter()
                .flat_map(|rows| rows.range::<RowKey, _>(range)),
            have.into_iter()
                .flat_map(|rows| rows.range::<RowKey, _>(range)),
        ) {
            match (want, have) {
                (Some(want), None) => {
                    out.read.push(ReadRow {
                        db: db.clone(),
                        table: table.clone(),
                        key: key.clone(),
                        uuid: None,
                        version: None,
                        digest: None,
                    });
                    out.creates.push(Change {
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
                    out.read.push(read_row(db, table, key, live_row));
                    let owned_by = owner_of(have, stack_key);
                    if owned_by != Some(stack) {
                        out.conflicts.push(Conflict::Unowned {
                            db: db.clone(),
                            table: table.clone(),
                            key: key.clone(),
                            uuid: live_row.map(|r| r.uuid).unwrap_or_default(),
                            owner: owned_by.map(str::to_owned),
                        });
                        continue;
                    }
                    let columns = changed_columns(want, have, &refs, key, &mut out.foreign_kept);
                    if !columns.is_empty() {
                        out.updates.push(Change {
                            action: Action::Update,
                            db: db.clone(),
                            table: table.clone(),
                            key: key.clone(),
                            columns,
                        });
                    }
                }
                (None, Some(have)) => {
                    if owner_of(have, stack_key) != Some(stack) {
                        continue;
                    }
                    out.read.push(read_row(db, table, key, live_rows.get(key)));
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
                        out.deletes.push(change)
                    } else {
                        out.kept.push(change)
                    }
                }
                (None, None) => {}
            }
        }
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
    /// From key `from` on (the first when `None`).
    fn new(
        live: &'a Live,
        db: &'a Db,
        table: &'a str,
        any: bool,
        from: Option<&RowKey>,
    ) -> LiveRows<'a> {
        let rows = any.then(|| {
            let from = from.cloned().unwrap_or(RowKey(Vec::new()));
            live.rows
                .range((db.clone(), table.to_owned(), from)..)
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
/// From `parallel_min` creates on, on two threads (the order is the same).
fn order_creates(creates: Vec<Change>, parallel_min: usize) -> Vec<Change> {
    fn id(c: &Change) -> (&Db, &str, &RowKey) {
        (&c.db, c.table.as_str(), &c.key)
    }
    // Positions in (db, table, key) order; found again by binary search, never copied: first
    // the table's run (a few dozen), then the key within it.
    let mut sorted: Vec<usize> = (0..creates.len()).collect();
    sorted.sort_by(|&a, &b| id(&creates[a]).cmp(&id(&creates[b])));
    let mut tables: Vec<(&Db, &str, std::ops::Range<usize>)> = Vec::new();
    for (p, &i) in sorted.iter().enumerate() {
        let c = &creates[i];
        match tables.last_mut() {
            Some((db, table, run)) if *db == &c.db && *table == c.table => run.end = p + 1,
            _ => tables.push((&c.db, c.table.as_str(), p..p + 1)),
        }
    }
    let find = |db: &Db, table: &str, key: &RowKey| {
        let t = tables
            .binary_search_by(|(d, t, _)| (*d, *t).cmp(&(db, table)))
            .ok()?;
        let run = &sorted[tables[t].2.clone()];
        run.binary_search_by(|&i| creates[i].key.cmp(key))
            .ok()
            .map(|p| run[p])
    };
    let deps_of = |from: usize, to: usize| -> Vec<Vec<usize>> {
        (from..to)
            .map(|i| {
                let c = &creates[i];
                let mut d = Vec::new();
                for cell in c.columns.iter().filter_map(|col| col.after.as_ref()) {
                    for_each_value(cell, |v| {
                        if let Value::Ref(r) = v
                            && let Some(j) = find(&c.db, r.table.as_str(), &r.key)
                            && j != i
                        {
                            d.push(j);
                        }
                    });
                }
                d
            })
            .collect()
    };
    // Finding the references is most of the work.
    let n = creates.len();
    let deps: Vec<Vec<usize>> = if n >= parallel_min.max(2) {
        ranges_on_threads(2, n, PIECES, |r| deps_of(r.start, r.end))
            .into_iter()
            .flatten()
            .collect()
    } else {
        deps_of(0, n)
    };
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

//! Rows the stack does not own, seen from the rows it does: references to them are kept, and
//! changes that would delete or detach them are named.
//!
//! Schema-driven, like the rest of diff: which columns hold references, to which table,
//! strong or weak, and whether that table is a root all come from the live read's schema
//! ([`Live::schema`]); no table is named here.
//!
//! - **Kept.** In a reference column of an owned row, a live reference to a row the stack does
//!   not own (an unowned or another stack's keyed row, or a UUID the live reader could not
//!   key) stays in the value apply writes, though the topology does not list it: no `mutate
//!   delete` is planned for it. A single-valued column (max 1) keeps it only when the topology
//!   wants it empty; replacing it is a change, and the row is then at risk.
//! - **At risk.** A reference to a foreign row that a change removes (an owned row deleted,
//!   or a column's value replaced) [`Fate::Deleted`]s the row when its table is not a root and
//!   no strong reference to it is left among all the rows read (OVSDB garbage-collects it),
//!   else [`Fate::Detached`]s it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use super::plan::{Action, Change, Fate, ForeignAtRisk, ForeignKept, ForeignRow, Referrer};
use crate::ovsdb::schema::RefType;
use crate::ovsdb::{Atom, DatabaseSchema, Datum};
use crate::rows::live::Live;
use crate::rows::{Cell, Db, RowKey, Value, ownership};

/// A reference column of a table: the table it refers to, strong or not, single-valued.
#[derive(Debug, Clone, Copy)]
pub(super) struct RefColumn<'s> {
    pub target: &'s str,
    pub strong: bool,
    pub single: bool,
}

/// The set-of-references columns of `table` (maps are left out: OVN's reference maps hold
/// no children), by name.
pub(super) fn ref_columns<'s>(
    schema: Option<&'s DatabaseSchema>,
    table: &str,
) -> BTreeMap<&'s str, RefColumn<'s>> {
    let Some(ts) = schema.and_then(|s| s.tables.get(table)) else {
        return BTreeMap::new();
    };
    ts.columns
        .iter()
        .filter(|(_, c)| c.ty.value.is_none())
        .filter_map(|(name, c)| {
            let target = c.ty.key.ref_table.as_deref()?;
            Some((
                name.as_str(),
                RefColumn {
                    target,
                    strong: c.ty.key.ref_type == RefType::Strong,
                    single: c.ty.max == Some(1),
                },
            ))
        })
        .collect()
}

/// What decides whether a referenced row is the stack's.
pub(super) struct Owners<'a> {
    pub live: &'a Live,
    pub db: &'a Db,
    pub stack: &'a str,
    pub stack_key: Value,
}

impl<'a> Owners<'a> {
    pub(super) fn new(live: &'a Live, db: &'a Db, stack: &'a str) -> Owners<'a> {
        Owners {
            live,
            db,
            stack,
            stack_key: Value::from(ownership::STACK_KEY),
        }
    }

    /// The stack owning the keyed row `table key`, `None` when none does (or it was not read).
    fn owner_of_key(&self, table: &str, key: &RowKey) -> Option<&'a str> {
        let row = self.live.state.get(self.db, table, key)?;
        super::owner_of(row, &self.stack_key)
    }

    /// Whether `v`, a value of a reference column, names a row this stack does not own: a
    /// keyed row without the stack's mark, or a UUID the live reader could not key.
    pub(super) fn is_foreign(&self, v: &Value) -> bool {
        match v {
            Value::Ref(r) => self.owner_of_key(&r.table, &r.key) != Some(self.stack),
            Value::Atom(Atom::Uuid(_)) => true,
            Value::Atom(_) => false,
        }
    }

    /// `v` (a foreign reference of a column referring to `target`) as the plan names it.
    pub(super) fn row_of(&self, v: &Value, target: &str) -> ForeignRow {
        match v {
            Value::Ref(r) => ForeignRow {
                db: self.db.clone(),
                table: r.table.clone(),
                key: Some(r.key.clone()),
                uuid: self.live.row(self.db, &r.table, &r.key).map(|l| l.uuid),
                owner: self.owner_of_key(&r.table, &r.key).map(str::to_owned),
            },
            Value::Atom(a) => {
                let uuid = a.as_uuid();
                let owner = uuid.and_then(|u| {
                    let (_, _, columns) = self.live.others.iter().find(|(_, o, _)| *o == u)?;
                    match columns
                        .get(ownership::COLUMN)?
                        .as_map()?
                        .get(&Atom::from(ownership::STACK_KEY))?
                    {
                        Atom::String(s) => Some(s.clone()),
                        _ => None,
                    }
                });
                ForeignRow {
                    db: self.db.clone(),
                    table: target.to_owned(),
                    key: None,
                    uuid,
                    owner,
                }
            }
        }
    }
}

/// `after` (what the topology wants in a reference column of an owned row) with every foreign
/// reference of `before` (the live value) it lacks; each one kept is recorded in `kept`.
/// `None` when nothing is kept (then `after` stands).
pub(super) fn keep_foreign(
    owners: &Owners<'_>,
    column: RefColumn<'_>,
    before: &Cell,
    after: &Cell,
    by: impl Fn() -> Referrer,
    kept: &mut Vec<ForeignKept>,
) -> Option<Cell> {
    let (Datum::Set(b), Datum::Set(a)) = (before, after) else {
        return None;
    };
    // A single-valued column can hold only one: the topology's value replaces a foreign one.
    if column.single && !a.is_empty() {
        return None;
    }
    let foreign: Vec<&Value> = b.difference(a).filter(|v| owners.is_foreign(v)).collect();
    if foreign.is_empty() {
        return None;
    }
    let mut merged = a.clone();
    for v in foreign {
        kept.push(ForeignKept {
            row: owners.row_of(v, column.target),
            by: by(),
        });
        merged.insert(v.clone());
    }
    Some(Datum::Set(merged))
}

/// The rows the stack does not own that `changes` would delete or detach, read against
/// `live` (see the module's comment). A saved plan's changes are checked again against the
/// read apply makes, so what apply refuses is what the database holds now.
///
/// A foreign row the database deletes takes its own references with it: the rows only it
/// held are deleted (or detached) too, and named, until nothing more goes.
pub(crate) fn at_risk(changes: &[Change], live: &Live, stack: &str) -> Vec<ForeignAtRisk> {
    let schema = live.schema.as_deref();
    let db = Db::Northbound;
    let owners = Owners::new(live, &db, stack);
    let mut risk = Risk {
        owners: &owners,
        schema,
        targets: BTreeMap::new(),
        removed: BTreeSet::new(),
        gone_keys: BTreeSet::new(),
        gone_uuids: BTreeSet::new(),
    };
    // 1. The references to foreign rows the changes remove.
    for c in changes.iter().filter(|c| c.db == db) {
        if c.action == Action::Create {
            continue;
        }
        if c.action == Action::Delete {
            risk.gone_keys.insert((c.table.clone(), c.key.clone()));
        }
        let columns = ref_columns(schema, &c.table);
        for col in &c.columns {
            let (Some(rc), Some(Datum::Set(before))) =
                (columns.get(col.column.as_str()), col.before.as_ref())
            else {
                continue;
            };
            let after = col.after.as_ref().and_then(Datum::as_set);
            for v in before.iter() {
                if after.is_some_and(|a| a.contains(v)) {
                    continue;
                }
                risk.remove(v, *rc, &c.table, &c.key, &col.column);
            }
        }
    }
    // 2. Which of them keep a strong reference; those that do not and are not roots are
    // deleted, and take their own references with them.
    let mut left = HashMap::new();
    while !risk.targets.is_empty() {
        left = risk.strong_left(live);
        let newly: Vec<Uuid> = risk
            .targets
            .iter()
            .filter(|(u, t)| !t.root && !left.contains_key(*u) && !risk.gone_uuids.contains(*u))
            .map(|(u, _)| *u)
            .collect();
        if newly.is_empty() {
            break;
        }
        for u in newly {
            risk.delete(live, u);
        }
    }
    let mut out: Vec<ForeignAtRisk> = risk
        .targets
        .into_iter()
        .map(|(uuid, mut t)| {
            let fate = if !t.root && !left.contains_key(&uuid) {
                Fate::Deleted
            } else {
                Fate::Detached
            };
            t.by.sort();
            t.by.dedup();
            ForeignAtRisk {
                row: t.row,
                fate,
                by: t.by,
            }
        })
        .collect();
    out.sort_by(|a, b| a.row.cmp(&b.row));
    out
}

/// A foreign row losing references.
struct Target {
    row: ForeignRow,
    by: Vec<Referrer>,
    root: bool,
}

/// The work of [`at_risk`]: the foreign rows losing references, the references removed, and
/// the rows going (owned rows the plan deletes, foreign rows the database will).
struct Risk<'a> {
    owners: &'a Owners<'a>,
    schema: Option<&'a DatabaseSchema>,
    targets: BTreeMap<Uuid, Target>,
    /// (target, referrer table, referrer key, column).
    removed: BTreeSet<(Uuid, String, RowKey, String)>,
    gone_keys: BTreeSet<(String, RowKey)>,
    gone_uuids: BTreeSet<Uuid>,
}

impl Risk<'_> {
    /// `v`, in `column` of the row `table key`, goes: recorded when it names a foreign row.
    fn remove(&mut self, v: &Value, rc: RefColumn<'_>, table: &str, key: &RowKey, column: &str) {
        if !self.owners.is_foreign(v) {
            return;
        }
        let row = self.owners.row_of(v, rc.target);
        let Some(uuid) = row.uuid else {
            return;
        };
        self.removed
            .insert((uuid, table.to_owned(), key.clone(), column.to_owned()));
        let root = self
            .schema
            .and_then(|s| s.tables.get(&row.table))
            .is_some_and(|t| t.is_root);
        self.targets
            .entry(uuid)
            .or_insert(Target {
                row,
                by: Vec::new(),
                root,
            })
            .by
            .push(Referrer {
                table: table.to_owned(),
                key: key.clone(),
                column: column.to_owned(),
            });
    }

    /// The foreign row `uuid` is deleted by the database: every reference it holds goes.
    fn delete(&mut self, live: &Live, uuid: Uuid) {
        self.gone_uuids.insert(uuid);
        let Some(t) = self.targets.get(&uuid) else {
            return;
        };
        let table = t.row.table.clone();
        // A row without a key is named by its UUID where a referrer's key would be.
        let key = t
            .row
            .key
            .clone()
            .unwrap_or_else(|| RowKey::name(uuid.to_string()));
        let cells: Vec<(String, Cell)> = match &t.row.key {
            Some(k) => {
                self.gone_keys.insert((table.clone(), k.clone()));
                live.state
                    .get(self.owners.db, &table, k)
                    .map(|row| {
                        row.columns
                            .iter()
                            .map(|(c, v)| (c.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            None => live
                .others
                .iter()
                .find(|(_, u, _)| *u == uuid)
                .map(|(_, _, columns)| {
                    columns
                        .iter()
                        .map(|(c, d)| (c.clone(), as_cell(d.clone())))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let columns = ref_columns(self.schema, &table);
        for (column, cell) in cells {
            let (Some(rc), Datum::Set(values)) = (columns.get(column.as_str()), &cell) else {
                continue;
            };
            for v in values.iter() {
                self.remove(v, *rc, &table, &key, &column);
            }
        }
    }

    /// How many strong references each target keeps: from every row read, keyed or not,
    /// except the rows going and the references removed. Targets without any are left out.
    fn strong_left(&self, live: &Live) -> HashMap<Uuid, usize> {
        let by_key: HashMap<(&str, &RowKey), Uuid> = self
            .targets
            .iter()
            .filter_map(|(u, t)| Some(((t.row.table.as_str(), t.row.key.as_ref()?), *u)))
            .collect();
        let mut left: HashMap<Uuid, usize> = HashMap::new();
        let mut tables: HashMap<&str, BTreeMap<&str, RefColumn<'_>>> = HashMap::new();
        for (row_db, table, key, row) in live.state.rows() {
            if row_db != self.owners.db {
                continue;
            }
            let columns = tables
                .entry(table)
                .or_insert_with(|| ref_columns(self.schema, table));
            if columns.is_empty() || self.gone_keys.contains(&(table.to_owned(), key.clone())) {
                continue;
            }
            for (column, _) in columns.iter().filter(|(_, rc)| rc.strong) {
                let Some(Datum::Set(values)) = row.get(column) else {
                    continue;
                };
                for v in values.iter() {
                    let uuid = match v {
                        Value::Ref(r) => by_key.get(&(r.table.as_str(), &r.key)).copied(),
                        Value::Atom(Atom::Uuid(u)) if self.targets.contains_key(u) => Some(*u),
                        Value::Atom(_) => None,
                    };
                    if let Some(u) = uuid
                        && !self.removed.contains(&(
                            u,
                            table.to_owned(),
                            key.clone(),
                            (*column).to_owned(),
                        ))
                    {
                        *left.entry(u).or_default() += 1;
                    }
                }
            }
        }
        for (table, uuid, columns) in &live.others {
            if self.gone_uuids.contains(uuid) {
                continue;
            }
            let refs = tables
                .entry(table.as_str())
                .or_insert_with(|| ref_columns(self.schema, table));
            for (column, _) in refs.iter().filter(|(_, rc)| rc.strong) {
                let Some(Datum::Set(values)) = columns.get(*column) else {
                    continue;
                };
                for u in values.iter().filter_map(Atom::as_uuid) {
                    if self.targets.contains_key(&u) {
                        *left.entry(u).or_default() += 1;
                    }
                }
            }
        }
        left
    }
}

/// A wire datum as a cell (atoms as they are; UUIDs stay UUIDs).
fn as_cell(d: Datum) -> Cell {
    match d {
        Datum::Set(s) => Datum::Set(s.map_ordered(Value::Atom)),
        Datum::Map(m) => Datum::Map(m.map_ordered(Value::Atom)),
    }
}

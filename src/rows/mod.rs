//! The one row model for desired and live state.
//!
//! The compiler emits a [`State`] of the rows a topology needs; the live reader reads the
//! databases into the same type; diff compares two of them knowing nothing of OVN. A row is
//! identified by its database, table and natural key ([`RowKey`]), never by UUID: references
//! between rows are [`Value::Ref`]s naming the target by key, resolved to UUIDs (or
//! named-uuids for rows inserted in the same transaction) only at apply, and mapped back from
//! UUIDs when live rows are read.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ovsdb::{Atom, Datum};

pub(crate) mod bridge_mappings;
pub(crate) mod chassis;
pub mod identity;
pub mod live;
pub(crate) mod ownership;
pub(crate) mod vtep;

/// Which database a row lives in. Chassis databases are named by chassis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Db {
    /// `OVN_Northbound`.
    Northbound,
    /// `OVN_Southbound`.
    Southbound,
    /// The `Open_vSwitch` database of one chassis (by the chassis name of the topology).
    Chassis(String),
}

impl Db {
    /// The OVSDB database name as the server knows it.
    pub(crate) fn schema_name(&self) -> &'static str {
        match self {
            Db::Northbound => "OVN_Northbound",
            Db::Southbound => "OVN_Southbound",
            Db::Chassis(_) => "Open_vSwitch",
        }
    }
}

impl fmt::Display for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Db::Northbound => write!(f, "nb"),
            Db::Southbound => write!(f, "sb"),
            Db::Chassis(c) => write!(f, "chassis {c}"),
        }
    }
}

/// A row's natural identity within its table: one or more parts, e.g. `["ls1"]` for a switch,
/// `["lr2", "snat", "10.10.40.1", "10.10.10.0/24"]` for a NAT rule. See [`identity`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RowKey(pub Vec<String>);

impl RowKey {
    pub fn name(name: impl Into<String>) -> RowKey {
        RowKey(vec![name.into()])
    }
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.join(" "))
    }
}

/// A reference to another row, by table and natural key (in the same database).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RowRef {
    pub table: String,
    pub key: RowKey,
}

/// An atom of the row model: a plain OVSDB atom, or a reference by natural key where the wire
/// would carry a UUID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Atom(Atom),
    Ref(Box<RowRef>),
}

impl From<Atom> for Value {
    fn from(a: Atom) -> Value {
        Value::Atom(a)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Atom(Atom::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Atom(Atom::String(s))
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Atom(Atom::Integer(i))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Atom(Atom::Boolean(b))
    }
}
impl From<RowRef> for Value {
    fn from(r: RowRef) -> Value {
        Value::Ref(Box::new(r))
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Atom(a) => write!(f, "{a}"),
            Value::Ref(r) => write!(f, "{}:{}", r.table, r.key),
        }
    }
}

/// A column value in the row model.
pub(crate) type Cell = Datum<Value>;

/// One row: the columns it sets. Columns not present are not managed (desired state) or were
/// not read (live state); diff only compares columns present in the desired row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub columns: litemap::LiteMap<String, Cell>,
}

impl Row {
    pub(crate) fn new() -> Row {
        Row::default()
    }

    /// Builder-style column setter.
    pub(crate) fn with(mut self, column: &str, cell: Cell) -> Row {
        self.columns.insert(column.to_owned(), cell);
        self
    }

    pub(crate) fn set(&mut self, column: &str, cell: Cell) {
        self.columns.insert(column.to_owned(), cell);
    }

    pub fn get(&self, column: &str) -> Option<&Cell> {
        self.columns.get(column)
    }

    /// The string a scalar column holds.
    pub(crate) fn text(&self, column: &str) -> Option<&str> {
        match self.get(column)?.as_scalar()? {
            Value::Atom(Atom::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The string value of `key` in a map column (`options:chassis`).
    pub(crate) fn map_text(&self, column: &str, key: &str) -> Option<&str> {
        match self.get(column)?.as_map()?.get(&Value::from(key))? {
            Value::Atom(Atom::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// One state: the Northbound (and Southbound) rows, ordered database → table → key → row,
/// and the chassis section, by chassis name (what the topology wants in each chassis's own
/// database; a live read leaves it empty: chassis are read one by one, see
/// `live::vswitch`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub tables: BTreeMap<Db, BTreeMap<String, BTreeMap<RowKey, Row>>>,
    pub chassis: BTreeMap<String, chassis::Declared>,
    /// The VTEP section, by physical switch name (what the topology wants in each hardware
    /// VTEP's own database).
    pub vteps: BTreeMap<String, vtep::Declared>,
}

impl State {
    pub(crate) fn new() -> State {
        State::default()
    }

    /// Inserts a row; returns the previous row with that identity, if any.
    pub(crate) fn insert(&mut self, db: Db, table: &str, key: RowKey, row: Row) -> Option<Row> {
        self.tables
            .entry(db)
            .or_default()
            .entry(table.to_owned())
            .or_default()
            .insert(key, row)
    }

    pub fn get(&self, db: &Db, table: &str, key: &RowKey) -> Option<&Row> {
        self.tables.get(db)?.get(table)?.get(key)
    }

    pub(crate) fn get_mut(&mut self, db: &Db, table: &str, key: &RowKey) -> Option<&mut Row> {
        self.tables.get_mut(db)?.get_mut(table)?.get_mut(key)
    }

    /// Every Northbound and Southbound row, in order (the chassis section's rows are
    /// [`chassis::Wanted::rows`]).
    pub fn rows(&self) -> impl Iterator<Item = (&Db, &str, &RowKey, &Row)> {
        self.tables.iter().flat_map(|(db, tables)| {
            tables.iter().flat_map(move |(table, rows)| {
                rows.iter()
                    .map(move |(key, row)| (db, table.as_str(), key, row))
            })
        })
    }

    pub fn len(&self) -> usize {
        self.tables
            .values()
            .flat_map(|t| t.values())
            .map(BTreeMap::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `[("k", "v"), ...]` as the string map the chassis section uses (unit tests).
#[cfg(test)]
pub(crate) fn string_pairs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference is boxed so that a value is the size of an atom: converting a read's
    /// columns into cells then reuses each vector instead of allocating another.
    #[test]
    fn a_value_is_the_size_of_an_atom() {
        assert_eq!(std::mem::size_of::<Value>(), std::mem::size_of::<Atom>());
    }
}

//! The desired rows as a review document, for `topo compile` and the compile snapshots.
//!
//! One entry per row: database, table, natural key, columns; the Northbound rows first, then
//! each chassis's `Open_vSwitch` rows exactly as apply writes them there
//! ([`chassis::Wanted::rows`]), then each hardware VTEP's `hardware_vtep` rows
//! (`rows::vtep::Wanted::rows`). A one-element set is shown as
//! its element, a reference as `{ref: [table, key...]}`. This is a review format, not the
//! OVSDB wire notation (apply builds that from the schema). [`Rows`] serializes straight to
//! the output, so a 140,000-row state is written without building a document tree.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use crate::ovsdb::{Atom, Datum};
use crate::rows::{Db, Row, RowKey, State, Value, chassis};

/// Every row of a state, in order, as a serializable sequence.
pub(crate) struct Rows<'a>(pub &'a State);

/// The rows as a JSON value (tests; `Rows` itself for large outputs).
pub fn to_json(state: &State) -> Json {
    serde_json::to_value(Rows(state)).unwrap_or(Json::Null)
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for (db, table, key, row) in self.0.rows() {
            seq.serialize_element(&RowEntry {
                db: db_name(db),
                table,
                key,
                row,
            })?;
        }
        // Each chassis's rows as apply writes them into its own database.
        for (name, declared) in &self.0.chassis {
            let db = db_name(&chassis::db(name));
            for (table, key, row) in declared.wanted.rows(&declared.stack) {
                seq.serialize_element(&RowEntry {
                    db: db.clone(),
                    table,
                    key: &key,
                    row: &row,
                })?;
            }
        }
        // Each hardware VTEP's rows as apply writes them into its own database.
        for (name, declared) in &self.0.vteps {
            let db = format!("vtep/{name}");
            for (table, key, row) in declared.wanted.rows(name, &declared.stack) {
                seq.serialize_element(&RowEntry {
                    db: db.clone(),
                    table,
                    key: &key,
                    row: &row,
                })?;
            }
        }
        seq.end()
    }
}

/// How the review document names a database: `nb`, `sb`, `chassis/<name>` (and
/// `vtep/<name>` for a hardware VTEP's).
fn db_name(db: &Db) -> String {
    match db {
        Db::Northbound => "nb".to_owned(),
        Db::Southbound => "sb".to_owned(),
        Db::Chassis(c) => format!("chassis/{c}"),
    }
}

struct RowEntry<'a> {
    db: String,
    table: &'a str,
    key: &'a RowKey,
    row: &'a Row,
}

impl Serialize for RowEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("db", &self.db)?;
        m.serialize_entry("table", self.table)?;
        m.serialize_entry("key", &self.key.0)?;
        m.serialize_entry("columns", &Columns(self.row))?;
        m.end()
    }
}

struct Columns<'a>(&'a Row);

impl Serialize for Columns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.columns.len()))?;
        for (c, cell) in &self.0.columns {
            m.serialize_entry(c, &Cell(cell))?;
        }
        m.end()
    }
}

struct Cell<'a>(&'a Datum<Value>);

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Datum::Set(set) if set.len() == 1 => match set.iter().next() {
                Some(v) => Val(v).serialize(s),
                None => s.serialize_none(),
            },
            Datum::Set(set) => s.collect_seq(set.iter().map(Val)),
            Datum::Map(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(&text(k), &Val(v))?;
                }
                m.end()
            }
        }
    }
}

struct Val<'a>(&'a Value);

impl Serialize for Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Atom(Atom::Integer(i)) => s.serialize_i64(*i),
            Value::Atom(Atom::Real(r)) => s.serialize_f64(*r),
            Value::Atom(Atom::Boolean(b)) => s.serialize_bool(*b),
            Value::Atom(Atom::String(v)) => s.serialize_str(v),
            Value::Atom(a) => s.serialize_str(&a.to_string()),
            Value::Ref(r) => {
                let mut m = s.serialize_map(Some(1))?;
                let parts: Vec<&str> = std::iter::once(r.table.as_str())
                    .chain(r.key.0.iter().map(String::as_str))
                    .collect();
                m.serialize_entry("ref", &parts)?;
                m.end()
            }
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Atom(Atom::String(s)) => s.clone(),
        other => other.to_string(),
    }
}

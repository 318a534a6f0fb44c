//! The desired rows as a JSON document, for `topo compile` and the compile snapshots.
//!
//! One entry per row: database, table, natural key, columns. A one-element set is shown as
//! its element, a reference as `{ref: [table, key...]}`. This is a review format, not the
//! OVSDB wire notation (apply builds that from the schema).

use serde_json::{Map, Value as Json, json};

use crate::ovsdb::{Atom, Datum};
use crate::rows::{Db, State, Value};

/// Every row of `state`, in order.
pub fn to_json(state: &State) -> Json {
    let rows: Vec<Json> = state
        .rows()
        .map(|(db, table, key, row)| {
            let columns: Map<String, Json> = row
                .columns
                .iter()
                .map(|(c, cell)| (c.clone(), cell_json(cell)))
                .collect();
            json!({
                "db": db_name(db),
                "table": table,
                "key": key.0,
                "columns": columns,
            })
        })
        .collect();
    Json::Array(rows)
}

fn db_name(db: &Db) -> String {
    match db {
        Db::Northbound => "nb".to_owned(),
        Db::Southbound => "sb".to_owned(),
        Db::Chassis(c) => format!("chassis/{c}"),
    }
}

fn cell_json(cell: &Datum<Value>) -> Json {
    match cell {
        Datum::Set(s) if s.len() == 1 => s.iter().next().map(value_json).unwrap_or(Json::Null),
        Datum::Set(s) => Json::Array(s.iter().map(value_json).collect()),
        Datum::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (value_text(k), value_json(v)))
                .collect(),
        ),
    }
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Atom(Atom::Integer(i)) => json!(i),
        Value::Atom(Atom::Real(r)) => json!(r),
        Value::Atom(Atom::Boolean(b)) => json!(b),
        Value::Atom(Atom::String(s)) => json!(s),
        Value::Atom(a) => json!(a.to_string()),
        Value::Ref(r) => {
            let mut parts = vec![r.table.clone()];
            parts.extend(r.key.0.iter().cloned());
            json!({ "ref": parts })
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Atom(Atom::String(s)) => s.clone(),
        other => other.to_string(),
    }
}

//! Monitor requests and the table updates they deliver (RFC 7047 §4.1.5–4.1.6 and the
//! `monitor_cond` extension of ovsdb-server(7)).
//!
//! `monitor_cond` replies and `update2` notifications use the "update2" form (`initial`,
//! `insert`, `modify` with a diff, `delete`); plain `monitor` uses `old`/`new`. Both are kept
//! as the server sent them in [`RowUpdate`], so a consumer applying them to a cache sees
//! exactly the protocol's meaning.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::operation::Condition;

/// What to monitor in one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorRequest {
    /// Columns to report; `None` is all.
    pub columns: Option<Vec<String>>,
    /// Only rows matching all of these (monitor_cond only; ignored by plain `monitor`).
    pub conditions: Option<Vec<Condition>>,
    /// Which kinds of change to report; `None` is all.
    pub select: Option<MonitorSelect>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorSelect {
    pub initial: bool,
    pub insert: bool,
    pub delete: bool,
    pub modify: bool,
}

impl MonitorRequest {
    pub fn all() -> MonitorRequest {
        MonitorRequest::default()
    }

    pub fn columns(columns: &[&str]) -> MonitorRequest {
        MonitorRequest {
            columns: Some(columns.iter().map(|c| (*c).to_owned()).collect()),
            ..MonitorRequest::default()
        }
    }

    pub(crate) fn to_json(&self, conditional: bool) -> Value {
        let mut o = Map::new();
        if let Some(cols) = &self.columns {
            o.insert("columns".into(), json!(cols));
        }
        if let (true, Some(conds)) = (conditional, &self.conditions) {
            o.insert(
                "where".into(),
                Value::Array(
                    conds
                        .iter()
                        .map(|c| json!([c.column, c.function.as_str(), c.value.to_json()]))
                        .collect(),
                ),
            );
        }
        if let Some(s) = &self.select {
            o.insert(
                "select".into(),
                json!({"initial": s.initial, "insert": s.insert, "delete": s.delete,
                       "modify": s.modify}),
            );
        }
        Value::Object(o)
    }
}

/// One row's change, in the form the server sent it.
#[derive(Debug, Clone, PartialEq)]
pub enum RowUpdate {
    /// update2: a row present when the monitor started.
    Initial(Map<String, Value>),
    /// update2: a new row.
    Insert(Map<String, Value>),
    /// update2: the columns that changed; for sets and maps, the elements to toggle.
    Modify(Map<String, Value>),
    /// update2: the row was deleted.
    Delete,
    /// update (v1): old and new contents (new absent for deletes, old absent for inserts and
    /// initial rows).
    Update {
        old: Option<Map<String, Value>>,
        new: Option<Map<String, Value>>,
    },
}

/// Table name → row UUID → change.
pub type TableUpdates = BTreeMap<String, BTreeMap<Uuid, RowUpdate>>;

/// Parses a `table-updates` or `table-updates2` object, taking the rows out of it without
/// copying (a monitor's initial reply can hold the whole database).
pub fn parse_table_updates(value: Value) -> Result<TableUpdates, String> {
    let tables = match value {
        Value::Object(t) => t,
        Value::Null => return Ok(TableUpdates::new()),
        other => return Err(format!("table updates must be an object, got {other}")),
    };
    let mut out = TableUpdates::new();
    for (table, rows) in tables {
        let Value::Object(rows) = rows else {
            return Err(format!("updates of table {table} must be an object"));
        };
        let mut parsed = BTreeMap::new();
        for (uuid, update) in rows {
            let uuid = Uuid::parse_str(&uuid).map_err(|_| format!("bad row uuid {uuid:?}"))?;
            let Value::Object(mut update) = update else {
                return Err(format!("update of row {uuid} must be an object"));
            };
            let deleted = update.contains_key("delete");
            let mut take = |key: &str| match update.remove(key) {
                Some(Value::Object(r)) => Some(r),
                _ => None,
            };
            let parsed_update = if let Some(r) = take("initial") {
                RowUpdate::Initial(r)
            } else if let Some(r) = take("insert") {
                RowUpdate::Insert(r)
            } else if let Some(r) = take("modify") {
                RowUpdate::Modify(r)
            } else if deleted {
                RowUpdate::Delete
            } else {
                RowUpdate::Update {
                    old: take("old"),
                    new: take("new"),
                }
            };
            parsed.insert(uuid, parsed_update);
        }
        out.insert(table, parsed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_update_forms_parse() {
        let u = "6b7c6a3e-0000-4000-8000-000000000001";
        let updates = parse_table_updates(json!({
            "Logical_Switch": {
                u: {"initial": {"name": "ls1"}}
            },
            "NAT": {
                "6b7c6a3e-0000-4000-8000-000000000002": {"delete": null},
                "6b7c6a3e-0000-4000-8000-000000000003": {"old": {"type": "snat"}}
            }
        }))
        .unwrap();
        let ls = &updates["Logical_Switch"];
        assert!(matches!(ls.values().next(), Some(RowUpdate::Initial(r)) if r["name"] == "ls1"));
        let nat: Vec<_> = updates["NAT"].values().collect();
        assert_eq!(nat[0], &RowUpdate::Delete);
        assert!(matches!(
            nat[1],
            RowUpdate::Update {
                old: Some(_),
                new: None
            }
        ));
        assert!(parse_table_updates(json!({"T": {"not-a-uuid": {}}})).is_err());
    }
}

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

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use super::datum::Datum;
use super::operation::{Columns, Condition};
use super::schema::{DatabaseSchema, TableSchema};

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
pub(crate) fn parse_table_updates(value: Value) -> Result<TableUpdates, String> {
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

/// Whole rows of a monitor reply, typed by the schema: table → row UUID → columns.
pub(crate) type Rows = BTreeMap<String, BTreeMap<Uuid, Columns>>;

/// Decodes a `monitor` or `monitor_cond` reply from its JSON text straight into typed rows,
/// without a JSON tree in between (a reply can be the whole database). Rows come as
/// `initial`, `insert` or (plain `monitor`) `new`; anything else in the reply is skipped.
/// Columns are typed as [`Datum::from_json_typed`] types them; columns the schema does not
/// name (`_version`) are decoded untyped.
pub(crate) fn decode_rows(text: &str, schema: &DatabaseSchema) -> Result<Rows, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let changes = ChangesSeed { schema }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(changes
        .into_iter()
        .map(|(table, rows)| {
            let rows = rows
                .into_iter()
                .filter_map(|(uuid, change)| match change {
                    RowChange::Row(row) => Some((uuid, row)),
                    _ => None,
                })
                .collect();
            (table, rows)
        })
        .collect())
}

/// One row's change in a monitor update, its columns typed by the schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RowChange {
    /// The whole row: `initial`, `insert`, or plain monitor's `new`.
    Row(Columns),
    /// update2 `modify`: the columns that changed; for sets and maps, the elements to toggle.
    Modify(Columns),
    /// The row was deleted.
    Delete,
}

/// Table name → row UUID → change.
pub(crate) type Changes = BTreeMap<String, BTreeMap<Uuid, RowChange>>;

/// Decodes the parameters of an `update`, `update2` or `update3` notification (`method`)
/// from their JSON text: the monitor's id and its changes, typed by `schema` without a JSON
/// tree in between. `Ok(None)` for any other method.
pub(crate) fn decode_update_params(
    method: &str,
    params: &str,
    schema: &DatabaseSchema,
) -> Result<Option<(Value, Changes)>, String> {
    let skip = match method {
        "update" | "update2" => 0,
        // update3 carries the last transaction id before the updates.
        "update3" => 1,
        _ => return Ok(None),
    };
    if params.len() >= PARALLEL_DECODE_BYTES
        && let Some(parsed) = decode_on_two_threads(params, schema, skip)
    {
        return Ok(Some(parsed));
    }
    let mut de = serde_json::Deserializer::from_str(params);
    let parsed = ParamsSeed { schema, skip }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(Some(parsed))
}

/// Updates at least this long are decoded on two threads: an apply from empty gets every row
/// it created back in one update (6 MB at 1,000 tenants), and it waits for the decode.
const PARALLEL_DECODE_BYTES: usize = 1 << 20;

/// The tables of an update, each row's update still as its text.
type RawTables<'a> = BTreeMap<String, BTreeMap<&'a str, &'a serde_json::value::RawValue>>;

/// [`decode_update_params`] on two threads: one pass finds each row's text, then each half of
/// the rows is typed on a thread of its own. `None` for anything unexpected (a uuid or table
/// name with an escape, a malformed row, one core): the caller decodes in one pass, and says
/// what is wrong.
fn decode_on_two_threads(
    params: &str,
    schema: &DatabaseSchema,
    skip: usize,
) -> Option<(Value, Changes)> {
    use serde_json::value::RawValue;
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return None;
    }
    let parts: Vec<&RawValue> = serde_json::from_str(params).ok()?;
    let monitor: Value = serde_json::from_str(parts.first()?.get()).ok()?;
    let tables: Option<RawTables> = serde_json::from_str(parts.get(1 + skip)?.get()).ok()?;
    let tables = tables.unwrap_or_default();
    let rows: Vec<(&str, &str, &RawValue)> = tables
        .iter()
        .flat_map(|(table, rows)| {
            rows.iter()
                .map(move |(uuid, raw)| (table.as_str(), *uuid, *raw))
        })
        .collect();
    let decode = |rows: &[(&str, &str, &RawValue)]| -> Option<Vec<(Uuid, Option<RowChange>)>> {
        rows.iter()
            .map(|(table, uuid, raw)| {
                let uuid = Uuid::parse_str(uuid).ok()?;
                let mut de = serde_json::Deserializer::from_str(raw.get());
                let change = UpdateSeed {
                    table: schema.table(table),
                    name: table,
                }
                .deserialize(&mut de)
                .ok()?;
                de.end().ok()?;
                Some((uuid, change))
            })
            .collect()
    };
    let half = rows.len() / 2;
    let halves = [&rows[..half], &rows[half..]];
    let decoded = crate::parallel::on_threads(2, 2, |i| decode(halves[i]));
    let mut changes: Changes = tables
        .keys()
        .map(|t| (t.clone(), BTreeMap::new()))
        .collect();
    for ((table, _, _), (uuid, change)) in rows.iter().zip(
        decoded
            .into_iter()
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .flatten(),
    ) {
        if let (Some(rows), Some(change)) = (changes.get_mut(*table), change) {
            rows.insert(uuid, change);
        }
    }
    Some((monitor, changes))
}

struct ParamsSeed<'s> {
    schema: &'s DatabaseSchema,
    skip: usize,
}

impl<'de> DeserializeSeed<'de> for ParamsSeed<'_> {
    type Value = (Value, Changes);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ParamsSeed<'_> {
    type Value = (Value, Changes);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("update parameters")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let monitor: Value = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("an update without a monitor id"))?;
        for _ in 0..self.skip {
            seq.next_element::<serde::de::IgnoredAny>()?;
        }
        let changes = seq
            .next_element_seed(ChangesSeed {
                schema: self.schema,
            })?
            .ok_or_else(|| A::Error::custom("an update without table updates"))?;
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok((monitor, changes))
    }
}

struct ChangesSeed<'s> {
    schema: &'s DatabaseSchema,
}

impl<'de> DeserializeSeed<'de> for ChangesSeed<'_> {
    type Value = Changes;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Changes, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ChangesSeed<'_> {
    type Value = Changes;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("table updates")
    }
    fn visit_unit<E>(self) -> Result<Changes, E> {
        Ok(Changes::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Changes, A::Error> {
        let mut changes = Changes::new();
        while let Some(table) = map.next_key::<String>()? {
            let rows = map.next_value_seed(ChangeRowsSeed {
                table: self.schema.table(&table),
                name: &table,
            })?;
            changes.insert(table, rows);
        }
        Ok(changes)
    }
}

struct ChangeRowsSeed<'s> {
    table: Option<&'s TableSchema>,
    name: &'s str,
}

impl<'de> DeserializeSeed<'de> for ChangeRowsSeed<'_> {
    type Value = BTreeMap<Uuid, RowChange>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ChangeRowsSeed<'_> {
    type Value = BTreeMap<Uuid, RowChange>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "the updates of table {}", self.name)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rows = BTreeMap::new();
        while let Some(uuid) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let uuid = Uuid::parse_str(&uuid)
                .map_err(|_| A::Error::custom(format!("bad row uuid {uuid:?}")))?;
            let change = map.next_value_seed(UpdateSeed {
                table: self.table,
                name: self.name,
            })?;
            if let Some(change) = change {
                rows.insert(uuid, change);
            }
        }
        Ok(rows)
    }
}

/// One row's update, in either form (update2's `initial`/`insert`/`modify`/`delete`, or
/// update's `old`/`new`).
struct UpdateSeed<'s> {
    table: Option<&'s TableSchema>,
    name: &'s str,
}

impl<'de> DeserializeSeed<'de> for UpdateSeed<'_> {
    type Value = Option<RowChange>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UpdateSeed<'_> {
    type Value = Option<RowChange>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a row update")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut change = None;
        let mut old = false;
        let row = |map: &mut A| {
            map.next_value_seed(RowSeed {
                table: self.table,
                name: self.name,
            })
        };
        while let Some(kind) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match kind.as_ref() {
                "initial" | "insert" | "new" => change = Some(RowChange::Row(row(&mut map)?)),
                "modify" => change = Some(RowChange::Modify(row(&mut map)?)),
                "delete" => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    change = Some(RowChange::Delete);
                }
                "old" => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    old = true;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        // Plain monitor's delete: the old row and no new one.
        Ok(change.or(old.then_some(RowChange::Delete)))
    }
}

struct RowSeed<'s> {
    table: Option<&'s TableSchema>,
    name: &'s str,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = Columns;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Columns, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = Columns;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a row")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Columns, A::Error> {
        let mut columns = Columns::new();
        while let Some(column) = map.next_key::<String>()? {
            let datum: Datum = map.next_value()?;
            let datum = match self.table.and_then(|t| t.columns.get(&column)) {
                Some(c) => datum
                    .typed(&c.ty, || Value::String(format!("{}.{column}", self.name)))
                    .map_err(|e| A::Error::custom(format!("{}.{column}: {e}", self.name)))?,
                None => datum,
            };
            columns.insert(column, datum);
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streaming decoder types every column exactly as the tree decoder does.
    #[test]
    fn rows_decode_straight_from_text_as_from_a_tree() {
        let schema = DatabaseSchema::from_json(&json!({
            "name": "S", "version": "1.0.0", "tables": {"T": {"columns": {
                "name": {"type": "string"},
                "ratio": {"type": "real"},
                "n": {"type": {"key": "integer", "min": 0, "max": 1}},
                "up": {"type": {"key": "boolean", "min": 0, "max": 1}},
                "ports": {"type": {"key": {"type": "uuid", "refTable": "T"},
                                   "min": 0, "max": "unlimited"}},
                "ids": {"type": {"key": "string", "value": "string",
                                 "min": 0, "max": "unlimited"}},
                "opts": {"type": {"key": "string", "value": "integer",
                                  "min": 0, "max": "unlimited"}}}}}
        }))
        .unwrap();
        let u1 = "6b7c6a3e-0000-4000-8000-000000000001";
        let u2 = "6b7c6a3e-0000-4000-8000-000000000002";
        let row1 = json!({"name": "a \"q\" é", "ratio": 2, "n": ["set", [7]], "up": true,
            "ports": ["set", [["uuid", u2], ["uuid", u1]]],
            "ids": ["map", [["k", "v"], ["a", "b"]]], "opts": ["set", []],
            "_version": ["uuid", u2]});
        let row2 = json!({"name": "b", "ratio": 0.25, "n": ["set", []],
            "ports": ["uuid", u1], "ids": ["map", []], "opts": ["map", [["x", -3]]]});
        let reply = json!({
            "T": {u1: {"initial": row1}, u2: {"new": row2, "old": {"name": "c"}}},
            "Other": {u1: {"insert": {"x": 1.5}}}
        });
        let rows = decode_rows(&reply.to_string(), &schema).unwrap();
        let tree = |row: &Value| {
            crate::ovsdb::columns_from_json(&schema, "T", row.as_object().unwrap()).unwrap()
        };
        let t = &rows["T"];
        assert_eq!(t[&Uuid::parse_str(u1).unwrap()], tree(&row1));
        assert_eq!(t[&Uuid::parse_str(u2).unwrap()], tree(&row2));
        assert_eq!(
            rows["Other"][&Uuid::parse_str(u1).unwrap()]
                .get("x")
                .cloned()
                .expect("x"),
            Datum::from_json(&json!(1.5)).unwrap()
        );
        // A badly typed column is an error naming it.
        let bad = json!({"T": {u1: {"initial": {"n": "seven"}}}});
        let e = decode_rows(&bad.to_string(), &schema).unwrap_err();
        assert!(e.contains("T.n"), "{e}");
        assert_eq!(decode_rows("null", &schema).unwrap(), Rows::new());
    }

    /// A large update decodes on two threads exactly as in one pass.
    #[test]
    fn a_large_update_decodes_on_two_threads_as_in_one_pass() {
        let schema = DatabaseSchema::from_json(&json!({
            "name": "S", "version": "1.0.0", "tables": {
                "T": {"columns": {
                    "name": {"type": "string"},
                    "ports": {"type": {"key": {"type": "uuid", "refTable": "T"},
                                       "min": 0, "max": "unlimited"}},
                    "ids": {"type": {"key": "string", "value": "string",
                                     "min": 0, "max": "unlimited"}}}},
                "U": {"columns": {"n": {"type": "integer"}}}}
        }))
        .unwrap();
        let uuid = |i: usize| format!("6b7c6a3e-0000-4000-8000-{i:012}");
        let mut t = Map::new();
        for i in 0..12_000 {
            let change = match i % 4 {
                0 => {
                    json!({"initial": {"name": format!("row {i} \"q\""), "ports": ["set", [["uuid", uuid(i + 1)]]],
                                        "ids": ["map", [["k", "v"]]]}})
                }
                1 => json!({"insert": {"name": format!("r{i}"), "_version": ["uuid", uuid(i)]}}),
                2 => json!({"modify": {"ids": ["map", [["k", "w"]]]}}),
                _ => json!({"delete": null}),
            };
            t.insert(uuid(i), change);
        }
        let params =
            json!(["m", "txn", {"T": t, "U": {uuid(1): {"insert": {"n": 3}}}, "Empty": {}}])
                .to_string();
        assert!(params.len() >= PARALLEL_DECODE_BYTES, "{}", params.len());
        let threaded = decode_on_two_threads(&params, &schema, 1).expect("decodes");
        let mut de = serde_json::Deserializer::from_str(&params);
        let one_pass = ParamsSeed {
            schema: &schema,
            skip: 1,
        }
        .deserialize(&mut de)
        .unwrap();
        assert_eq!(threaded, one_pass);
        assert_eq!(threaded.1["T"].len(), 12_000);
        assert!(threaded.1["Empty"].is_empty());
        // What it does not expect, it leaves to the one pass (which names the problem).
        let bad = params.replacen("\"name\":\"r1\"", "\"name\":7", 1);
        assert!(decode_on_two_threads(&bad, &schema, 1).is_none());
        assert!(decode_update_params("update3", &bad, &schema).is_err());
        let null_rows = params.replacen("\"Empty\":{}", "\"Empty\":null", 1);
        assert!(decode_on_two_threads(&null_rows, &schema, 1).is_none());
        assert!(decode_update_params("update3", &null_rows, &schema).is_err());
    }

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

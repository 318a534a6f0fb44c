//! Transaction operations (RFC 7047 §5.2) and their results, as types.
//!
//! Building operations as values (not JSON by hand) lets apply be snapshot-tested as data and
//! keeps the wire notation in one place.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::datum::{Atom, Datum, NotationError};
use super::schema::DatabaseSchema;

/// Column values of a row on the wire.
pub type Columns = litemap::LiteMap<String, Datum>;

/// A condition function (RFC 7047 §5.1 `<condition>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
    Includes,
    Excludes,
}

impl Function {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Function::Lt => "<",
            Function::Le => "<=",
            Function::Eq => "==",
            Function::Ne => "!=",
            Function::Ge => ">=",
            Function::Gt => ">",
            Function::Includes => "includes",
            Function::Excludes => "excludes",
        }
    }
}

/// `[column, function, value]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: String,
    pub function: Function,
    pub value: Datum,
}

impl Condition {
    pub fn new(column: &str, function: Function, value: Datum) -> Condition {
        Condition {
            column: column.to_owned(),
            function,
            value,
        }
    }

    pub fn eq(column: &str, value: impl Into<Atom>) -> Condition {
        Condition::new(column, Function::Eq, Datum::scalar(value.into()))
    }

    /// `_uuid == <uuid>`: the condition that selects exactly one row.
    pub fn uuid(uuid: Uuid) -> Condition {
        Condition::eq("_uuid", Atom::Uuid(uuid))
    }
}

/// A mutator (RFC 7047 §5.1 `<mutation>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutator {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Insert,
    Delete,
}

impl Mutator {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mutator::Add => "+=",
            Mutator::Sub => "-=",
            Mutator::Mul => "*=",
            Mutator::Div => "/=",
            Mutator::Mod => "%=",
            Mutator::Insert => "insert",
            Mutator::Delete => "delete",
        }
    }
}

/// `[column, mutator, value]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    pub column: String,
    pub mutator: Mutator,
    pub value: Datum,
}

impl Mutation {
    pub fn new(column: &str, mutator: Mutator, value: Datum) -> Mutation {
        Mutation {
            column: column.to_owned(),
            mutator,
            value,
        }
    }

    pub fn insert(column: &str, value: Datum) -> Mutation {
        Mutation::new(column, Mutator::Insert, value)
    }

    pub(crate) fn delete(column: &str, value: Datum) -> Mutation {
        Mutation::new(column, Mutator::Delete, value)
    }
}

/// `until` of a wait operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitUntil {
    /// The selected rows, projected on the columns, equal the given rows.
    Equal,
    /// They differ.
    NotEqual,
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Insert {
        table: String,
        row: Columns,
        uuid_name: Option<String>,
        uuid: Option<Uuid>,
    },
    Select {
        table: String,
        conditions: Vec<Condition>,
        columns: Option<Vec<String>>,
    },
    Update {
        table: String,
        conditions: Vec<Condition>,
        row: Columns,
    },
    Mutate {
        table: String,
        conditions: Vec<Condition>,
        mutations: Vec<Mutation>,
    },
    Delete {
        table: String,
        conditions: Vec<Condition>,
    },
    Wait {
        table: String,
        conditions: Vec<Condition>,
        columns: Vec<String>,
        until: WaitUntil,
        rows: Vec<Columns>,
        timeout_ms: Option<u64>,
    },
    Commit {
        durable: bool,
    },
    Abort,
    Comment(String),
    Assert {
        lock: String,
    },
}

impl Operation {
    pub fn insert(table: &str, row: Columns) -> Operation {
        Operation::Insert {
            table: table.to_owned(),
            row,
            uuid_name: None,
            uuid: None,
        }
    }

    /// Names the inserted row so later operations of the same transaction can refer to it
    /// as `Atom::NamedUuid(name)`. Only meaningful on inserts.
    pub fn with_uuid_name(mut self, name: &str) -> Operation {
        if let Operation::Insert { uuid_name, .. } = &mut self {
            *uuid_name = Some(name.to_owned());
        }
        self
    }

    pub fn select(
        table: &str,
        conditions: Vec<Condition>,
        columns: Option<Vec<String>>,
    ) -> Operation {
        Operation::Select {
            table: table.to_owned(),
            conditions,
            columns,
        }
    }

    pub fn update(table: &str, conditions: Vec<Condition>, row: Columns) -> Operation {
        Operation::Update {
            table: table.to_owned(),
            conditions,
            row,
        }
    }

    pub fn mutate(table: &str, conditions: Vec<Condition>, mutations: Vec<Mutation>) -> Operation {
        Operation::Mutate {
            table: table.to_owned(),
            conditions,
            mutations,
        }
    }

    pub fn delete(table: &str, conditions: Vec<Condition>) -> Operation {
        Operation::Delete {
            table: table.to_owned(),
            conditions,
        }
    }

    /// A `wait` that succeeds at once (timeout 0) if the rows matching `conditions`,
    /// projected on `columns`, are exactly `rows` (`Equal`) — the guard that a transaction
    /// only commits against the state it was planned on. Select `_uuid` in `columns`, or
    /// ovsdb-server merges identical rows before comparing.
    pub fn wait(
        table: &str,
        conditions: Vec<Condition>,
        columns: Vec<String>,
        until: WaitUntil,
        rows: Vec<Columns>,
    ) -> Operation {
        Operation::Wait {
            table: table.to_owned(),
            conditions,
            columns,
            until,
            rows,
            timeout_ms: Some(0),
        }
    }

    pub(crate) fn comment(text: &str) -> Operation {
        Operation::Comment(text.to_owned())
    }

    pub fn assert_lock(lock: &str) -> Operation {
        Operation::Assert {
            lock: lock.to_owned(),
        }
    }

    /// The RFC 7047 JSON of this operation.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.column, self.function.as_str(), &self.value).serialize(s)
    }
}

impl Serialize for Mutation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.column, self.mutator.as_str(), &self.value).serialize(s)
    }
}

/// Written straight to the wire form, without an intermediate JSON tree: apply's
/// transactions hold tens of thousands of operations.
impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Operation::Insert {
                table,
                row,
                uuid_name,
                uuid,
            } => {
                m.serialize_entry("op", "insert")?;
                m.serialize_entry("table", table)?;
                m.serialize_entry("row", &RowObject(row))?;
                if let Some(name) = uuid_name {
                    m.serialize_entry("uuid-name", name)?;
                }
                if let Some(uuid) = uuid {
                    m.serialize_entry("uuid", &uuid.to_string())?;
                }
            }
            Operation::Select {
                table,
                conditions,
                columns,
            } => {
                m.serialize_entry("op", "select")?;
                m.serialize_entry("table", table)?;
                m.serialize_entry("where", conditions)?;
                if let Some(cols) = columns {
                    m.serialize_entry("columns", cols)?;
                }
            }
            Operation::Update {
                table,
                conditions,
                row,
            } => {
                m.serialize_entry("op", "update")?;
                m.serialize_entry("table", table)?;
                m.serialize_entry("where", conditions)?;
                m.serialize_entry("row", &RowObject(row))?;
            }
            Operation::Mutate {
                table,
                conditions,
                mutations,
            } => {
                m.serialize_entry("op", "mutate")?;
                m.serialize_entry("table", table)?;
                m.serialize_entry("where", conditions)?;
                m.serialize_entry("mutations", mutations)?;
            }
            Operation::Delete { table, conditions } => {
                m.serialize_entry("op", "delete")?;
                m.serialize_entry("table", table)?;
                m.serialize_entry("where", conditions)?;
            }
            Operation::Wait {
                table,
                conditions,
                columns,
                until,
                rows,
                timeout_ms,
            } => {
                m.serialize_entry("op", "wait")?;
                m.serialize_entry("table", table)?;
                m.serialize_entry("where", conditions)?;
                m.serialize_entry("columns", columns)?;
                let until = match until {
                    WaitUntil::Equal => "==",
                    WaitUntil::NotEqual => "!=",
                };
                m.serialize_entry("until", until)?;
                m.serialize_entry("rows", &RowObjects(rows))?;
                if let Some(t) = timeout_ms {
                    m.serialize_entry("timeout", t)?;
                }
            }
            Operation::Commit { durable } => {
                m.serialize_entry("op", "commit")?;
                m.serialize_entry("durable", durable)?;
            }
            Operation::Abort => m.serialize_entry("op", "abort")?,
            Operation::Comment(text) => {
                m.serialize_entry("op", "comment")?;
                m.serialize_entry("comment", text)?;
            }
            Operation::Assert { lock } => {
                m.serialize_entry("op", "assert")?;
                m.serialize_entry("lock", lock)?;
            }
        }
        m.end()
    }
}

/// A row on the wire: a JSON object of its columns, `{}` when it has none.
struct RowObject<'a>(&'a Columns);

impl Serialize for RowObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter())
    }
}

/// Rows on the wire: an array of [`RowObject`]s.
struct RowObjects<'a>(&'a [Columns]);

impl Serialize for RowObjects<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(RowObject))
    }
}

/// Decodes a row object (as in select results and monitor updates) with the column types of
/// `table` from `schema`. Columns the schema does not know are decoded without a type.
pub fn columns_from_json(
    schema: &DatabaseSchema,
    table: &str,
    row: &Map<String, Value>,
) -> Result<Columns, NotationError> {
    // The table's columns are looked up once and borrowed, not copied per cell
    // (`column_type` clones the type, enumerations included).
    let columns = schema.table(table).map(|t| &t.columns);
    row.iter()
        .map(|(column, value)| {
            let declared = match column.as_str() {
                "_uuid" | "_version" => None,
                _ => columns.and_then(|c| c.get(column)),
            };
            let datum = match declared {
                Some(c) => Datum::from_json_typed(value, &c.ty)?,
                None => match schema.column_type(table, column) {
                    Some(ty) => Datum::from_json_typed(value, &ty)?,
                    None => Datum::from_json(value)?,
                },
            };
            Ok((column.clone(), datum))
        })
        .collect()
}

/// Typed reads of a row's columns (a [`Client::select`](super::Client::select)'s, a
/// monitor's) in the shapes callers use, instead of picking JSON apart. Each is `None` (or
/// empty) when the column is absent or holds something else.
pub trait ColumnsExt {
    /// The string of a column holding exactly one string (a scalar, or a set optional).
    fn string(&self, column: &str) -> Option<&str>;
    /// The integer of a column holding exactly one integer.
    fn integer(&self, column: &str) -> Option<i64>;
    /// The boolean of a column holding exactly one boolean.
    fn boolean(&self, column: &str) -> Option<bool>;
    /// The UUID of a column holding exactly one UUID (a row's `_uuid`, a set reference).
    fn uuid(&self, column: &str) -> Option<Uuid>;
    /// The strings of a set column, in order; other atoms are skipped.
    fn strings(&self, column: &str) -> Vec<&str>;
    /// A map column's string → string entries (`external_ids`, `options`); entries of other
    /// types are skipped.
    fn string_map(&self, column: &str) -> BTreeMap<String, String>;
}

impl ColumnsExt for Columns {
    fn string(&self, column: &str) -> Option<&str> {
        self.get(column)?.as_scalar()?.as_str()
    }

    fn integer(&self, column: &str) -> Option<i64> {
        self.get(column)?.as_scalar()?.as_integer()
    }

    fn boolean(&self, column: &str) -> Option<bool> {
        match self.get(column)?.as_scalar()? {
            Atom::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    fn uuid(&self, column: &str) -> Option<Uuid> {
        self.get(column)?.as_scalar()?.as_uuid()
    }

    fn strings(&self, column: &str) -> Vec<&str> {
        self.get(column)
            .and_then(Datum::as_set)
            .map(|set| set.iter().filter_map(Atom::as_str).collect())
            .unwrap_or_default()
    }

    fn string_map(&self, column: &str) -> BTreeMap<String, String> {
        self.get(column)
            .and_then(Datum::as_map)
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The successful result of one operation.
#[derive(Debug, Clone, PartialEq)]
pub enum OpResult {
    /// insert: the new row's UUID.
    Inserted(Uuid),
    /// select: the rows, as JSON objects (decode with [`columns_from_json`]).
    Rows(Vec<Map<String, Value>>),
    /// update, mutate, delete: how many rows matched.
    Count(u64),
    /// wait, commit, abort, comment, assert.
    Empty,
}

impl OpResult {
    pub(crate) fn from_json(value: &Value) -> OpResult {
        if let Some(uuid) = value
            .get("uuid")
            .and_then(|u| Atom::from_json(u).ok())
            .and_then(|a| a.as_uuid())
        {
            return OpResult::Inserted(uuid);
        }
        if let Some(rows) = value.get("rows").and_then(Value::as_array) {
            return OpResult::Rows(rows.iter().filter_map(|r| r.as_object().cloned()).collect());
        }
        if let Some(count) = value.get("count").and_then(Value::as_u64) {
            return OpResult::Count(count);
        }
        OpResult::Empty
    }

    pub fn rows(&self) -> &[Map<String, Value>] {
        match self {
            OpResult::Rows(r) => r,
            _ => &[],
        }
    }

    pub fn uuid(&self) -> Option<Uuid> {
        match self {
            OpResult::Inserted(u) => Some(*u),
            _ => None,
        }
    }

    pub(crate) fn count(&self) -> Option<u64> {
        match self {
            OpResult::Count(c) => Some(*c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_encode_as_rfc7047() {
        let mut row = Columns::new();
        row.insert("name".into(), Datum::scalar(Atom::from("ls1")));
        row.insert("ports".into(), Datum::set([Atom::NamedUuid("p1".into())]));
        assert_eq!(
            Operation::insert("Logical_Switch", row.clone())
                .with_uuid_name("ls1")
                .to_json(),
            json!({"op": "insert", "table": "Logical_Switch", "uuid-name": "ls1",
                   "row": {"name": "ls1", "ports": ["named-uuid", "p1"]}})
        );
        assert_eq!(
            Operation::mutate(
                "Logical_Switch",
                vec![Condition::eq("name", "ls1")],
                vec![Mutation::insert(
                    "ports",
                    Datum::set([Atom::NamedUuid("p2".into())])
                )]
            )
            .to_json(),
            json!({"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", "ls1"]],
                   "mutations": [["ports", "insert", ["named-uuid", "p2"]]]})
        );
        assert_eq!(
            Operation::wait(
                "Logical_Switch",
                vec![Condition::eq("name", "ls9")],
                vec!["_uuid".into()],
                WaitUntil::Equal,
                vec![]
            )
            .to_json(),
            json!({"op": "wait", "table": "Logical_Switch", "where": [["name", "==", "ls9"]],
                   "columns": ["_uuid"], "until": "==", "rows": [], "timeout": 0})
        );
        // A row with no columns is still an object (Open_vSwitch's first row is inserted so).
        assert_eq!(
            Operation::insert("Open_vSwitch", Columns::new()).to_json(),
            json!({"op": "insert", "table": "Open_vSwitch", "row": {}})
        );
        assert_eq!(
            Operation::wait(
                "Logical_Switch",
                vec![],
                vec!["name".into()],
                WaitUntil::Equal,
                vec![row.clone(), Columns::new()]
            )
            .to_json()["rows"],
            json!([{"name": "ls1", "ports": ["named-uuid", "p1"]}, {}])
        );
        assert_eq!(
            Operation::Commit { durable: true }.to_json(),
            json!({"op": "commit", "durable": true})
        );
        assert_eq!(
            Operation::assert_lock("topo").to_json(),
            json!({"op": "assert", "lock": "topo"})
        );
        assert_eq!(
            Operation::comment("topo apply").to_json(),
            json!({"op": "comment", "comment": "topo apply"})
        );
    }

    #[test]
    fn results_decode() {
        let u = Uuid::from_u128(7);
        assert_eq!(
            OpResult::from_json(&json!({"uuid": ["uuid", u.to_string()]})),
            OpResult::Inserted(u)
        );
        assert_eq!(
            OpResult::from_json(&json!({"count": 3})),
            OpResult::Count(3)
        );
        assert_eq!(
            OpResult::from_json(&json!({"rows": [{"name": "a"}]}))
                .rows()
                .len(),
            1
        );
        assert_eq!(OpResult::from_json(&json!({})), OpResult::Empty);
    }
}

//! Database schemas as `get_schema` returns them (RFC 7047 §3.2).
//!
//! The schema is what makes diff and apply table-agnostic: column types (scalar, optional,
//! set, map), references between tables and whether a table is a root all come from here,
//! never from hand-written tables.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, de};
use serde_json::Value;

use super::datum::{Datum, NotationError};

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSchema {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub cksum: Option<String>,
    pub tables: BTreeMap<String, TableSchema>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TableSchema {
    pub columns: BTreeMap<String, ColumnSchema>,
    #[serde(rename = "maxRows", default)]
    pub max_rows: Option<u64>,
    /// Absent means false. (ovsdb-server treats every table as a root only in the legacy case
    /// of a schema that names `isRoot` nowhere; OVN's schemas always name it.)
    #[serde(rename = "isRoot", default)]
    pub is_root: bool,
    #[serde(default)]
    pub indexes: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnSchema {
    #[serde(rename = "type")]
    pub ty: ColumnType,
    #[serde(default)]
    pub ephemeral: bool,
    #[serde(default = "yes")]
    pub mutable: bool,
}

fn yes() -> bool {
    true
}

/// The atomic types of RFC 7047.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AtomicType {
    Integer,
    Real,
    Boolean,
    String,
    Uuid,
}

impl AtomicType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AtomicType::Integer => "integer",
            AtomicType::Real => "real",
            AtomicType::Boolean => "boolean",
            AtomicType::String => "string",
            AtomicType::Uuid => "uuid",
        }
    }

    fn parse(s: &str) -> Option<AtomicType> {
        Some(match s {
            "integer" => AtomicType::Integer,
            "real" => AtomicType::Real,
            "boolean" => AtomicType::Boolean,
            "string" => AtomicType::String,
            "uuid" => AtomicType::Uuid,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefType {
    Strong,
    Weak,
}

/// A key or value type: the atomic type plus its constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseType {
    pub atomic: AtomicType,
    /// Allowed values, when the schema restricts them.
    pub enumeration: Option<Datum>,
    pub ref_table: Option<String>,
    pub ref_type: RefType,
    pub min_integer: Option<i64>,
    pub max_integer: Option<i64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

impl BaseType {
    pub(crate) fn new(atomic: AtomicType) -> BaseType {
        BaseType {
            atomic,
            enumeration: None,
            ref_table: None,
            ref_type: RefType::Strong,
            min_integer: None,
            max_integer: None,
            min_length: None,
            max_length: None,
        }
    }

    fn from_json(value: &Value) -> Result<BaseType, String> {
        match value {
            Value::String(s) => AtomicType::parse(s)
                .map(BaseType::new)
                .ok_or_else(|| format!("unknown atomic type {s:?}")),
            Value::Object(o) => {
                let ty = o
                    .get("type")
                    .and_then(Value::as_str)
                    .and_then(AtomicType::parse)
                    .ok_or("base type without a valid \"type\"")?;
                let mut base = BaseType::new(ty);
                if let Some(e) = o.get("enum") {
                    base.enumeration =
                        Some(Datum::from_json(e).map_err(|e: NotationError| e.to_string())?);
                }
                base.ref_table = o.get("refTable").and_then(Value::as_str).map(str::to_owned);
                if o.get("refType").and_then(Value::as_str) == Some("weak") {
                    base.ref_type = RefType::Weak;
                }
                base.min_integer = o.get("minInteger").and_then(Value::as_i64);
                base.max_integer = o.get("maxInteger").and_then(Value::as_i64);
                base.min_length = o.get("minLength").and_then(Value::as_u64);
                base.max_length = o.get("maxLength").and_then(Value::as_u64);
                Ok(base)
            }
            other => Err(format!("invalid base type {other}")),
        }
    }
}

/// A column type: key type, optional value type (a map), and the element count bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnType {
    pub key: BaseType,
    pub value: Option<BaseType>,
    pub min: u64,
    /// `None` is "unlimited".
    pub max: Option<u64>,
}

impl ColumnType {
    pub(crate) fn is_map(&self) -> bool {
        self.value.is_some()
    }

    #[cfg(test)]
    /// Exactly one value: written as a bare atom by clients such as ovn-nbctl.
    pub(crate) fn is_scalar(&self) -> bool {
        self.value.is_none() && self.min == 1 && self.max == Some(1)
    }

    #[cfg(test)]
    /// Zero or one value.
    pub(crate) fn is_optional(&self) -> bool {
        self.value.is_none() && self.min == 0 && self.max == Some(1)
    }

    /// The table referenced by keys (or values, for maps) of this column, if any.
    pub(crate) fn references(&self) -> impl Iterator<Item = (&str, RefType)> {
        std::iter::once(&self.key)
            .chain(self.value.as_ref())
            .filter_map(|b| b.ref_table.as_deref().map(|t| (t, b.ref_type)))
    }

    /// The value a column takes when an insert does not name it (RFC 7047 §5.1 defaults).
    pub(crate) fn default_datum(&self) -> Datum {
        use super::datum::Atom;
        if self.is_map() {
            return Datum::empty_map();
        }
        if self.min == 0 {
            return Datum::empty();
        }
        let atom = match self.key.atomic {
            AtomicType::Integer => Atom::Integer(0),
            AtomicType::Real => Atom::Real(0.0),
            AtomicType::Boolean => Atom::Boolean(false),
            AtomicType::String => Atom::String(String::new()),
            AtomicType::Uuid => Atom::Uuid(uuid::Uuid::nil()),
        };
        Datum::scalar(atom)
    }
}

impl<'de> Deserialize<'de> for ColumnType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        column_type_from_json(&value).map_err(de::Error::custom)
    }
}

fn column_type_from_json(value: &Value) -> Result<ColumnType, String> {
    match value {
        Value::String(_) => Ok(ColumnType {
            key: BaseType::from_json(value)?,
            value: None,
            min: 1,
            max: Some(1),
        }),
        Value::Object(o) => {
            let key = BaseType::from_json(o.get("key").ok_or("column type without \"key\"")?)?;
            let value = o.get("value").map(BaseType::from_json).transpose()?;
            let min = o
                .get("min")
                .map_or(Some(1), Value::as_u64)
                .ok_or("invalid \"min\"")?;
            let max = match o.get("max") {
                None => Some(1),
                Some(Value::String(s)) if s == "unlimited" => None,
                Some(v) => Some(v.as_u64().ok_or("invalid \"max\"")?),
            };
            Ok(ColumnType {
                key,
                value,
                min,
                max,
            })
        }
        other => Err(format!("invalid column type {other}")),
    }
}

impl DatabaseSchema {
    pub(crate) fn from_json(value: &Value) -> Result<DatabaseSchema, serde_json::Error> {
        DatabaseSchema::deserialize(value)
    }

    pub(crate) fn table(&self, name: &str) -> Option<&TableSchema> {
        self.tables.get(name)
    }

    /// The type of `table.column`, including the implicit `_uuid` and `_version` columns.
    pub fn column_type(&self, table: &str, column: &str) -> Option<ColumnType> {
        if column == "_uuid" || column == "_version" {
            return Some(ColumnType {
                key: BaseType::new(AtomicType::Uuid),
                value: None,
                min: 1,
                max: Some(1),
            });
        }
        self.tables
            .get(table)
            .and_then(|t| t.columns.get(column))
            .map(|c| c.ty.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_rfc_column_types() {
        let schema = DatabaseSchema::from_json(&json!({
            "name": "T", "version": "1.0.0",
            "tables": {
                "Parent": {
                    "isRoot": true,
                    "indexes": [["name"]],
                    "columns": {
                        "name": {"type": "string"},
                        "children": {"type": {"key": {"type": "uuid", "refTable": "Child"},
                                               "min": 0, "max": "unlimited"}},
                        "options": {"type": {"key": "string", "value": "string",
                                              "min": 0, "max": "unlimited"}},
                        "tag": {"type": {"key": {"type": "integer", "minInteger": 1,
                                                  "maxInteger": 4095}, "min": 0, "max": 1}},
                        "peer": {"type": {"key": {"type": "uuid", "refTable": "Child",
                                                   "refType": "weak"}, "min": 0, "max": 1}}
                    }
                },
                "Child": {"columns": {"kind": {"type": {"key": {"type": "string",
                    "enum": ["set", ["a", "b"]]}}}}}
            }
        }))
        .unwrap();
        let parent = schema.table("Parent").unwrap();
        assert!(parent.is_root);
        assert_eq!(parent.indexes, vec![vec!["name".to_owned()]]);
        assert!(schema.column_type("Parent", "name").unwrap().is_scalar());
        let children = schema.column_type("Parent", "children").unwrap();
        assert_eq!(children.max, None);
        assert_eq!(
            children.references().collect::<Vec<_>>(),
            vec![("Child", RefType::Strong)]
        );
        assert!(schema.column_type("Parent", "options").unwrap().is_map());
        let tag = schema.column_type("Parent", "tag").unwrap();
        assert!(tag.is_optional());
        assert_eq!(tag.key.max_integer, Some(4095));
        assert_eq!(
            schema.column_type("Parent", "peer").unwrap().key.ref_type,
            RefType::Weak
        );
        assert!(!schema.table("Child").unwrap().is_root);
        assert!(schema.column_type("Child", "_uuid").unwrap().is_scalar());
        assert_eq!(
            schema
                .column_type("Child", "kind")
                .unwrap()
                .key
                .enumeration
                .unwrap()
                .len(),
            2
        );
    }
}

//! The plan: what apply will change, in apply order, and what it read to decide.
//!
//! A plan is data: renderers show it (text, JSON, Markdown), apply turns it into one
//! transaction, and `topo plan -o FILE` saves it. The JSON form is versioned
//! ([`FORMAT_VERSION`]); its field names are stable and documented in `docs/plan-format.md`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use crate::ovsdb::{Atom, Datum};
use crate::rows::{Cell, Db, RowKey, RowRef, Value};

/// Bumped whenever a consumer of the JSON must change.
pub(crate) const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub(crate) fn symbol(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Delete => '-',
        }
    }
}

/// One column's change. `before` is absent for creates, `after` for deletes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnChange {
    pub column: String,
    #[serde(with = "opt_cell", default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Cell>,
    #[serde(with = "opt_cell", default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Cell>,
}

/// One row to create, update or delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub action: Action,
    pub db: Db,
    pub table: String,
    pub key: RowKey,
    /// Creates: every column set; updates: the columns that differ; deletes: the row's
    /// columns as they were (for review).
    pub columns: Vec<ColumnChange>,
}

/// Something that blocks the plan: apply refuses to run while any exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Conflict {
    /// The topology wants a row whose natural key is held by a row topo does not own.
    Unowned {
        db: Db,
        table: String,
        key: RowKey,
        uuid: Uuid,
        /// The stack that owns it, if another stack does.
        owner: Option<String>,
    },
    /// Several live rows claim one natural key.
    Duplicate {
        db: Db,
        table: String,
        key: RowKey,
        uuids: Vec<Uuid>,
    },
}

/// What a row looked like when the plan read it; `None` means "expected absent".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRow {
    pub db: Db,
    pub table: String,
    pub key: RowKey,
    pub uuid: Option<Uuid>,
    /// `_version`: per server in a RAFT cluster, so only a fallback for plans without `digest`.
    pub version: Option<Uuid>,
    /// [`LiveRow::digest`](crate::rows::live::LiveRow::digest) of the row as read: what a saved plan
    /// compares (absent for rows expected absent, and in plans made before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The rows a plan depended on: every row of the stack, every row whose key the topology
/// wants, and the keys it expects to be free.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadSet {
    pub rows: Vec<ReadRow>,
}

/// A chassis whose own `Open_vSwitch` database apply will change, read through the chassis's
/// management remote: its `ovn-bridge-mappings` entries and provider bridges. Apply edits
/// entries, so the mappings after keep every entry the stack does not own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChassisChange {
    pub chassis: String,
    /// The chassis's `Open_vSwitch` database, as apply will reach it.
    pub remote: String,
    /// `external_ids:ovn-bridge-mappings` as read, and as apply will leave it.
    pub bridge_mappings_before: String,
    pub bridge_mappings_after: String,
    /// The networks of the stack's own entries (`external_ids:topo:<stack>:bridge-mappings`),
    /// as read and after.
    pub owned_before: String,
    pub owned_after: String,
    /// Provider bridges apply will create.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridges_added: Vec<String>,
    /// NICs apply will add, by bridge (a new bridge's included).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ports_added: std::collections::BTreeMap<String, Vec<String>>,
    /// `external_ids` settings apply will set (`ovn-encap-type`, `ovn-encap-ip`,
    /// `ovn-remote`), as read and after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings_changed: Vec<SettingChange>,
    /// What the topology wants on the chassis: network → bridge, and bridge → NICs (what
    /// applying a saved plan writes).
    pub bridge_mappings: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub bridges: std::collections::BTreeMap<String, Vec<String>>,
    /// The `external_ids` settings the topology wants (key → value).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub settings: std::collections::BTreeMap<String, String>,
    /// The bridges' datapath type (`netdev` in a lab; empty: the default).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub datapath_type: String,
}

/// One `external_ids` key of a chassis that apply sets; `before` is absent when unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChange {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    pub after: String,
}

/// A row the stack does not own, as a plan names it: by its natural key when the live reader
/// could key it, else by table and UUID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ForeignRow {
    pub db: Db,
    pub table: String,
    /// Absent when the live reader could not key the row (no natural key, or a table it does
    /// not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<RowKey>,
    pub uuid: Option<Uuid>,
    /// The stack that owns it, when another stack does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A column of a row the stack owns that refers to a [`ForeignRow`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Referrer {
    pub table: String,
    pub key: RowKey,
    pub column: String,
}

/// A reference from an owned row to a row the stack does not own, which the topology does
/// not list: apply keeps it in the owned row's column (it is drift, not a change).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ForeignKept {
    pub row: ForeignRow,
    pub by: Referrer,
}

/// What the plan would do to a row the stack does not own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fate {
    /// Deleted by the database: a row of a non-root table loses its last strong reference
    /// (OVSDB garbage-collects it when the transaction commits).
    Deleted,
    /// It stays, but loses a reference from an owned row (the row is deleted, or its column
    /// no longer holds it): a load balancer no longer attached to a switch, a child still
    /// held by another parent.
    Detached,
}

/// A row the stack does not own that the plan would delete or detach: apply refuses the plan
/// unless told to allow it (`--allow-foreign-loss`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignAtRisk {
    pub row: ForeignRow,
    pub fate: Fate,
    /// The owned rows (deleted or updated by the plan) whose references to it go.
    pub by: Vec<Referrer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    /// In apply order: creates (referenced rows first), updates, deletes.
    pub changes: Vec<Change>,
    /// Owned rows that left the topology but are kept (`--no-prune`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Change>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// References from owned rows to rows the stack does not own that the topology does not
    /// list: kept (drift, reported; not a change).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_kept: Vec<ForeignKept>,
    /// Rows the stack does not own that the changes would delete or detach: apply refuses the
    /// plan without `--allow-foreign-loss`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_at_risk: Vec<ForeignAtRisk>,
    /// Chassis whose own database apply will change (filled by the commands that can reach
    /// the chassis; the row diff never does).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chassis: Vec<ChassisChange>,
    /// Chassis with a management remote that were not read (`--chassis reachable` when one
    /// did not answer, or `--chassis none`): the plan says nothing about them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chassis_unchecked: Vec<UncheckedChassis>,
    /// Hardware VTEPs whose own database apply will change (filled like `chassis`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vteps: Vec<VtepChange>,
    /// Gateways whose chassis the Southbound shows without their physical network (filled by
    /// the commands that read the Southbound; `diff::gateways`): errors block apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateways: Vec<super::gateways::GatewayFinding>,
    pub read: ReadSet,
}

/// A hardware VTEP whose `hardware_vtep` database apply will change, read through its
/// management remote. Apply adds and sets, and removes only bindings the stack wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VtepChange {
    /// The physical switch (`Physical_Switch.name`).
    pub vtep: String,
    pub remote: String,
    /// The `Physical_Switch` row is missing: apply creates it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub switch_created: bool,
    /// `tunnel_ips` as read and after, when they differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_ips: Option<(Vec<String>, Vec<String>)>,
    /// `Logical_Switch` rows apply creates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logical_switches_added: Vec<String>,
    /// Bindings apply sets or removes: port, VLAN, logical switch as read (none: unbound),
    /// and after (none: removed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<BindingChange>,
    /// Ports the topology binds that the switch does not publish (apply cannot bind them:
    /// the switch creates its own `Physical_Port` rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_ports: Vec<String>,
    /// What the stack wants there, for apply.
    pub tunnel_ip: String,
    /// The stack whose bindings these are (the key of its ownership mark).
    #[serde(default)]
    pub stack: String,
    pub wanted_bindings:
        std::collections::BTreeMap<String, std::collections::BTreeMap<i64, String>>,
}

/// One VLAN binding of a VTEP physical port: `before` none is a new binding, `after` none
/// the removal of one the stack wrote and no longer wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingChange {
    pub port: String,
    pub vlan: i64,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A chassis a plan did not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UncheckedChassis {
    pub chassis: String,
    pub remote: String,
    pub reason: String,
}

impl Plan {
    /// No row and no chassis to change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.chassis.is_empty() && self.vteps.is_empty()
    }

    /// Counts of creates, updates, deletes.
    pub fn summary(&self) -> (usize, usize, usize) {
        let count = |a| self.changes.iter().filter(|c| c.action == a).count();
        (
            count(Action::Create),
            count(Action::Update),
            count(Action::Delete),
        )
    }
}

/// A cell in the plan's JSON: `{"set": [..]}` or `{"map": [[k, v], ..]}`; atoms in RFC 7047
/// notation, references as `{"ref": [table, key...]}`.
pub(crate) fn cell_to_json(cell: &Cell) -> Json {
    match cell {
        Datum::Set(s) => json!({"set": s.iter().map(value_to_json).collect::<Vec<_>>()}),
        Datum::Map(m) => json!({
            "map": m.iter().map(|(k, v)| json!([value_to_json(k), value_to_json(v)])).collect::<Vec<_>>()
        }),
    }
}

fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Atom(a) => a.to_json(),
        Value::Ref(r) => {
            let mut parts = vec![r.table.clone()];
            parts.extend(r.key.0.iter().cloned());
            json!({"ref": parts})
        }
    }
}

mod opt_cell {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(cell: &Option<Cell>, s: S) -> Result<S::Ok, S::Error> {
        cell.as_ref().map(cell_to_json).serialize(s)
    }

    /// Straight from the text, without a `serde_json::Value` per cell (a saved plan of
    /// 15,000 changes holds over 100,000 cells): the notation [`cell_to_json`] writes.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cell>, D::Error> {
        Option::<WireCell>::deserialize(d).map(|c| c.map(|WireCell(cell)| cell))
    }

    /// `{"set": [value, ...]}` or `{"map": [[key, value], ...]}`.
    struct WireCell(Cell);

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase", deny_unknown_fields)]
    enum CellForm {
        Set(Vec<WireValue>),
        Map(Vec<(WireValue, WireValue)>),
    }

    impl<'de> Deserialize<'de> for WireCell {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(WireCell(match CellForm::deserialize(d)? {
                CellForm::Set(values) => Datum::Set(values.into_iter().map(|v| v.0).collect()),
                CellForm::Map(pairs) => {
                    Datum::Map(pairs.into_iter().map(|(k, v)| (k.0, v.0)).collect())
                }
            }))
        }
    }

    /// An atom in OVSDB's notation, or `{"ref": [table, key...]}`.
    struct WireValue(Value);

    impl<'de> Deserialize<'de> for WireValue {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ValueVisitor).map(WireValue)
        }
    }

    struct ValueVisitor;

    impl<'de> serde::de::Visitor<'de> for ValueVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an OVSDB atom or {\"ref\": [table, key...]}")
        }
        fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
            Ok(Value::Atom(Atom::Boolean(b)))
        }
        fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
            Ok(Value::Atom(Atom::Integer(i)))
        }
        fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
            i64::try_from(u)
                .map(|i| Value::Atom(Atom::Integer(i)))
                .map_err(|_| E::custom("number out of range"))
        }
        fn visit_f64<E>(self, r: f64) -> Result<Value, E> {
            Ok(Value::Atom(Atom::Real(r)))
        }
        fn visit_str<E>(self, s: &str) -> Result<Value, E> {
            Ok(Value::Atom(Atom::String(s.to_owned())))
        }
        fn visit_string<E>(self, s: String) -> Result<Value, E> {
            Ok(Value::Atom(Atom::String(s)))
        }
        /// `["uuid", "…"]` or `["named-uuid", "…"]`.
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            use serde::de::Error;
            let tag: String = seq
                .next_element()?
                .ok_or_else(|| A::Error::custom("expected an atom"))?;
            let id: String = seq
                .next_element()?
                .ok_or_else(|| A::Error::custom("expected an atom"))?;
            if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                return Err(A::Error::custom("expected an atom"));
            }
            match tag.as_str() {
                "uuid" => Uuid::parse_str(&id)
                    .map(|u| Value::Atom(Atom::Uuid(u)))
                    .map_err(|_| A::Error::custom("malformed uuid")),
                "named-uuid" => Ok(Value::Atom(Atom::NamedUuid(id))),
                _ => Err(A::Error::custom("expected an atom")),
            }
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            use serde::de::Error;
            let Some(key) = map.next_key::<String>()? else {
                return Err(A::Error::custom("expected an atom"));
            };
            if key != "ref" {
                return Err(A::Error::custom("expected an atom"));
            }
            let parts: Vec<String> = map.next_value()?;
            if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
                return Err(A::Error::custom("invalid ref"));
            }
            let mut parts = parts.into_iter();
            let table = parts.next().ok_or_else(|| A::Error::custom("empty ref"))?;
            Ok(Value::Ref(Box::new(RowRef {
                table,
                key: RowKey(parts.collect()),
            })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_through_the_plan_json() {
        let cells: Vec<Cell> = vec![
            Datum::scalar(Value::from("ls1")),
            Datum::empty(),
            Datum::set([
                Value::Ref(Box::new(RowRef {
                    table: "NAT".into(),
                    key: RowKey(vec!["lr".into(), "snat".into()]),
                })),
                Value::Atom(Atom::Uuid(Uuid::from_u128(9))),
                Value::Atom(Atom::NamedUuid("row1".into())),
            ]),
            Datum::map([
                (Value::from("k"), Value::from("v")),
                (Value::from("n"), Value::from(3)),
                (Value::from("b"), Value::Atom(Atom::Boolean(true))),
            ]),
            Datum::scalar(Value::Atom(Atom::Real(1.5))),
            Datum::scalar(Value::Atom(Atom::Integer(-7))),
        ];
        for c in cells {
            let change = ColumnChange {
                column: "c".into(),
                before: Some(c.clone()),
                after: None,
            };
            let text = serde_json::to_string(&change).unwrap();
            let back: ColumnChange = serde_json::from_str(&text).unwrap();
            assert_eq!(back, change, "{text}");
        }
    }

    #[test]
    fn a_damaged_cell_is_refused_not_guessed() {
        for cell in [
            r#"{"set": [["uuid", "not-a-uuid"]]}"#,
            r#"{"set": [["other", "x"]]}"#,
            r#"{"set": [["uuid"]]}"#,
            r#"{"set": [{"ref": []}]}"#,
            r#"{"set": [{"nope": ["t"]}]}"#,
            r#"{"map": [["k"]]}"#,
            r#"{"list": []}"#,
            r#"{"set": [], "map": []}"#,
            r#"{"set": [18446744073709551615]}"#,
        ] {
            let text = format!(r#"{{"column": "c", "after": {cell}}}"#);
            assert!(
                serde_json::from_str::<ColumnChange>(&text).is_err(),
                "accepted {cell}"
            );
        }
    }
}

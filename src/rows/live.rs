//! The live state as the row model holds it: what the live reader (`crate::live`) produces
//! and diff, apply and import consume.
//!
//! A [`Live`] is a [`State`] of every keyed row read, plus, per row, what apply needs and the
//! plan must not show ([`LiveRow`]: UUID, `_version`, digest of the cells), the natural keys
//! more than one row claims ([`Duplicate`]) and the rows without a key (`Live::others`). These
//! are data types only: reading (`live::read`, `live::watch`) stays in `crate::live`, so
//! `diff` depends on `rows` alone.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::{Db, Row, RowKey, State, Value};
use crate::ovsdb::{Atom, Columns, Datum};

/// One live row as apply needs it, beside its columns in [`Live::state`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRow {
    pub uuid: Uuid,
    /// `_version`: changes with every write to the row; what `wait` guards compare.
    pub version: Option<Uuid>,
    /// [`digest_of`] the row as read.
    pub digest: u64,
}

/// A natural key claimed by several rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub db: Db,
    pub table: String,
    pub key: RowKey,
    pub uuids: Vec<Uuid>,
}

/// The live state of one database.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Keyed rows in the row model.
    pub state: State,
    /// UUID and wire columns of each keyed row.
    pub rows: BTreeMap<(Db, String, RowKey), LiveRow>,
    /// Keys held by more than one row: the first row (lowest UUID) is in `state`.
    pub duplicates: Vec<Duplicate>,
    /// Rows read but not in `state` (no natural key, or a duplicate's later claim), kept so
    /// that a `live::watch` can bring the read up to date without losing any row.
    pub others: Vec<(String, Uuid, Columns)>,
    /// The database's schema, as read with the rows: which columns refer to which tables,
    /// strong or weak, and which tables are roots (what diff needs to keep references to rows
    /// the stack does not own, and to see which rows a change would delete or detach).
    /// `None` for a state built without a server (then no reference is kept or at risk).
    pub schema: Option<std::sync::Arc<crate::ovsdb::DatabaseSchema>>,
}

impl LiveRow {
    /// The digest as a saved plan records it: `v2:` and 16 hex digits. (Plans of topo before
    /// v2 hashed the wire JSON; their digests have no prefix and are not comparable.)
    pub(crate) fn digest(&self) -> String {
        format!("{DIGEST_PREFIX}{:016x}", self.digest)
    }
}

/// The prefix of [`LiveRow::digest`]s computed by [`digest_of`].
pub(crate) const DIGEST_PREFIX: &str = "v2:";

/// A digest of a row's columns (FNV-1a, 64 bits, over an explicit encoding of every column
/// name and value, references by key): what a saved plan compares to see whether a row moved.
/// Unlike `_version`, which each member of a RAFT cluster makes up on its own when it applies
/// a transaction, the content is the same on every member, so a saved plan survives a change
/// of leader. The encoding is written out here, not derived, so it stays the same across Rust
/// releases.
pub(crate) fn digest_of(row: &Row) -> u64 {
    struct Fnv(u64);
    impl Fnv {
        fn bytes(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 ^= u64::from(*b);
                self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        fn text(&mut self, tag: u8, s: &str) {
            self.bytes(&[tag]);
            self.bytes(&(s.len() as u64).to_le_bytes());
            self.bytes(s.as_bytes());
        }
        fn value(&mut self, v: &Value) {
            match v {
                Value::Atom(Atom::Integer(i)) => {
                    self.bytes(b"i");
                    self.bytes(&i.to_le_bytes());
                }
                Value::Atom(Atom::Real(r)) => {
                    self.bytes(b"r");
                    self.bytes(&r.to_bits().to_le_bytes());
                }
                Value::Atom(Atom::Boolean(b)) => self.bytes(if *b { b"T" } else { b"F" }),
                Value::Atom(Atom::String(s)) => self.text(b's', s),
                Value::Atom(Atom::Uuid(u)) => {
                    self.bytes(b"u");
                    self.bytes(u.as_bytes());
                }
                Value::Atom(Atom::NamedUuid(n)) => self.text(b'n', n),
                Value::Ref(r) => {
                    self.text(b'R', &r.table);
                    self.bytes(&(r.key.0.len() as u64).to_le_bytes());
                    for part in &r.key.0 {
                        self.text(b'k', part);
                    }
                }
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for (column, cell) in &row.columns {
        h.text(b'c', column);
        match cell {
            Datum::Set(s) => {
                h.bytes(b"S");
                h.bytes(&(s.len() as u64).to_le_bytes());
                for v in s {
                    h.value(v);
                }
            }
            Datum::Map(m) => {
                h.bytes(b"M");
                h.bytes(&(m.len() as u64).to_le_bytes());
                for (k, v) in m {
                    h.value(k);
                    h.value(v);
                }
            }
        }
    }
    h.0
}

impl Live {
    pub(crate) fn row(&self, db: &Db, table: &str, key: &RowKey) -> Option<&LiveRow> {
        self.rows.get(&(db.clone(), table.to_owned(), key.clone()))
    }

    /// The table and key of each keyed row, by UUID.
    pub(crate) fn uuid_index(&self) -> HashMap<Uuid, (&str, &RowKey)> {
        self.rows
            .iter()
            .map(|((_, table, key), row)| (row.uuid, (table.as_str(), key)))
            .collect()
    }

    /// A keyed row's columns as the server sent them, `_version` included: references by key
    /// turned back into the UUIDs of the rows they name.
    pub(crate) fn wire_columns(&self, db: &Db, table: &str, key: &RowKey) -> Option<Columns> {
        let row = self.state.get(db, table, key)?;
        let mut columns = self.to_wire(db, row);
        if let Some(v) = self.row(db, table, key)?.version {
            columns.insert("_version".to_owned(), Datum::scalar(Atom::Uuid(v)));
        }
        Some(columns)
    }

    fn to_wire(&self, db: &Db, row: &Row) -> Columns {
        row.columns
            .iter()
            .map(|(c, cell)| {
                let datum = cell
                    .try_map_atoms::<Atom, std::convert::Infallible>(|v| {
                        Ok(match v {
                            Value::Atom(a) => a.clone(),
                            Value::Ref(r) => self
                                .row(db, &r.table, &r.key)
                                .map_or(Atom::Uuid(Uuid::nil()), |t| Atom::Uuid(t.uuid)),
                        })
                    })
                    .unwrap_or_default();
                (c.clone(), datum)
            })
            .collect()
    }

    /// Every row read, by table and UUID, as the server sent it (with `_version`): the
    /// inverse of `live::build`. `None` when keys are duplicated: a reference by key cannot say
    /// which of the rows holding the key it named.
    pub(crate) fn into_raw(self) -> Option<Raw> {
        if !self.duplicates.is_empty() {
            return None;
        }
        let mut raw = Raw::new();
        for ((db, table, key), live) in &self.rows {
            if let Some(columns) = self.wire_columns(db, table, key) {
                raw.entry(table.clone())
                    .or_default()
                    .insert(live.uuid, columns);
            }
        }
        for (table, uuid, columns) in self.others {
            raw.entry(table).or_default().insert(uuid, columns);
        }
        Some(raw)
    }
}

/// Rows as read: table → UUID → wire columns.
pub(crate) type Raw = BTreeMap<String, BTreeMap<Uuid, Columns>>;

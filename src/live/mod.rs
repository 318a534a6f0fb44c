//! The live databases: reading the Northbound into the row model, and the clients of the
//! Southbound's chassis and of each chassis's own `Open_vSwitch` database.
//!
//! This file is the Northbound reader. It turns what ovsdb-server holds into a
//! [`Live`]: the same [`State`](crate::rows::State) the compiler
//! emits, every row of a keyed table (see [`identity`]) under its natural key, with UUID
//! references replaced by references by key, plus per row what apply needs and the plan must
//! not show (UUID, `_version` for `wait` guards, a digest of its cells for saved plans), the
//! natural keys more than one row claims (switch and router names are not unique in the NB
//! schema, and a clustered NB can even commit a transaction twice) and the rows without a key,
//! so nothing read is lost. The data types live in `rows::live`; only reading is here.
//!
//! Reading is one `monitor_cond` of the managed tables, initial rows only, then cancelled: the
//! cheapest full read ovsdb-server offers (see `shared/research/perf-anchors.md` and
//! `docs/performance.md`), decoded straight from
//! the reply's text. [`watch`] is the same read with the monitor left open, brought up to date
//! after an apply. [`southbound`] reads the chassis registered in the Southbound (status,
//! import, drift, apply); [`vswitch`] is the one reader and writer of a chassis's
//! `Open_vSwitch` database (plan, drift, apply and the lab).

pub(crate) mod southbound;
pub mod vswitch;
pub mod vtep;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;
use uuid::Uuid;

use crate::ovsdb::{
    self, Atom, Client, Columns, DatabaseSchema, Datum, MonitorRequest, MonitorSelect,
};
use crate::parallel::each_on_threads;
use crate::rows::identity::{self, Rule};
use crate::rows::live::{Duplicate, Live, LiveRow, Raw, digest_of};
use crate::rows::{Db, Row, RowKey, RowRef, Value};

/// The Northbound tables topo writes, in the order they are listed to users.
pub const NB_TABLES: &[&str] = &[
    "Logical_Switch",
    "Logical_Switch_Port",
    "Logical_Router",
    "Logical_Router_Port",
    "Logical_Router_Static_Route",
    "Logical_Router_Policy",
    "NAT",
    "Gateway_Chassis",
    "HA_Chassis_Group",
    "HA_Chassis",
    "Address_Set",
    "Port_Group",
    "ACL",
    "QoS",
    "Load_Balancer",
    "Load_Balancer_Health_Check",
    "Load_Balancer_Group",
    "DHCP_Options",
    "DNS",
];

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Ovsdb(#[from] ovsdb::Error),
    #[error("the {database} schema has no table {table}: is this an OVN release topo supports?")]
    MissingTable { database: String, table: String },
    #[error("reading {table}: {message}")]
    Decode { table: String, message: String },
}

/// Reads `tables` of the Northbound database.
pub async fn read_nb(client: &Client, schema: &DatabaseSchema) -> Result<Live, Error> {
    read(client, schema, Db::Northbound, NB_TABLES).await
}

/// Reads `tables` (plus the parents their keys need) of `db` through `client`.
pub(crate) async fn read(
    client: &Client,
    schema: &DatabaseSchema,
    db: Db,
    tables: &[&str],
) -> Result<Live, Error> {
    let initial_only = MonitorSelect {
        initial: true,
        insert: false,
        delete: false,
        modify: false,
    };
    let requests = requests(schema, tables, initial_only)?;
    let id = json!(format!("topo-read-{}", Uuid::new_v4()));
    let mut raw = client
        .monitor_cond_rows(schema, id.clone(), &requests)
        .await?;
    // The monitor only delivered initial rows; cancelling frees it on the server.
    client.monitor_cancel(id).await?;
    crate::timings::phase("monitor_cond reply, decoded");
    for (table, rows) in &mut raw {
        for columns in rows.values_mut() {
            fill_defaults(schema, table, columns);
        }
    }
    let live = build(schema, db, raw);
    crate::timings::phase("key rows");
    Ok(live)
}

/// The monitor requests of a read: every column of `tables` and of the parents their keys
/// need, plus `_version`, which a monitor only sends when named.
fn requests(
    schema: &DatabaseSchema,
    tables: &[&str],
    select: MonitorSelect,
) -> Result<BTreeMap<String, MonitorRequest>, Error> {
    let mut wanted: BTreeSet<&str> = tables.iter().copied().collect();
    for t in tables {
        for (parent, _) in identity::parents(t) {
            wanted.insert(parent);
        }
    }
    wanted
        .iter()
        .map(|t| {
            let ts = schema.table(t).ok_or_else(|| Error::MissingTable {
                database: schema.name.clone(),
                table: (*t).to_owned(),
            })?;
            let columns = ts
                .columns
                .keys()
                .cloned()
                .chain(["_version".to_owned()])
                .collect();
            let request = MonitorRequest {
                columns: Some(columns),
                select: Some(select),
                ..MonitorRequest::all()
            };
            Ok(((*t).to_owned(), request))
        })
        .collect()
}

/// Fills in the columns a monitor leaves out because they hold their default value.
fn fill_defaults(schema: &DatabaseSchema, table: &str, columns: &mut Columns) {
    let Some(ts) = schema.table(table) else {
        return;
    };
    if ts.columns.keys().all(|name| columns.contains_key(name)) {
        return;
    }
    // Both are sorted by name: merged, then built in one pass (inserting one by one into
    // the map was a tenth of a read's conversion).
    let mut have = std::mem::take(columns).into_iter().peekable();
    let mut merged = Vec::with_capacity(ts.columns.len() + 2);
    for (name, column) in &ts.columns {
        while have.peek().is_some_and(|(c, _)| c < name) {
            merged.extend(have.next());
        }
        match have.peek() {
            Some((c, _)) if c == name => merged.extend(have.next()),
            _ => merged.push((name.clone(), column.ty.default_datum())),
        }
    }
    merged.extend(have);
    *columns = merged.into_iter().collect();
}

/// Keys every row, then converts references. Pure, so it is tested without a server. It
/// consumes what was read: each row's wire columns move into its [`LiveRow`] instead of being
/// copied (a copy of the whole database at 15k rows).
pub(super) fn build(schema: &DatabaseSchema, db: Db, raw: Raw) -> Live {
    // Keys by row UUID, with the table's name (shared by every reference to the row).
    let tables: Vec<String> = raw.keys().cloned().collect();
    let mut keys: HashMap<Uuid, (&str, RowKey)> = HashMap::new();
    // 1. Rows keyed by their own columns. Only the columns a key is made of are converted.
    for (table, rows) in tables.iter().zip(raw.values()) {
        if let Some(Rule::Name | Rule::Singleton | Rule::Tagged) = identity::rule(table) {
            for (uuid, columns) in rows {
                if let Some(key) = wire_key(table, columns, None) {
                    keys.insert(*uuid, (table.as_str(), key));
                }
            }
        }
    }
    // 2. Children, keyed under their parent's key.
    let mut children = Vec::new();
    for (table, rows) in tables.iter().zip(raw.values()) {
        let parents = identity::parents(table);
        if parents.is_empty() {
            continue;
        }
        let mut parent_of: HashMap<Uuid, &RowKey> = HashMap::new();
        for (parent_table, parent_column) in parents {
            for (parent_uuid, parent) in raw.get(*parent_table).into_iter().flatten() {
                let Some((_, parent_key)) = keys.get(parent_uuid) else {
                    continue;
                };
                let Some(set) = parent.get(*parent_column).and_then(Datum::as_set) else {
                    continue;
                };
                for child in set {
                    if let Some(u) = child.as_uuid() {
                        parent_of.entry(u).or_insert(parent_key);
                    }
                }
            }
        }
        for (uuid, columns) in rows {
            let Some(parent_key) = parent_of.get(uuid) else {
                continue;
            };
            if let Some(key) = wire_key(table, columns, Some(parent_key)) {
                children.push((*uuid, (table.as_str(), key)));
            }
        }
    }
    keys.extend(children);

    let ref_columns = ref_columns(schema);

    // 3. Rows with references by key; the first claim of a key wins (UUID order, so the
    // choice is deterministic). Each table's rows are taken out of `raw` whole, in UUID
    // order, and sorted by key: the later claims of a key and the rows without one are left
    // over, in UUID order.
    let mut work = Vec::with_capacity(keys.len());
    let mut left_over: Vec<(usize, Vec<(Uuid, Columns)>)> = Vec::new();
    for (t, rows) in raw.into_values().enumerate() {
        let mut keyed: Vec<(&RowKey, Uuid, Columns)> = Vec::with_capacity(rows.len());
        let mut rest = Vec::new();
        for (uuid, columns) in rows {
            match keys.get(&uuid) {
                Some((_, key)) => keyed.push((key, uuid, columns)),
                None => rest.push((uuid, columns)),
            }
        }
        let mut claims = by_key(keyed).into_iter().peekable();
        while let Some((key, uuid, columns)) = claims.next() {
            let mut uuids = vec![uuid];
            while let Some((_, later, columns)) = claims.next_if(|(k, ..)| *k == key) {
                uuids.push(later);
                rest.push((later, columns));
            }
            work.push((t, uuids, columns));
        }
        rest.sort_unstable_by_key(|(uuid, _)| *uuid);
        left_over.push((t, rest));
    }
    let mut live = Live {
        schema: Some(std::sync::Arc::new(schema.clone())),
        ..Live::default()
    };
    // Converting the rows is most of a read's CPU, and each row converts alone: two threads
    // (the server is idle by now, and so is the other core) each take half.
    type Work = Vec<(usize, Vec<Uuid>, Columns)>;
    type Done = Vec<(usize, Vec<Uuid>, Row, LiveRow)>;
    fn convert_part(
        part: Work,
        tables: &[String],
        ref_columns: &BTreeMap<&str, BTreeSet<&str>>,
        keys: &HashMap<Uuid, (&str, RowKey)>,
    ) -> Done {
        let no_refs = BTreeSet::new();
        part.into_iter()
            .map(|(t, uuids, columns)| {
                let refs = ref_columns.get(tables[t].as_str()).unwrap_or(&no_refs);
                let (row, live_row) = to_row(uuids[0], columns, refs, |u| {
                    keys.get(&u).map(|(t, k)| (*t, k))
                });
                (t, uuids, row, live_row)
            })
            .collect()
    }
    let converted: Done = if work.len() < 2000 {
        convert_part(work, &tables, &ref_columns, &keys)
    } else {
        let second = work.split_off(work.len() / 2);
        each_on_threads(2, vec![work, second], |part| {
            convert_part(part, &tables, &ref_columns, &keys)
        })
        .into_iter()
        .flatten()
        .collect()
    };
    let mut state: BTreeMap<String, BTreeMap<RowKey, Row>> = BTreeMap::new();
    // In (table, key) order, so both maps are built from sorted input.
    let mut live_rows = Vec::with_capacity(converted.len());
    let mut table_rows: Vec<(RowKey, Row)> = Vec::new();
    let mut current: Option<usize> = None;
    // Each key is moved out of `keys` (the references are converted): one copy fewer per row.
    for (t, uuids, row, live_row) in converted {
        let Some((_, key)) = keys.remove(&uuids[0]) else {
            continue;
        };
        let table = &tables[t];
        if current != Some(t) {
            if let Some(c) = current {
                state.insert(
                    tables[c].clone(),
                    std::mem::take(&mut table_rows).into_iter().collect(),
                );
            }
            current = Some(t);
        }
        live_rows.push(((db.clone(), table.clone(), key.clone()), live_row));
        if uuids.len() > 1 {
            live.duplicates.push(Duplicate {
                db: db.clone(),
                table: table.clone(),
                key: key.clone(),
                uuids,
            });
        }
        table_rows.push((key, row));
    }
    if let Some(c) = current {
        state.insert(tables[c].clone(), table_rows.into_iter().collect());
    }
    live.rows = live_rows.into_iter().collect();
    if !state.is_empty() {
        live.state.tables.insert(db.clone(), state);
    }
    // What is left: rows without a key and the later claims of duplicated keys.
    for (t, rows) in left_over {
        for (uuid, columns) in rows {
            live.others.push((tables[t].clone(), uuid, columns));
        }
    }
    live
}

/// From how many rows a table's claims are sorted on two threads.
const PARALLEL_SORT_MIN: usize = 4_000;

/// The claims of [`by_key`] on one thread (a test compares both ways).
#[cfg(test)]
fn by_key_on_one(mut rows: Vec<(&RowKey, Uuid, Columns)>) -> Vec<(&RowKey, Uuid, Columns)> {
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
    rows
}

/// A table's rows by (key, UUID). Comparing keys is a walk through memory, so a large table
/// is sorted in halves on two threads and merged.
fn by_key(mut rows: Vec<(&RowKey, Uuid, Columns)>) -> Vec<(&RowKey, Uuid, Columns)> {
    type Claim<'k> = (&'k RowKey, Uuid, Columns);
    let order = |a: &Claim<'_>, b: &Claim<'_>| a.0.cmp(b.0).then(a.1.cmp(&b.1));
    if rows.len() < PARALLEL_SORT_MIN {
        rows.sort_unstable_by(order);
        return rows;
    }
    let second = rows.split_off(rows.len() / 2);
    let mut halves = each_on_threads(2, vec![rows, second], |mut half| {
        half.sort_unstable_by(order);
        half
    })
    .into_iter();
    let (first, second) = (
        halves.next().unwrap_or_default(),
        halves.next().unwrap_or_default(),
    );
    let mut out = Vec::with_capacity(first.len() + second.len());
    let (mut a, mut b) = (first.into_iter().peekable(), second.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if order(x, y).is_le() => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        match next {
            Some(claim) => out.push(claim),
            None => return out,
        }
    }
}

/// Gives a row read without a key (one of `live.others`) the key `key`, as if it carried
/// its [`identity::NAME_TAG`]: the row moves into the state, and every reference to it becomes
/// a reference by key. For `topo import`, which names the `DHCP_Options` and `DNS` rows OVN
/// keeps no name for. `false` when no such row was read.
pub(crate) fn name_other(live: &mut Live, db: &Db, table: &str, uuid: Uuid, key: RowKey) -> bool {
    let Some(at) = live
        .others
        .iter()
        .position(|(t, u, _)| t == table && *u == uuid)
    else {
        return false;
    };
    let (_, _, columns) = live.others.remove(at);
    // These tables hold no references of their own.
    let (row, live_row) = to_row(uuid, columns, &BTreeSet::new(), |_| None);
    let target = Value::Ref(Box::new(RowRef {
        table: table.to_owned(),
        key: key.clone(),
    }));
    let old = Value::Atom(Atom::Uuid(uuid));
    if let Some(tables) = live.state.tables.get_mut(db) {
        for rows in tables.values_mut() {
            for r in rows.values_mut() {
                for (_, cell) in r.columns.iter_mut() {
                    if let Datum::Set(set) = cell
                        && set.contains(&old)
                    {
                        *cell = Datum::set(
                            set.iter()
                                .map(|v| if *v == old { target.clone() } else { v.clone() }),
                        );
                    }
                }
            }
        }
    }
    live.state.insert(db.clone(), table, key.clone(), row);
    live.rows
        .insert((db.clone(), table.to_owned(), key), live_row);
    true
}

/// The natural key of a row as read (see [`identity::key_of`]).
pub(super) fn wire_key(table: &str, columns: &Columns, parent: Option<&RowKey>) -> Option<RowKey> {
    identity::key_from(
        table,
        |c| columns.get(c)?.as_scalar(),
        || match columns
            .get("external_ids")?
            .as_map()?
            .get(&Atom::String(identity::NAME_TAG.to_owned()))?
        {
            Atom::String(s) => Some(s.as_str()),
            _ => None,
        },
        parent,
    )
}

/// A wire datum as a cell, moving its atoms.
fn into_cell(d: Datum) -> Datum<Value> {
    match d {
        // `Value::Atom` keeps the atoms' order, and is their size: no sort, no new vector.
        Datum::Set(s) => Datum::Set(s.map_ordered(Value::Atom)),
        Datum::Map(m) => Datum::Map(m.map_ordered(Value::Atom)),
    }
}

/// The columns holding references, per table (asking the schema per cell copies types).
pub(super) fn ref_columns(schema: &DatabaseSchema) -> BTreeMap<&str, BTreeSet<&str>> {
    schema
        .tables
        .iter()
        .map(|(t, ts)| {
            let refs = ts
                .columns
                .iter()
                .filter(|(_, c)| c.ty.references().next().is_some())
                .map(|(name, _)| name.as_str())
                .collect();
            (t.as_str(), refs)
        })
        .collect()
}

/// A keyed row's wire columns (with `_version`) as a row of the model and its [`LiveRow`]:
/// the cells move out of the wire columns; in the `refs` columns, UUIDs that `key_of` knows
/// become references by key.
pub(super) fn to_row<'k>(
    uuid: Uuid,
    columns: Columns,
    refs: &BTreeSet<&str>,
    key_of: impl Fn(Uuid) -> Option<(&'k str, &'k RowKey)>,
) -> (Row, LiveRow) {
    let mut version = None;
    let row = Row {
        columns: columns
            .into_iter()
            .filter_map(|(c, d)| {
                if c == "_version" {
                    version = d.as_scalar().and_then(Atom::as_uuid);
                }
                if c.starts_with('_') {
                    return None;
                }
                let cell = if refs.contains(c.as_str()) {
                    to_cell_refs(&d, &key_of)
                } else {
                    into_cell(d)
                };
                Some((c, cell))
            })
            .collect(),
    };
    let digest = digest_of(&row);
    (
        row,
        LiveRow {
            uuid,
            version,
            digest,
        },
    )
}

/// UUIDs of keyed rows become references by key; others (unkeyed or dangling) stay UUIDs.
fn to_cell_refs<'k>(
    d: &Datum,
    key_of: &impl Fn(Uuid) -> Option<(&'k str, &'k RowKey)>,
) -> Datum<Value> {
    d.try_map_atoms::<Value, std::convert::Infallible>(|a| {
        Ok(match a {
            Atom::Uuid(u) => match key_of(*u) {
                Some((table, key)) => Value::Ref(Box::new(RowRef {
                    table: table.to_owned(),
                    key: key.clone(),
                })),
                None => Value::Atom(a.clone()),
            },
            other => Value::Atom(other.clone()),
        })
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> DatabaseSchema {
        let text = r#"{"name": "OVN_Northbound", "version": "1.0.0", "tables": {
            "Logical_Router": {"columns": {
                "name": {"type": "string"},
                "nat": {"type": {"key": {"type": "uuid", "refTable": "NAT"},
                                 "min": 0, "max": "unlimited"}}}},
            "NAT": {"columns": {
                "type": {"type": "string"}, "external_ip": {"type": "string"},
                "logical_ip": {"type": "string"}, "options": {"type":
                    {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}}}}}"#;
        DatabaseSchema::from_json(&serde_json::from_str(text).expect("json")).expect("schema")
    }

    fn s(v: &str) -> Datum {
        Datum::scalar(Atom::from(v))
    }

    #[test]
    fn rows_are_keyed_by_name_and_children_under_their_parent() {
        let (lr, nat) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut raw: BTreeMap<String, BTreeMap<Uuid, Columns>> = BTreeMap::new();
        raw.entry("Logical_Router".into()).or_default().insert(
            lr,
            Columns::from_iter([
                ("name".to_owned(), s("lr2")),
                ("nat".to_owned(), Datum::set([Atom::Uuid(nat)])),
            ]),
        );
        raw.entry("NAT".into()).or_default().insert(
            nat,
            Columns::from_iter([
                ("type".to_owned(), s("snat")),
                ("external_ip".to_owned(), s("10.10.40.1")),
                ("logical_ip".to_owned(), s("10.10.10.0/24")),
                (
                    "options".to_owned(),
                    Datum::map([(Atom::from("stateless"), Atom::from("false"))]),
                ),
            ]),
        );
        let live = build(&schema(), Db::Northbound, raw);
        let nat_key = identity::nat_key("lr2", "snat", "10.10.40.1", "10.10.10.0/24");
        let router = live
            .state
            .get(&Db::Northbound, "Logical_Router", &RowKey::name("lr2"))
            .expect("router");
        assert_eq!(
            router.get("nat"),
            Some(&Datum::set([Value::Ref(Box::new(RowRef {
                table: "NAT".into(),
                key: nat_key.clone(),
            }))]))
        );
        // Every column is read, not only the key's.
        let row = live
            .state
            .get(&Db::Northbound, "NAT", &nat_key)
            .expect("nat");
        assert_eq!(row.columns.len(), 4);
        assert_eq!(
            live.row(&Db::Northbound, "NAT", &nat_key).map(|r| r.uuid),
            Some(nat)
        );
    }

    /// A large table: its claims sorted on two threads are the claims sorted on one, the first
    /// claim of a key (by UUID) wins, and the later claims and the unnamed rows are left over
    /// in UUID order.
    #[test]
    fn a_large_table_is_claimed_as_on_one_thread() {
        let n = 3 * PARALLEL_SORT_MIN;
        // UUIDs in an order unrelated to the names; every 7th name given twice, every 11th
        // row without a name.
        let uuid = |i: usize| Uuid::from_u128((i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let name = |i: usize| format!("lr{}", if i.is_multiple_of(7) { i + 1 } else { i });
        let keys: Vec<RowKey> = (0..n).map(|i| RowKey::name(name(i))).collect();
        let claims = || -> Vec<(&RowKey, Uuid, Columns)> {
            (0..n)
                .map(|i| (&keys[i], uuid(i), Columns::new()))
                .collect()
        };
        let order = |rows: Vec<(&RowKey, Uuid, Columns)>| -> Vec<(RowKey, Uuid)> {
            rows.into_iter().map(|(k, u, _)| (k.clone(), u)).collect()
        };
        assert_eq!(order(by_key(claims())), order(by_key_on_one(claims())));

        let mut raw: BTreeMap<String, BTreeMap<Uuid, Columns>> = BTreeMap::new();
        for i in 0..n {
            let mut columns = Columns::new();
            if !i.is_multiple_of(11) {
                columns.insert("name".to_owned(), s(&name(i)));
            }
            raw.entry("Logical_Router".into())
                .or_default()
                .insert(uuid(i), columns);
        }
        let live = build(&schema(), Db::Northbound, raw);
        let mut claims_of: BTreeMap<String, Vec<Uuid>> = BTreeMap::new();
        for i in (0..n).filter(|i| !i.is_multiple_of(11)) {
            claims_of.entry(name(i)).or_default().push(uuid(i));
        }
        assert_eq!(live.rows.len(), claims_of.len());
        for (key, uuids) in &claims_of {
            assert_eq!(
                live.row(
                    &Db::Northbound,
                    "Logical_Router",
                    &RowKey::name(key.clone())
                )
                .map(|r| r.uuid),
                uuids.iter().min().copied(),
                "{key}"
            );
        }
        let twice = claims_of.values().filter(|u| u.len() > 1).count();
        assert!(twice > 100);
        assert_eq!(live.duplicates.len(), twice);
        let left: Vec<Uuid> = live.others.iter().map(|(_, u, _)| *u).collect();
        assert_eq!(left.len(), n - claims_of.len());
        assert!(left.is_sorted(), "left over in UUID order");
    }
}

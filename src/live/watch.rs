//! A read kept up to date: apply reads the Northbound through a monitor it leaves open across
//! its transaction, then brings that read up to date from the server's update notifications
//! instead of reading the whole database again.
//!
//! The re-plan after an apply needs the database as it is after the commit. A second full
//! read costs as much as the first (the server serializes every row again); the updates cost
//! what changed. To know when the updates include the transaction, the monitor also watches
//! `NB_Global.external_ids`, where the transaction wrote its apply marker: ovsdb-server adds a
//! committed transaction to a monitor's updates as a whole, so once the marker is seen every
//! row the transaction touched has been too (and whatever others committed before it).
//!
//! Anything the updates cannot answer for certain — the connection dropped (its monitor with
//! it), a change to a row the read never held, the deadline — makes [`Watch::catch_up`] return
//! `None`, and the caller reads everything again.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::{Error, build, fill_defaults, requests, wire_key};
use crate::ovsdb::{
    Atom, Client, Columns, DatabaseSchema, Datum, MonitorRequest, MonitorSelect, Notifications,
    RawEvent, RowChange, decode_update_params,
};
use crate::rows::identity::{self, Rule};
use crate::rows::live::Live;
use crate::rows::{Db, RowKey};

/// The table and column the apply marker lives in.
const MARKER_TABLE: &str = "NB_Global";
const MARKER_COLUMN: &str = "external_ids";

/// An open monitor over what a [`Live`] was read from.
pub struct Watch {
    id: Json,
    notes: Notifications,
    db: Db,
    /// `NB_Global`'s marker column, by row.
    markers: BTreeMap<Uuid, Datum>,
}

/// Reads the Northbound like [`super::read_nb`], leaving the monitor open. `None` when the
/// client's notifications were already taken (then the caller reads again afterwards).
pub async fn watch_nb(
    client: &Client,
    schema: &DatabaseSchema,
) -> Result<Option<(Live, Watch)>, Error> {
    let Some(notes) = client.notifications() else {
        return Ok(None);
    };
    let all = MonitorSelect {
        initial: true,
        insert: true,
        delete: true,
        modify: true,
    };
    let mut requests = requests(schema, super::NB_TABLES, all)?;
    if schema.table(MARKER_TABLE).is_none() {
        return Err(Error::MissingTable {
            database: schema.name.clone(),
            table: MARKER_TABLE.to_owned(),
        });
    }
    requests.insert(
        MARKER_TABLE.to_owned(),
        MonitorRequest {
            select: Some(all),
            ..MonitorRequest::columns(&[MARKER_COLUMN])
        },
    );
    let id = json!(format!("topo-watch-{}", Uuid::new_v4()));
    let mut raw = client
        .monitor_cond_rows(schema, id.clone(), &requests)
        .await?;
    crate::timings::phase("monitor_cond reply, decoded");

    let mut watch = Watch {
        id,
        notes,
        db: Db::Northbound,
        markers: BTreeMap::new(),
    };
    for (uuid, mut row) in raw.remove(MARKER_TABLE).unwrap_or_default() {
        fill_defaults(schema, MARKER_TABLE, &mut row);
        if let Some(ids) = row.remove(MARKER_COLUMN) {
            watch.markers.insert(uuid, ids);
        }
    }
    for (table, rows) in &mut raw {
        for columns in rows.values_mut() {
            fill_defaults(schema, table, columns);
        }
    }
    let live = build(schema, watch.db.clone(), raw);
    crate::timings::phase("key rows");
    Ok(Some((live, watch)))
}

/// The rows the updates touched, as they are after them: wire columns (with `_version`), or
/// `None` for a row that no longer exists.
type Touched = BTreeMap<(String, Uuid), Option<Columns>>;

/// A read brought up to date.
pub struct CaughtUp {
    pub live: Live,
    /// The (table, key) of every row the updates created, changed or deleted, when the read
    /// was patched row by row; `None` when it was rebuilt whole (then any row may differ).
    pub changed: Option<BTreeSet<(String, RowKey)>>,
}

impl Watch {
    /// The marker column of `NB_Global` as the monitor last saw it (`None`: no such row).
    pub(crate) fn marker_ids(&self) -> Option<&Datum> {
        self.markers.values().next()
    }

    /// `live` brought up to date: the updates received until `NB_Global.external_ids` holds
    /// `marker_key` = `marker`, and any already queued after it. `None` if the updates cannot
    /// say (see the module docs). The monitor is cancelled either way.
    pub async fn catch_up(
        mut self,
        client: &Client,
        schema: &DatabaseSchema,
        mut live: Live,
        marker_key: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<Option<CaughtUp>, Error> {
        let touched = self
            .follow(schema, &live, marker_key, marker, timeout)
            .await;
        let _ = client.monitor_cancel(self.id.clone()).await;
        let Some(touched) = touched? else {
            return Ok(None);
        };
        crate::timings::phase("updates received");
        // A change as large as the read (an apply from empty) is rebuilt rather than patched:
        // the rebuild converts rows on two threads, and the re-plan is whole either way.
        let touched = if touched.len() >= live.rows.len().max(1000) {
            touched
        } else {
            match patch(schema, &self.db, &mut live, touched) {
                Ok(changed) => {
                    return Ok(Some(CaughtUp {
                        live,
                        changed: Some(changed),
                    }));
                }
                Err(touched) => touched,
            }
        };
        // Patching was not certain: rebuild from every row.
        let Some(mut raw) = live.into_raw() else {
            return Ok(None);
        };
        for ((table, uuid), columns) in touched {
            let rows = raw.entry(table).or_default();
            match columns {
                Some(columns) => rows.insert(uuid, columns),
                None => rows.remove(&uuid),
            };
        }
        let live = build(schema, self.db.clone(), raw);
        crate::timings::phase("rebuild the read");
        Ok(Some(CaughtUp {
            live,
            changed: None,
        }))
    }

    /// The rows the updates touched until the marker (see [`Watch::catch_up`]); `None` when
    /// an update changes a row `live` never held.
    async fn follow(
        &mut self,
        schema: &DatabaseSchema,
        live: &Live,
        marker_key: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<Option<Touched>, Error> {
        let deadline = Instant::now() + timeout;
        let index = live.uuid_index();
        let others: HashMap<Uuid, &Columns> = live.others.iter().map(|(_, u, c)| (*u, c)).collect();
        let db = self.db.clone();
        // A row as the read held it, the first time an update touches it.
        let held = |uuid: Uuid| -> Option<Columns> {
            if let Some((table, key)) = index.get(&uuid) {
                return live.wire_columns(&db, table, key);
            }
            others.get(&uuid).map(|c| (*c).clone())
        };
        let mut touched = Touched::new();
        let key = Atom::from(marker_key);
        let want = Atom::from(marker);
        let mut seen = false;
        loop {
            seen = seen
                || self
                    .markers
                    .values()
                    .any(|d| d.as_map().and_then(|m| m.get(&key)) == Some(&want));
            let wait = if seen {
                // Take what is already queued, without waiting for more.
                Duration::ZERO
            } else {
                deadline.saturating_duration_since(Instant::now())
            };
            let note = match tokio::time::timeout(wait, self.notes.recv_raw()).await {
                Ok(Some(RawEvent::Notification(note))) => note,
                // The monitor died with its connection.
                Ok(Some(RawEvent::Disconnected { .. })) => return Ok(None),
                Ok(None) => return Ok(None),
                Err(_) if seen => break,
                Err(_) => return Ok(None),
            };
            // Updates are decoded straight from their text (an apply from empty gets every row
            // it created back this way).
            // An update that does not decode cannot be applied for certain: read again.
            let Ok(decoded) = decode_update_params(&note.method, note.params.get(), schema) else {
                return Ok(None);
            };
            let Some((_, changes)) = decoded.filter(|(monitor, _)| *monitor == self.id) else {
                continue;
            };
            for (table, rows) in changes {
                for (uuid, change) in rows {
                    if table == MARKER_TABLE {
                        if !self.apply_marker(schema, uuid, change) {
                            return Ok(None);
                        }
                        continue;
                    }
                    let row = touched
                        .entry((table.clone(), uuid))
                        .or_insert_with(|| held(uuid));
                    if !apply_update(schema, &table, row, change) {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(touched))
    }

    /// Applies a change of `NB_Global` to the markers; `false` for a change to a row never
    /// seen.
    fn apply_marker(&mut self, schema: &DatabaseSchema, uuid: Uuid, change: RowChange) -> bool {
        let mut row = self
            .markers
            .remove(&uuid)
            .map(|ids| Columns::from_iter([(MARKER_COLUMN.to_owned(), ids)]));
        if !apply_update(schema, MARKER_TABLE, &mut row, change) {
            return false;
        }
        if let Some(ids) = row.and_then(|mut r| r.remove(MARKER_COLUMN)) {
            self.markers.insert(uuid, ids);
        }
        true
    }
}

/// Applies one row's update to the row as it was (`None`: absent); `false` when it cannot be
/// applied for certain (a change to a row never seen).
fn apply_update(
    schema: &DatabaseSchema,
    table: &str,
    row: &mut Option<Columns>,
    change: RowChange,
) -> bool {
    match change {
        RowChange::Row(mut columns) => {
            fill_defaults(schema, table, &mut columns);
            *row = Some(columns);
        }
        RowChange::Delete => *row = None,
        RowChange::Modify(diff) => {
            let Some(columns) = row.as_mut() else {
                return false;
            };
            apply_diff(schema, table, columns, diff);
        }
    }
    true
}

/// Patches `live` with the touched rows, row by row, and returns what it changed: `Err` with
/// the rows untouched when that would not give what a fresh read gives (a key that changed, a
/// row without a key, duplicated keys, a row moved to another parent), for the caller to
/// rebuild. A fresh read of the same rows must equal the patched one: see `tests/apply/watch.rs`.
fn patch(
    schema: &DatabaseSchema,
    db: &Db,
    live: &mut Live,
    touched: Touched,
) -> Result<BTreeSet<(String, RowKey)>, Touched> {
    let (removed, converted) = {
        // Everything is decided and converted while `live` is only read; then it changes.
        let index = live.uuid_index();
        let Some((removed, rows)) = patch_plan(db, live, &index, &touched) else {
            return Err(touched);
        };
        let mut converted = Vec::with_capacity(rows.len());
        let new_keys: HashMap<Uuid, (&str, &RowKey)> =
            rows.iter().map(|(t, u, k)| (*u, (t.as_str(), k))).collect();
        let refs = super::ref_columns(schema);
        let no_refs = BTreeSet::new();
        let mut touched = touched;
        for (table, uuid, key) in &rows {
            let Some(Some(columns)) = touched.remove(&(table.clone(), *uuid)) else {
                continue;
            };
            let (row, live_row) = super::to_row(
                *uuid,
                columns,
                refs.get(table.as_str()).unwrap_or(&no_refs),
                |u| new_keys.get(&u).or_else(|| index.get(&u)).copied(),
            );
            converted.push((table.clone(), key.clone(), row, live_row));
        }
        (removed, converted)
    };
    let mut changed = BTreeSet::new();
    for (table, key) in removed {
        if let Some(rows) = live
            .state
            .tables
            .get_mut(db)
            .and_then(|t| t.get_mut(&table))
        {
            rows.remove(&key);
        }
        live.rows.remove(&(db.clone(), table.clone(), key.clone()));
        changed.insert((table, key));
    }
    for (table, key, row, live_row) in converted {
        live.state.insert(db.clone(), &table, key.clone(), row);
        live.rows
            .insert((db.clone(), table.clone(), key.clone()), live_row);
        changed.insert((table, key));
    }
    Ok(changed)
}

/// What [`patch`] will do, checked before anything changes: the keys of rows deleted, and the
/// (table, UUID, key) of rows created or changed. `None` when patching is not certain.
#[allow(clippy::type_complexity)]
fn patch_plan(
    db: &Db,
    live: &Live,
    index: &HashMap<Uuid, (&str, &RowKey)>,
    touched: &Touched,
) -> Option<(Vec<(String, RowKey)>, Vec<(String, Uuid, RowKey)>)> {
    if !live.duplicates.is_empty() {
        return None;
    }
    let others: HashSet<Uuid> = live.others.iter().map(|(_, u, _)| *u).collect();
    if touched.keys().any(|(_, u)| others.contains(u)) {
        return None;
    }
    // New keys: rows keyed by their own columns first, then children under their parent.
    let mut keys: HashMap<Uuid, (String, RowKey)> = HashMap::new();
    for ((table, uuid), columns) in touched {
        let Some(columns) = columns else { continue };
        match identity::rule(table)? {
            Rule::Name | Rule::Singleton | Rule::Tagged => {
                let key = wire_key(table, columns, None)?;
                keys.insert(*uuid, (table.clone(), key));
            }
            Rule::Child { .. } => {}
        }
    }
    // Which touched parent holds each child now, by (child table, child UUID).
    let mut held_by: HashMap<(&str, Uuid), Uuid> = HashMap::new();
    for (child_table, parent_table, parent_column) in child_tables() {
        for ((t, parent), columns) in touched {
            let Some(set) = columns
                .as_ref()
                .filter(|_| t == parent_table)
                .and_then(|c| c.get(parent_column))
                .and_then(Datum::as_set)
            else {
                continue;
            };
            for child in set.iter().filter_map(Atom::as_uuid) {
                held_by.entry((child_table, child)).or_insert(*parent);
            }
        }
    }
    let touched_parent_of =
        |table: &str, uuid: Uuid| -> Option<Uuid> { held_by.get(&(table, uuid)).copied() };
    let mut children = Vec::new();
    for ((table, uuid), columns) in touched {
        let Some(columns) = columns else { continue };
        let Some(Rule::Child {
            parents,
            columns: own,
        }) = identity::rule(table)
        else {
            continue;
        };
        let parent_key = match touched_parent_of(table, *uuid) {
            Some(parent) => match keys.get(&parent) {
                Some((_, k)) => k.clone(),
                None => index.get(&parent).map(|(_, k)| (*k).clone())?,
            },
            None => {
                // Held by the same parent as before, which must be untouched.
                let (_, old) = index.get(uuid)?;
                let parent = RowKey(old.0.get(..old.0.len().checked_sub(own.len())?)?.to_vec());
                let mut held = false;
                for (parent_table, _) in parents {
                    let Some(row) = live.row(db, parent_table, &parent) else {
                        continue;
                    };
                    if touched.contains_key(&((*parent_table).to_owned(), row.uuid)) {
                        return None;
                    }
                    held = true;
                }
                if !held {
                    return None;
                }
                parent
            }
        };
        let key = wire_key(table, columns, Some(&parent_key))?;
        children.push((*uuid, (table.clone(), key)));
    }
    keys.extend(children);
    // Existing rows keep their keys; new rows take free ones.
    let mut taken = HashSet::new();
    for (uuid, (table, key)) in &keys {
        match index.get(uuid) {
            Some((t, k)) if *t != table.as_str() || *k != key => return None,
            Some(_) => {}
            None if live.state.get(db, table, key).is_some() => return None,
            None => {}
        }
        if !taken.insert((table, key)) {
            return None;
        }
    }
    // Children of a touched parent: each it holds now is keyed under it (new, or already
    // its own), and each it held before is still held or touched itself. No touched row may
    // name a row the read could not key.
    for ((table, uuid), columns) in touched {
        let parent_key = keys
            .get(uuid)
            .map(|(_, k)| k)
            .or_else(|| index.get(uuid).map(|(_, k)| *k));
        for (child_table, _, parent_column) in child_tables().filter(|(_, p, _)| p == table) {
            let now: HashSet<Uuid> = columns
                .as_ref()
                .and_then(|c| c.get(parent_column))
                .and_then(Datum::as_set)
                .map(|s| s.iter().filter_map(Atom::as_uuid).collect())
                .unwrap_or_default();
            for child in &now {
                if keys.contains_key(child) {
                    continue;
                }
                let (t, k) = index.get(child)?;
                if *t != child_table || !is_child_key(k, parent_key?) {
                    return None;
                }
            }
            if let Some(parent_key) = parent_key.filter(|_| index.contains_key(uuid)) {
                // Child keys start with the parent's: a range, not a scan.
                let held = live
                    .state
                    .tables
                    .get(db)
                    .and_then(|t| t.get(child_table))
                    .into_iter()
                    .flat_map(|rows| rows.range(parent_key.clone()..))
                    .take_while(|(k, _)| is_child_key(k, parent_key));
                for (k, _) in held {
                    let u = live.row(db, child_table, k)?.uuid;
                    if !now.contains(&u) && !touched.contains_key(&(child_table.to_owned(), u)) {
                        return None;
                    }
                }
            }
        }
        for datum in columns.iter().flat_map(|c| c.values()) {
            let uuids: Vec<Uuid> = match datum {
                Datum::Set(s) => s.iter().filter_map(Atom::as_uuid).collect(),
                Datum::Map(m) => m
                    .iter()
                    .flat_map(|(k, v)| [k.as_uuid(), v.as_uuid()])
                    .flatten()
                    .collect(),
            };
            if uuids.iter().any(|u| others.contains(u)) {
                return None;
            }
        }
    }
    let removed = touched
        .iter()
        .filter(|(_, c)| c.is_none())
        .filter_map(|((_, u), _)| index.get(u).map(|(t, k)| ((*t).to_owned(), (*k).clone())))
        .collect();
    let rows = keys.into_iter().map(|(u, (t, k))| (t, u, k)).collect();
    Some((removed, rows))
}

/// The tables read whose rows are keyed under a parent: (child table, parent table, the
/// parent's column holding them).
fn child_tables() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    super::NB_TABLES.iter().flat_map(|t| {
        identity::parents(t)
            .iter()
            .map(move |(parent, column)| (*t, *parent, *column))
    })
}

/// Whether `key` is a child key under `parent` (the parent's parts, then the child's own).
fn is_child_key(key: &RowKey, parent: &RowKey) -> bool {
    key.0.len() > parent.0.len() && key.0[..parent.0.len()] == parent.0[..]
}

/// Applies update2 `modify` semantics (ovsdb-server(7)): a column that holds at most one
/// value takes the new value; in a set, each element of the diff is added if absent and
/// removed if present; in a map, a key absent is added, a key present with the same value
/// removed, with another value updated.
fn apply_diff(schema: &DatabaseSchema, table: &str, row: &mut Columns, diff: Columns) {
    for (column, change) in diff {
        let composite = schema
            .table(table)
            .and_then(|t| t.columns.get(&column))
            .is_some_and(|c| c.ty.max != Some(1));
        let Some(old) = row.get_mut(&column).filter(|_| composite) else {
            row.insert(column, change);
            continue;
        };
        match (old, change) {
            (Datum::Set(old), Datum::Set(change)) => {
                for atom in change {
                    if !old.remove(&atom) {
                        old.insert(atom);
                    }
                }
            }
            (Datum::Map(old), Datum::Map(change)) => {
                for (k, v) in change {
                    match old.get(&k) {
                        Some(now) if *now == v => {
                            old.remove(&k);
                        }
                        _ => {
                            old.insert(k, v);
                        }
                    }
                }
            }
            // An empty map may have been decoded as an empty set, or the reverse.
            (old, change) => {
                let merged = match (&*old, change) {
                    (Datum::Set(s), Datum::Map(m)) if s.is_empty() => Datum::Map(m),
                    (Datum::Map(m), Datum::Set(s)) if s.is_empty() => Datum::Map(m.clone()),
                    (_, change) => change,
                };
                *old = merged;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> DatabaseSchema {
        let text = r#"{"name": "S", "version": "1.0.0", "tables": {
            "T": {"columns": {
                "name": {"type": "string"},
                "opt": {"type": {"key": "string", "min": 0, "max": 1}},
                "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
                "ids": {"type": {"key": "string", "value": "string",
                                 "min": 0, "max": "unlimited"}}}}}}"#;
        DatabaseSchema::from_json(&serde_json::from_str(text).expect("json")).expect("schema")
    }

    fn s(v: &str) -> Atom {
        Atom::from(v)
    }

    #[test]
    fn update2_modify_toggles_set_elements_and_map_entries() {
        let schema = schema();
        let mut row = Columns::from_iter([
            ("name".to_owned(), Datum::scalar(s("a"))),
            ("opt".to_owned(), Datum::scalar(s("x"))),
            ("tags".to_owned(), Datum::set([s("t1"), s("t2")])),
            (
                "ids".to_owned(),
                Datum::map([(s("k1"), s("v1")), (s("k2"), s("v2")), (s("k3"), s("v3"))]),
            ),
        ]);
        let u = "6b7c6a3e-0000-4000-8000-000000000001";
        let params = serde_json::json!(["m", {"T": {u: {"modify": {
            "name": "b",
            "opt": ["set", []],
            "tags": ["set", ["t2", "t3"]],
            "ids": ["map", [["k1", "v1"], ["k2", "new"], ["k4", "v4"]]]
        }}}}]);
        let (_, mut changes) = decode_update_params("update2", &params.to_string(), &schema)
            .expect("decoded")
            .expect("an update");
        let Some(RowChange::Modify(diff)) = changes
            .remove("T")
            .and_then(|mut rows| rows.remove(&Uuid::parse_str(u).expect("uuid")))
        else {
            panic!("a modify")
        };
        apply_diff(&schema, "T", &mut row, diff);
        assert_eq!(
            row.get("name").cloned().expect("name"),
            Datum::scalar(s("b"))
        );
        assert_eq!(row.get("opt").cloned().expect("opt"), Datum::empty());
        assert_eq!(
            row.get("tags").cloned().expect("tags"),
            Datum::set([s("t1"), s("t3")])
        );
        assert_eq!(
            row.get("ids").cloned().expect("ids"),
            Datum::map([(s("k2"), s("new")), (s("k3"), s("v3")), (s("k4"), s("v4"))])
        );
    }
}

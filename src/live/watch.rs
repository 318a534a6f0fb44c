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

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::{Error, Live, Raw, build_owned, decode_row, requests};
use crate::ovsdb::{
    Atom, Client, Columns, DatabaseSchema, Datum, MonitorRequest, MonitorSelect, Notification,
    Notifications, RowUpdate, columns_from_json,
};
use crate::rows::Db;

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
    let updates = client
        .monitor_cond(&schema.name, id.clone(), &requests)
        .await?;
    crate::timings::phase("monitor_cond reply");

    let mut watch = Watch {
        id,
        notes,
        db: Db::Northbound,
        markers: BTreeMap::new(),
    };
    let mut raw = Raw::new();
    for (table, rows) in updates {
        for (uuid, update) in rows {
            // The initial reply holds only whole rows.
            if !watch.apply(schema, &mut raw, &table, uuid, update)? {
                return Err(Error::Decode {
                    table,
                    message: format!("row {uuid} came as a change, not a row"),
                });
            }
        }
    }
    crate::timings::phase("decode columns");
    let live = build_owned(schema, watch.db.clone(), raw);
    crate::timings::phase("key rows");
    Ok(Some((live, watch)))
}

impl Watch {
    /// `live` brought up to date: the updates received until `NB_Global.external_ids` holds
    /// `marker_key` = `marker`, and any already queued after it. `None` if the updates cannot
    /// say (see the module docs). The monitor is cancelled either way.
    pub async fn catch_up(
        mut self,
        client: &Client,
        schema: &DatabaseSchema,
        live: Live,
        marker_key: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<Option<Live>, Error> {
        let raw = self.follow(schema, live, marker_key, marker, timeout).await;
        let _ = client.monitor_cancel(self.id.clone()).await;
        Ok(raw?.map(|raw| build_owned(schema, self.db, raw)))
    }

    /// The updates applied to `live` until the marker (see [`Watch::catch_up`]).
    async fn follow(
        &mut self,
        schema: &DatabaseSchema,
        live: Live,
        marker_key: &str,
        marker: &str,
        timeout: Duration,
    ) -> Result<Option<Raw>, Error> {
        let deadline = Instant::now() + timeout;
        let Some(mut raw) = live.into_raw() else {
            return Ok(None);
        };
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
            let note = match tokio::time::timeout(wait, self.notes.recv()).await {
                Ok(Some(note)) => note,
                Ok(None) => return Ok(None),
                Err(_) if seen => break,
                Err(_) => return Ok(None),
            };
            match note {
                Notification::Update { monitor, updates } if monitor == self.id => {
                    for (table, rows) in updates {
                        for (uuid, update) in rows {
                            if !self.apply(schema, &mut raw, &table, uuid, update)? {
                                return Ok(None);
                            }
                        }
                    }
                }
                // The monitor died with its connection.
                Notification::Disconnected { .. } => return Ok(None),
                _ => {}
            }
        }
        Ok(Some(raw))
    }

    /// Applies one row's update to `raw` (or to the markers); `false` when it cannot be
    /// applied for certain (a change to a row never seen).
    fn apply(
        &mut self,
        schema: &DatabaseSchema,
        raw: &mut Raw,
        table: &str,
        uuid: Uuid,
        update: RowUpdate,
    ) -> Result<bool, Error> {
        if table == MARKER_TABLE {
            return self.apply_marker(schema, uuid, update);
        }
        let rows = raw.entry(table.to_owned()).or_default();
        match update {
            RowUpdate::Initial(r)
            | RowUpdate::Insert(r)
            | RowUpdate::Update { new: Some(r), .. } => {
                rows.insert(uuid, decode_row(schema, table, &r)?);
            }
            RowUpdate::Delete | RowUpdate::Update { new: None, .. } => {
                rows.remove(&uuid);
            }
            RowUpdate::Modify(diff) => {
                let Some(row) = rows.get_mut(&uuid) else {
                    return Ok(false);
                };
                let diff = decode_diff(schema, table, &diff)?;
                apply_diff(schema, table, row, diff);
            }
        }
        Ok(true)
    }

    fn apply_marker(
        &mut self,
        schema: &DatabaseSchema,
        uuid: Uuid,
        update: RowUpdate,
    ) -> Result<bool, Error> {
        let column = |row: Columns| row.into_iter().find(|(c, _)| c == MARKER_COLUMN);
        match update {
            RowUpdate::Initial(r)
            | RowUpdate::Insert(r)
            | RowUpdate::Update { new: Some(r), .. } => {
                let row = decode_row(schema, MARKER_TABLE, &r)?;
                if let Some((_, d)) = column(row) {
                    self.markers.insert(uuid, d);
                }
            }
            RowUpdate::Delete | RowUpdate::Update { new: None, .. } => {
                self.markers.remove(&uuid);
            }
            RowUpdate::Modify(diff) => {
                let Some(old) = self.markers.remove(&uuid) else {
                    return Ok(false);
                };
                let mut row = Columns::from([(MARKER_COLUMN.to_owned(), old)]);
                apply_diff(
                    schema,
                    MARKER_TABLE,
                    &mut row,
                    decode_diff(schema, MARKER_TABLE, &diff)?,
                );
                if let Some((_, d)) = column(row) {
                    self.markers.insert(uuid, d);
                }
            }
        }
        Ok(true)
    }
}

/// A `modify` of update2 as typed columns. The diff of a set or map column is a set or map of
/// the elements that changed, which may hold more elements than the column allows, so it is
/// decoded by its shape, not checked against the column's bounds.
fn decode_diff(
    schema: &DatabaseSchema,
    table: &str,
    diff: &serde_json::Map<String, Json>,
) -> Result<Columns, Error> {
    columns_from_json(schema, table, diff)
        .or_else(|_| {
            diff.iter()
                .map(|(c, v)| Ok((c.clone(), Datum::from_json(v)?)))
                .collect()
        })
        .map_err(|e: crate::ovsdb::NotationError| Error::Decode {
            table: table.to_owned(),
            message: e.to_string(),
        })
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
        let mut row = Columns::from([
            ("name".to_owned(), Datum::scalar(s("a"))),
            ("opt".to_owned(), Datum::scalar(s("x"))),
            ("tags".to_owned(), Datum::set([s("t1"), s("t2")])),
            (
                "ids".to_owned(),
                Datum::map([(s("k1"), s("v1")), (s("k2"), s("v2")), (s("k3"), s("v3"))]),
            ),
        ]);
        let diff = decode_diff(
            &schema,
            "T",
            serde_json::json!({
                "name": "b",
                "opt": ["set", []],
                "tags": ["set", ["t2", "t3"]],
                "ids": ["map", [["k1", "v1"], ["k2", "new"], ["k4", "v4"]]]
            })
            .as_object()
            .expect("object"),
        )
        .expect("diff");
        apply_diff(&schema, "T", &mut row, diff);
        assert_eq!(row["name"], Datum::scalar(s("b")));
        assert_eq!(row["opt"], Datum::empty());
        assert_eq!(row["tags"], Datum::set([s("t1"), s("t3")]));
        assert_eq!(
            row["ids"],
            Datum::map([(s("k2"), s("new")), (s("k3"), s("v3")), (s("k4"), s("v4"))])
        );
    }
}

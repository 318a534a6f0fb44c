//! The chassis registered in the Southbound database: the keys each publishes
//! (`Chassis.other_config`, or `external_ids` on releases before 22.09, such as
//! `ovn-bridge-mappings`) and its tunnel endpoints (`Encap`). Drift reads every chassis; apply
//! reads one while it waits for what it wrote to show.

use std::collections::BTreeMap;

use crate::ovsdb::{self, Atom, Client, Condition, Datum, Operation};
use crate::rows::Db;

type SbRow = serde_json::Map<String, serde_json::Value>;

/// The rows of `table` matching `conditions`, with `columns`.
async fn select(
    sb: &Client,
    table: &str,
    conditions: Vec<Condition>,
    columns: &[&str],
) -> Result<Vec<SbRow>, ovsdb::Error> {
    let columns = columns.iter().map(|c| (*c).to_owned()).collect();
    let results = sb
        .transact(
            Db::Southbound.schema_name(),
            &[Operation::select(table, conditions, Some(columns))],
        )
        .await?;
    Ok(results
        .first()
        .map(|r| r.rows().to_vec())
        .unwrap_or_default())
}

/// A `Chassis` row's published keys: `external_ids`, then `other_config` (which wins).
fn published(row: &SbRow) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for column in ["external_ids", "other_config"] {
        let map = row
            .get(column)
            .and_then(|v| Datum::from_json(v).ok())
            .and_then(|d| d.as_map().cloned())
            .unwrap_or_default();
        for (k, v) in map {
            if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                out.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    out
}

/// Chassis name → the keys it publishes (`ovn-bridge-mappings`, ...).
pub async fn registered(
    sb: &Client,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ovsdb::Error> {
    let rows = select(
        sb,
        "Chassis",
        vec![],
        &["name", "other_config", "external_ids"],
    )
    .await?;
    let mut out = BTreeMap::new();
    for row in &rows {
        let name = row
            .get("name")
            .and_then(|v| Datum::from_json(v).ok())
            .and_then(|d| d.as_scalar().and_then(Atom::as_str).map(str::to_owned));
        if let Some(name) = name {
            out.insert(name, published(row));
        }
    }
    Ok(out)
}

/// The keys `chassis` publishes (empty when it is not registered).
pub async fn published_by(
    sb: &Client,
    chassis: &str,
) -> Result<BTreeMap<String, String>, ovsdb::Error> {
    let rows = select(
        sb,
        "Chassis",
        vec![Condition::eq("name", chassis)],
        &["other_config", "external_ids"],
    )
    .await?;
    Ok(rows.first().map(published).unwrap_or_default())
}

/// The tunnel endpoints `chassis` publishes in `Encap`, as `type ip`, sorted.
pub async fn encaps(sb: &Client, chassis: &str) -> Result<Vec<String>, ovsdb::Error> {
    let rows = select(
        sb,
        "Encap",
        vec![Condition::eq("chassis_name", chassis)],
        &["type", "ip"],
    )
    .await?;
    let text = |row: &SbRow, c: &str| {
        row.get(c)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let mut out: Vec<String> = rows
        .iter()
        .filter_map(|row| Some(format!("{} {}", text(row, "type")?, text(row, "ip")?)))
        .collect();
    out.sort();
    Ok(out)
}

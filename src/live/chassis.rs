//! The chassis registered in the Southbound database, with the `ovn-bridge-mappings` each
//! publishes (`Chassis.other_config`, or `external_ids` on releases before 22.09).

use std::collections::BTreeMap;

use crate::ovsdb::{self, Atom, Client, Condition, Datum, Operation};
use crate::rows::Db;

/// Chassis name → the keys it publishes (`ovn-bridge-mappings`, ...).
pub async fn registered(
    sb: &Client,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ovsdb::Error> {
    let results = sb
        .transact(
            Db::Southbound.schema_name(),
            &[Operation::select(
                "Chassis",
                Vec::<Condition>::new(),
                Some(vec![
                    "name".into(),
                    "other_config".into(),
                    "external_ids".into(),
                ]),
            )],
        )
        .await?;
    let mut out = BTreeMap::new();
    for row in results
        .first()
        .map(|r| r.rows().to_vec())
        .unwrap_or_default()
    {
        let datum = |c: &str| row.get(c).and_then(|v| Datum::from_json(v).ok());
        let Some(name) =
            datum("name").and_then(|d| d.as_scalar().and_then(Atom::as_str).map(str::to_owned))
        else {
            continue;
        };
        let mut published = BTreeMap::new();
        for column in ["external_ids", "other_config"] {
            for (k, v) in datum(column)
                .and_then(|d| d.as_map().cloned())
                .unwrap_or_default()
            {
                if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                    published.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        out.insert(name, published);
    }
    Ok(out)
}

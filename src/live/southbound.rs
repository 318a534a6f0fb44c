//! The chassis registered in the Southbound database, read in one place for status, import,
//! drift, apply (its confirmation, `--wait`, the bindings' chassis names) and the lab: each `Chassis` row's name, hostname and the keys it publishes
//! (`other_config`, or `external_ids` on releases before 22.09, such as
//! `ovn-bridge-mappings`), its tunnel endpoints (`Encap`), and how far each chassis has
//! caught up (`Chassis_Private.nb_cfg`).

use std::collections::BTreeMap;
use std::fmt;

use crate::ovsdb::{self, Atom, Client, ColumnsExt, Condition, Datum};
use crate::rows::bridge_mappings::BridgeMappings;
use crate::rows::chassis::MAPPINGS_KEY;

/// A chassis as the Southbound shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SbChassis {
    /// Its row's `_uuid` (what `Port_Binding.chassis` and other references hold).
    pub uuid: Option<uuid::Uuid>,
    pub name: String,
    pub hostname: String,
    /// Its tunnel endpoints, sorted.
    pub encaps: Vec<Encap>,
    /// The keys it publishes: `external_ids`, then `other_config` (which wins).
    pub published: BTreeMap<String, String>,
}

impl SbChassis {
    /// The `ovn-bridge-mappings` ovn-controller uses there.
    pub(crate) fn bridge_mappings(&self) -> BridgeMappings {
        BridgeMappings::parse(self.published.get(MAPPINGS_KEY).map_or("", String::as_str))
    }

    /// Whether this is a hardware VTEP's chassis (`ovn-controller-vtep` registers it with
    /// `other_config:is-vtep=true`).
    pub(crate) fn is_vtep(&self) -> bool {
        self.published.get("is-vtep").is_some_and(|v| v == "true")
    }
}

/// One `Encap` row: a tunnel type and endpoint IP.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Encap {
    pub kind: String,
    pub ip: String,
}

/// `geneve 172.17.0.2`.
impl fmt::Display for Encap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.ip)
    }
}

const SB: &str = "OVN_Southbound";

/// Every registered chassis (or only `name`), sorted by name.
async fn read(sb: &Client, name: Option<&str>) -> Result<Vec<SbChassis>, ovsdb::Error> {
    let by_name = |column: &str| name.map(|n| Condition::eq(column, n)).into_iter().collect();
    let encaps = sb
        .select(
            SB,
            "Encap",
            by_name("chassis_name"),
            &["_uuid", "type", "ip"],
        )
        .await?;
    let encaps: BTreeMap<Atom, Encap> = encaps
        .iter()
        .filter_map(|e| {
            let uuid = e.get("_uuid")?.as_scalar()?.clone();
            Some((
                uuid,
                Encap {
                    kind: e.string("type").unwrap_or_default().to_owned(),
                    ip: e.string("ip").unwrap_or_default().to_owned(),
                },
            ))
        })
        .collect();
    let rows = sb
        .select(
            SB,
            "Chassis",
            by_name("name"),
            &[
                "_uuid",
                "name",
                "hostname",
                "encaps",
                "other_config",
                "external_ids",
            ],
        )
        .await?;
    let mut out: Vec<SbChassis> = rows
        .iter()
        .map(|row| {
            let mut encaps: Vec<Encap> = row
                .get("encaps")
                .and_then(Datum::as_set)
                .into_iter()
                .flatten()
                .filter_map(|u| encaps.get(u).cloned())
                .collect();
            encaps.sort();
            let mut published = row.string_map("external_ids");
            published.extend(row.string_map("other_config"));
            SbChassis {
                uuid: row.uuid("_uuid"),
                name: row.string("name").unwrap_or_default().to_owned(),
                hostname: row.string("hostname").unwrap_or_default().to_owned(),
                encaps,
                published,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Every registered chassis, sorted by name.
pub(crate) async fn all(sb: &Client) -> Result<Vec<SbChassis>, ovsdb::Error> {
    read(sb, None).await
}

/// The chassis `name`, if registered.
pub(crate) async fn chassis(sb: &Client, name: &str) -> Result<Option<SbChassis>, ovsdb::Error> {
    Ok(read(sb, Some(name)).await?.into_iter().next())
}

/// Chassis name → the `nb_cfg` it has caught up with (`Chassis_Private`).
pub(crate) async fn caught_up(sb: &Client) -> Result<BTreeMap<String, i64>, ovsdb::Error> {
    let rows = sb
        .select(SB, "Chassis_Private", vec![], &["name", "nb_cfg"])
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let name = row.string("name")?.to_owned();
            Some((name, row.integer("nb_cfg").unwrap_or(0)))
        })
        .collect())
}

//! `topo import`: the live Northbound (and the Southbound chassis) as a topology file.
//!
//! [`read`] reads the Northbound (the rows topo manages, and how many rows the other tables
//! hold). Pure from there: [`import`] turns that (plus the SB chassis) into YAML and a list of
//! notes, one for everything the topology language cannot express (ACLs, load balancers,
//! unknown options, ...), so nothing is dropped silently. Names and MACs that differ from
//! what the compiler would derive are written explicitly. [`self_check()`] then compiles the
//! YAML and plans it against the same live state as if it were adopted: every difference
//! becomes a note too. [`adopt::adopt_operations`] builds the one guarded transaction that writes the
//! ownership mark into the imported rows, and [`adopt()`] runs it under the stack's lock.
//! What stops an import is an [`Error`], each with a stable code (`docs/diagnostics.md`).
//!
//! This file holds the entry points ([`read`], [`import`]), the errors, the shared context
//! (`Cx`: the read, the notes, the chassis the rows name) and the cell helpers; each object
//! family has its own file: `switches.rs` (switches and their ports), `routers.rs` (routers,
//! their ports, gateways, routes, policies, NAT), `chassis.rs` (chassis and HA chassis groups,
//! from the Southbound's [`SbChassis`] as `live::southbound` reads them), `self_check.rs` and `adopt.rs` (whose guards,
//! lock `assert` and ownership mark are apply's own builders); `yaml.rs` is the writer. The
//! CLI (`cli/import.rs`) parses the flags, reads the Southbound chassis, prints and chooses
//! the outcome.

mod adopt;
mod chassis;
mod routers;
mod self_check;
mod services;
mod switches;
mod vteps;
pub(crate) mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::live::NB_TABLES;
use crate::ovsdb::{Atom, Client, Condition, DatabaseSchema, Datum, Operation};
#[cfg(test)]
use crate::rows::Cell;
use crate::rows::live::Live;
use crate::rows::{Db, Row, RowKey, Value, ownership};
use yaml::Node;

pub(crate) use crate::live::southbound::SbChassis;
pub(crate) use adopt::{adopt, to_adopt};
pub(crate) use self_check::self_check;
pub(crate) use services::name_tagged;

use chassis::{chassis, ha_groups};
use routers::{routers, switch_sides};
use switches::{localnet_networks, switches};

/// What stops `topo import`. Each variant has a stable code, listed in `docs/diagnostics.md`
/// (and in [`Error::CODES`], which a test checks against that page).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("cannot read the Northbound schema")]
    #[diagnostic(code(topo::import::read))]
    Schema(#[source] crate::ovsdb::Error),
    #[error("cannot read the Northbound database")]
    #[diagnostic(code(topo::import::read))]
    Read(#[source] crate::live::Error),
    #[error("cannot count the rows of the Northbound tables topo does not manage")]
    #[diagnostic(code(topo::import::read))]
    Count(#[source] crate::ovsdb::Error),
    #[error("cannot write the topology to {}", path.display())]
    #[diagnostic(code(topo::import::write))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the imported topology does not validate (see the notes above); nothing adopted")]
    #[diagnostic(code(topo::import::invalid))]
    Invalid,
    #[error("another apply of stack {stack} holds the lock `{lock}`; nothing adopted")]
    #[diagnostic(
        code(topo::import::locked),
        help("wait for the other apply to finish, then run the import again")
    )]
    Locked { stack: String, lock: String },
    #[error("the database changed since it was read; nothing adopted")]
    #[diagnostic(code(topo::import::moved), help("run the import again"))]
    Moved,
    #[error("cannot take the lock `{lock}`; nothing adopted")]
    #[diagnostic(code(topo::import::adopt))]
    Lock {
        lock: String,
        #[source]
        source: crate::ovsdb::Error,
    },
    #[error("adopting failed")]
    #[diagnostic(code(topo::import::adopt))]
    Adopt {
        #[source]
        source: crate::ovsdb::Error,
    },
}

impl Error {
    /// Every code an import error carries, for the documentation test.
    pub const CODES: &'static [&'static str] = &[
        "topo::import::read",
        "topo::import::write",
        "topo::import::invalid",
        "topo::import::locked",
        "topo::import::moved",
        "topo::import::adopt",
    ];
}

/// What [`read`] read from the Northbound.
pub(crate) struct Read {
    pub schema: DatabaseSchema,
    pub live: Live,
    /// Row counts of the tables topo does not manage ([`unmanaged_tables`]).
    pub other_tables: Vec<(String, usize)>,
}

/// Reads the Northbound's schema, the rows topo manages (one `live` read) and the row counts
/// of the tables it does not.
pub(crate) async fn read(nb: &Client) -> Result<Read, Error> {
    let schema = nb
        .get_schema(Db::Northbound.schema_name())
        .await
        .map_err(Error::Schema)?;
    let live = crate::live::read_nb(nb, &schema)
        .await
        .map_err(Error::Read)?;
    let other_tables = count_rows(nb, &unmanaged_tables(&schema))
        .await
        .map_err(Error::Count)?;
    Ok(Read {
        schema,
        live,
        other_tables,
    })
}

/// Row counts of `tables`, in one read-only transaction.
async fn count_rows(
    nb: &Client,
    tables: &[String],
) -> Result<Vec<(String, usize)>, crate::ovsdb::Error> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let ops: Vec<Operation> = tables
        .iter()
        .map(|t| Operation::select(t, Vec::<Condition>::new(), Some(vec!["_uuid".into()])))
        .collect();
    let results = nb.transact(Db::Northbound.schema_name(), &ops).await?;
    Ok(tables
        .iter()
        .zip(results.iter())
        .map(|(t, r)| (t.clone(), r.rows().len()))
        .collect())
}

/// What import read.
pub(crate) struct Input<'a> {
    pub stack: &'a str,
    pub live: &'a Live,
    pub schema: &'a DatabaseSchema,
    /// `None` when the Southbound database could not be read.
    pub chassis: Option<&'a [SbChassis]>,
    /// The VLAN bindings (port -> VLAN -> VTEP logical switch) of each hardware VTEP whose
    /// own database was read (`vteps`).
    pub vtep_bindings: &'a BTreeMap<String, BTreeMap<String, BTreeMap<i64, String>>>,
    /// Row counts of Northbound tables topo does not manage (ACL, Load_Balancer, ...).
    pub other_tables: &'a [(String, usize)],
}

/// The topology and what it could not say.
#[derive(Debug, Clone, Default)]
pub(crate) struct Imported {
    pub yaml: String,
    pub notes: Vec<String>,
    /// Rows without a name in OVN (`DHCP_Options`, `DNS`) that the file describes: table,
    /// UUID and the key topo gives them (written as their `topo:name` on adoption).
    pub tags: Vec<(String, uuid::Uuid, RowKey)>,
}

/// Tables the live read covers (their rows may be kept as foreign children) that the language
/// has no objects for: `Load_Balancer_Group` has no `external_ids` to mark a group as topo's.
const NOT_IMPORTED: &[&str] = &["Load_Balancer_Group"];

/// NB tables whose rows are configuration of the server or of northd, not topology.
const INFRASTRUCTURE: &[&str] = &["NB_Global", "Connection", "SSL"];

/// The Northbound tables import reports on when they hold rows: everything but the managed
/// ones and the infrastructure.
pub(crate) fn unmanaged_tables(schema: &DatabaseSchema) -> Vec<String> {
    schema
        .tables
        .keys()
        .filter(|t| {
            (!NB_TABLES.contains(&t.as_str()) || NOT_IMPORTED.contains(&t.as_str()))
                && !INFRASTRUCTURE.contains(&t.as_str())
        })
        .cloned()
        .collect()
}

/// Columns import reads per table; the others are reported when they hold a value.
fn handled(table: &str) -> &'static [&'static str] {
    match table {
        "Logical_Switch" => &[
            "name",
            "ports",
            "other_config",
            "acls",
            "qos_rules",
            "load_balancer",
            "dns_records",
            "external_ids",
        ],
        "Logical_Switch_Port" => &[
            "name",
            "type",
            "addresses",
            "port_security",
            "options",
            "tag_request",
            "ha_chassis_group",
            "enabled",
            "external_ids",
            // Written by northd / ovn-controller, not configuration.
            "up",
            "dynamic_addresses",
            "tag",
            "dhcpv4_options",
            "dhcpv6_options",
        ],
        "Logical_Router" => &[
            "name",
            "ports",
            "static_routes",
            "policies",
            "nat",
            "options",
            "load_balancer",
            "external_ids",
        ],
        "Logical_Router_Port" => &[
            "name",
            "mac",
            "networks",
            "peer",
            "gateway_chassis",
            "ha_chassis_group",
            "ipv6_ra_configs",
            "external_ids",
            "status",
        ],
        "Logical_Router_Static_Route" => &[
            "ip_prefix",
            "nexthop",
            "policy",
            "output_port",
            "external_ids",
        ],
        "Logical_Router_Policy" => &[
            "priority",
            "match",
            "action",
            "nexthop",
            "nexthops",
            "external_ids",
        ],
        "NAT" => &[
            "type",
            "external_ip",
            "logical_ip",
            "logical_port",
            "external_mac",
            "gateway_port",
            "external_ids",
        ],
        "Gateway_Chassis" => &["name", "chassis_name", "priority", "external_ids"],
        "HA_Chassis_Group" => &["name", "ha_chassis", "external_ids"],
        "HA_Chassis" => &["chassis_name", "priority", "external_ids"],
        "Address_Set" => &["name", "addresses", "external_ids"],
        "Port_Group" => &["name", "ports", "acls", "external_ids"],
        "ACL" => &[
            "direction",
            "priority",
            "match",
            "action",
            "log",
            "severity",
            "name",
            "label",
            "meter",
            "external_ids",
        ],
        "QoS" => &[
            "direction",
            "priority",
            "match",
            "action",
            "bandwidth",
            "external_ids",
        ],
        "Load_Balancer" => &[
            "name",
            "protocol",
            "vips",
            "health_check",
            "ip_port_mappings",
            "external_ids",
        ],
        _ => &[],
    }
}

// ---- cell helpers -------------------------------------------------------------------------

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Atom(Atom::String(s)) => Some(s.clone()),
        Value::Atom(Atom::Integer(i)) => Some(i.to_string()),
        Value::Atom(a) => Some(a.to_string()),
        Value::Ref(_) => None,
    }
}

fn col_str(row: &Row, c: &str) -> Option<String> {
    row.get(c)?.as_scalar().and_then(text)
}

fn col_int(row: &Row, c: &str) -> Option<i64> {
    match row.get(c)?.as_scalar()? {
        Value::Atom(Atom::Integer(i)) => Some(*i),
        _ => None,
    }
}

fn col_bool(row: &Row, c: &str) -> Option<bool> {
    match row.get(c)?.as_scalar()? {
        Value::Atom(Atom::Boolean(b)) => Some(*b),
        _ => None,
    }
}

fn col_strs(row: &Row, c: &str) -> Vec<String> {
    row.get(c)
        .and_then(Datum::as_set)
        .map(|s| s.iter().filter_map(text).collect())
        .unwrap_or_default()
}

fn col_map(row: &Row, c: &str) -> BTreeMap<String, String> {
    row.get(c)
        .and_then(Datum::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Keys of the rows a set-of-references column names (by the referenced row's key).
fn col_refs(row: &Row, c: &str) -> Vec<RowKey> {
    row.get(c)
        .and_then(Datum::as_set)
        .map(|s| {
            s.iter()
                .filter_map(|v| match v {
                    Value::Ref(r) => Some(r.key.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn first_ref(row: &Row, c: &str) -> Option<RowKey> {
    col_refs(row, c).into_iter().next()
}

fn name_of(key: &RowKey) -> String {
    key.0.last().cloned().unwrap_or_default()
}

struct Cx<'a> {
    input: &'a Input<'a>,
    notes: Vec<String>,
    /// Chassis named by the rows (gateways, bindings, HA groups).
    chassis_used: BTreeSet<String>,
    /// Physical networks each chassis must map: per requirement, one of these networks (an
    /// l2gateway port's network; a gateway's switch's localnet networks).
    chassis_networks: BTreeMap<String, Vec<Vec<String>>>,
    /// See [`Imported::tags`].
    tags: Vec<(String, uuid::Uuid, RowKey)>,
}

impl Cx<'_> {
    fn nb(&self, table: &str) -> impl Iterator<Item = (&RowKey, &Row)> {
        self.input
            .live
            .state
            .tables
            .get(&Db::Northbound)
            .and_then(|t| t.get(table))
            .into_iter()
            .flatten()
    }

    fn row(&self, table: &str, key: &RowKey) -> Option<&Row> {
        self.input.live.state.get(&Db::Northbound, table, key)
    }

    fn note(&mut self, s: impl Into<String>) {
        self.notes.push(s.into());
    }

    /// Whether a row belongs to another stack (and so is left out).
    fn foreign(&self, row: &Row) -> Option<String> {
        ownership::owner(row).filter(|o| o != self.input.stack)
    }

    /// Notes the columns of a row import does not carry and the map keys in `handled_keys`'
    /// complement, when they hold a value.
    fn unhandled(&mut self, table: &str, key: &RowKey, what: &str) {
        let Some(raw) = self.input.live.wire_columns(&Db::Northbound, table, key) else {
            return;
        };
        let Some(ts) = self.input.schema.table(table) else {
            return;
        };
        let handled = handled(table);
        let mut extra = Vec::new();
        for (c, schema_col) in &ts.columns {
            if handled.contains(&c.as_str()) {
                continue;
            }
            let Some(v) = raw.get(c) else {
                continue;
            };
            if *v != schema_col.ty.default_datum() && !is_default_setting(table, c, v) {
                extra.push(format!("{c}={v}"));
            }
        }
        if !extra.is_empty() {
            self.note(format!(
                "{what}: not expressible in the topology language, not imported: {}",
                extra.join(", ")
            ));
        }
        if let Some(ids) = self
            .row(table, key)
            .map(|r| col_map(r, "external_ids"))
            .filter(|m| m.keys().any(|k| !k.starts_with("topo:")))
        {
            let keys: Vec<&String> = ids.keys().filter(|k| !k.starts_with("topo:")).collect();
            self.note(format!(
                "{what}: external_ids keys {} belong to another tool; they are not in the \
                 topology, and topo keeps them as they are (it only writes its own topo: keys)",
                keys.iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    fn unknown_keys(
        &mut self,
        what: &str,
        column: &str,
        map: &BTreeMap<String, String>,
        known: &[&str],
    ) {
        let extra: Vec<String> = map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !extra.is_empty() {
            self.note(format!(
                "{what}: {column} keys not expressible in the topology language, not imported: {}",
                extra.join(", ")
            ));
        }
    }
}

/// Values that say what OVN does anyway (`ovn-nbctl lr-nat-add` writes
/// `options:stateless=false`), so leaving them out loses nothing.
fn is_default_setting(table: &str, column: &str, v: &Datum) -> bool {
    let Some(m) = v.as_map() else {
        return false;
    };
    let defaults: &[(&str, &str, &str, &str)] = &[("NAT", "options", "stateless", "false")];
    m.iter().all(|(k, val)| {
        defaults.iter().any(|(t, c, dk, dv)| {
            *t == table && *c == column && k.as_str() == Some(*dk) && val.as_str() == Some(*dv)
        })
    })
}

/// Builds the topology file from what was read.
pub(crate) fn import(input: &Input) -> Imported {
    let mut cx = Cx {
        input,
        notes: Vec::new(),
        chassis_used: BTreeSet::new(),
        chassis_networks: BTreeMap::new(),
        tags: Vec::new(),
    };
    for (table, n) in input.other_tables {
        if *n > 0 {
            cx.note(format!(
                "table {table}: {n} row(s) not imported (the topology language has no {table})"
            ));
        }
    }
    for dup in &input.live.duplicates {
        cx.note(format!(
            "{} {}: {} rows share this name; only the first ({}) is imported",
            dup.table,
            dup.key,
            dup.uuids.len(),
            dup.uuids
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ));
    }

    let switches_rows: Vec<(RowKey, Row)> = cx
        .nb("Logical_Switch")
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect();
    let sides = switch_sides(&mut cx, &switches_rows);
    let ha_groups = ha_groups(&mut cx);
    let localnet = localnet_networks(&cx, &switches_rows);
    let routers = routers(&mut cx, &sides, &localnet);
    let switches = switches(&mut cx, &switches_rows);
    let chassis = chassis(&mut cx);
    let vteps = vteps::vteps(&mut cx);
    let switch_names: BTreeSet<String> = switches.iter().map(|(n, _)| n.clone()).collect();
    let address_sets = services::address_sets(&mut cx);
    let port_groups = services::port_groups(&mut cx, &switch_names);
    let load_balancers = services::load_balancers(&mut cx);

    let mut doc: Vec<(String, Node)> = vec![("name".to_owned(), Node::str(input.stack))];
    if !chassis.is_empty() {
        doc.push(("chassis".to_owned(), Node::Map(chassis)));
    }
    if !vteps.is_empty() {
        doc.push(("vteps".to_owned(), Node::Map(vteps)));
    }
    if !ha_groups.is_empty() {
        doc.push(("ha-chassis-groups".to_owned(), Node::Map(ha_groups)));
    }
    doc.push(("switches".to_owned(), Node::Map(switches)));
    if !routers.is_empty() {
        doc.push(("routers".to_owned(), Node::Map(routers)));
    }
    for (key, section) in [
        ("address-sets", address_sets),
        ("port-groups", port_groups),
        ("load-balancers", load_balancers),
    ] {
        if !section.is_empty() {
            doc.push((key.to_owned(), Node::Map(section)));
        }
    }
    let header = format!(
        "# Imported by `topo import --stack {}` from the live Northbound database.\n",
        input.stack
    );
    Imported {
        yaml: header + &yaml::render(&doc),
        notes: cx.notes,
        tags: cx.tags,
    }
}

#[cfg(test)]
mod tests;

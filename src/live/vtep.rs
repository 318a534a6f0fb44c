//! A hardware VTEP's own `hardware_vtep` database through topo's OVSDB client: the one reader
//! and writer of it, for plan, drift, apply and the lab. It reads one physical switch
//! ([`Vtep::current`]) and writes what a [`VtepChange`] says ([`Vtep::write`]): the
//! `Physical_Switch` row when missing, its `tunnel_ips`, missing `Logical_Switch` rows, and
//! bindings entry by entry, with each port's ownership mark (`rows::vtep::owned_key`). It
//! removes only bindings the mark says the stack wrote, never deletes a row, and never
//! creates a `Physical_Port` (the switch publishes its own ports).

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;

use crate::diff::VtepChange;
use crate::ovsdb::{
    self, Atom, Client, Columns, ColumnsExt, Condition, ConnectOptions, Datum, Mutation, Operation,
};
use crate::rows::vtep::{self, Current};

/// A failure on a VTEP database, naming what was being done and where.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("{what} on {remote}: {source}")]
    #[diagnostic(code(topo::vtep::ovsdb))]
    Ovsdb {
        what: String,
        remote: String,
        #[source]
        source: Box<ovsdb::Error>,
    },
    #[error("VTEP {vtep} on {remote} has no physical port {ports}")]
    #[diagnostic(
        code("topo::vtep::missing-port"),
        help(
            "the switch publishes its own Physical_Port rows: check the port names, or that the switch (ovs-vtep) is running"
        )
    )]
    MissingPorts {
        vtep: String,
        remote: String,
        ports: String,
    },
}

impl Error {
    fn ovsdb(what: &str, remote: &str, source: ovsdb::Error) -> Error {
        Error::Ovsdb {
            what: what.to_owned(),
            remote: remote.to_owned(),
            source: Box::new(source),
        }
    }
}

/// Error codes of [`Error`], for `docs/diagnostics.md`.
pub const CODES: &[&str] = &["topo::vtep::ovsdb", "topo::vtep::missing-port"];

const DB: &str = "hardware_vtep";

/// A connection to one VTEP database.
pub struct Vtep {
    client: Client,
    remote: String,
}

/// One physical switch as read, with the UUIDs apply needs.
struct Read {
    current: Current,
    switch: Option<Uuid>,
    /// port name -> UUID, for the switch's ports
    ports: BTreeMap<String, Uuid>,
    /// logical switch name -> UUID
    logical_switches: BTreeMap<String, Uuid>,
}

impl Vtep {
    /// Connects; `wait_for_server`: keep trying until `deadline` while nothing listens (a
    /// lab's starting server), else fail at once.
    pub async fn connect(
        remote: &str,
        deadline: Duration,
        wait_for_server: bool,
    ) -> Result<Vtep, Error> {
        let options = ConnectOptions {
            database: Some(DB.to_owned()),
            deadline,
            wait_for_server,
            request_timeout: Some(Duration::from_secs(30)),
            ..ConnectOptions::default()
        };
        let client = Client::connect(remote, options)
            .await
            .map_err(|e| Error::ovsdb("connect", remote, e))?;
        Ok(Vtep {
            client,
            remote: remote.to_owned(),
        })
    }

    async fn select(&self, table: &str, columns: &[&str]) -> Result<Vec<Columns>, Error> {
        self.client
            .select(DB, table, vec![], columns)
            .await
            .map_err(|e| Error::ovsdb(&format!("select {table}"), &self.remote, e))
    }

    async fn read(&self, name: &str) -> Result<Read, Error> {
        let switches = self
            .select("Physical_Switch", &["_uuid", "name", "tunnel_ips", "ports"])
            .await?;
        let lswitches = self.select("Logical_Switch", &["_uuid", "name"]).await?;
        let logical_switches: BTreeMap<String, Uuid> = lswitches
            .iter()
            .filter_map(|r| Some((r.string("name")?.to_owned(), r.uuid("_uuid")?)))
            .collect();
        let by_uuid: BTreeMap<Uuid, &String> =
            logical_switches.iter().map(|(n, u)| (*u, n)).collect();
        let mut read = Read {
            current: Current {
                logical_switches: logical_switches.keys().cloned().collect(),
                ..Current::default()
            },
            switch: None,
            ports: BTreeMap::new(),
            logical_switches: logical_switches.clone(),
        };
        let Some(switch) = switches.iter().find(|r| r.string("name") == Some(name)) else {
            return Ok(read);
        };
        read.switch = switch.uuid("_uuid");
        read.current.switch_exists = true;
        read.current.tunnel_ips = switch
            .strings("tunnel_ips")
            .into_iter()
            .map(str::to_owned)
            .collect();
        let port_uuids: Vec<Uuid> = switch
            .get("ports")
            .and_then(Datum::as_set)
            .map(|s| s.iter().filter_map(Atom::as_uuid).collect())
            .unwrap_or_default();
        let ports = self
            .select(
                "Physical_Port",
                &["_uuid", "name", "vlan_bindings", "other_config"],
            )
            .await?;
        for p in &ports {
            let (Some(uuid), Some(pname)) = (p.uuid("_uuid"), p.string("name")) else {
                continue;
            };
            if !port_uuids.contains(&uuid) {
                continue;
            }
            let bindings: BTreeMap<i64, String> = p
                .get("vlan_bindings")
                .and_then(Datum::as_map)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| {
                            let ls = by_uuid.get(&v.as_uuid()?)?;
                            Some((k.as_integer()?, (*ls).clone()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut marks = p.string_map("other_config");
            marks.retain(|k, _| k.starts_with(crate::rows::ownership::PREFIX));
            if !marks.is_empty() {
                read.current.marks.insert(pname.to_owned(), marks);
            }
            read.current.ports.insert(pname.to_owned(), bindings);
            read.ports.insert(pname.to_owned(), uuid);
        }
        Ok(read)
    }

    /// Physical switch `name` as topo compares it with what a stack wants.
    pub(crate) async fn current(&self, name: &str) -> Result<Current, Error> {
        Ok(self.read(name).await?.current)
    }

    /// Writes `change` (re-read first, so only what still differs is written, in one
    /// transaction). Refuses, writing nothing, when a port to bind is not published.
    pub(crate) async fn write(&self, change: &VtepChange) -> Result<(), Error> {
        let read = self.read(&change.vtep).await?;
        let missing: Vec<&str> = change
            .wanted_bindings
            .keys()
            .filter(|p| !read.ports.contains_key(*p))
            .map(String::as_str)
            .collect();
        if read.switch.is_some() && !missing.is_empty() {
            return Err(Error::MissingPorts {
                vtep: change.vtep.clone(),
                remote: self.remote.clone(),
                ports: missing.join(", "),
            });
        }
        let mut ops = Vec::new();
        let tunnel_ips = Datum::set([Atom::string(change.tunnel_ip.as_str())]);
        match read.switch {
            None => {
                if self.select("Global", &["_uuid"]).await?.is_empty() {
                    ops.push(Operation::insert("Global", Columns::new()));
                }
                let mut row = Columns::new();
                row.insert(
                    "name".into(),
                    Datum::scalar(Atom::string(change.vtep.as_str())),
                );
                row.insert("tunnel_ips".into(), tunnel_ips);
                ops.push(Operation::insert("Physical_Switch", row).with_uuid_name("ps"));
                ops.push(Operation::mutate(
                    "Global",
                    vec![],
                    vec![Mutation::insert(
                        "switches",
                        Datum::set([Atom::NamedUuid("ps".into())]),
                    )],
                ));
            }
            Some(uuid) if read.current.tunnel_ips != [change.tunnel_ip.clone()] => {
                let mut row = Columns::new();
                row.insert("tunnel_ips".into(), tunnel_ips);
                ops.push(Operation::update(
                    "Physical_Switch",
                    vec![Condition::uuid(uuid)],
                    row,
                ));
            }
            Some(_) => {}
        }
        let mut ls_ref: BTreeMap<String, Atom> = read
            .logical_switches
            .iter()
            .map(|(n, u)| (n.clone(), Atom::Uuid(*u)))
            .collect();
        let wanted_ls: std::collections::BTreeSet<&String> = change
            .wanted_bindings
            .values()
            .flat_map(|b| b.values())
            .collect();
        for (i, ls) in wanted_ls.into_iter().enumerate() {
            if ls_ref.contains_key(ls) {
                continue;
            }
            let name = format!("ls{i}");
            let mut row = Columns::new();
            row.insert("name".into(), Datum::scalar(Atom::string(ls.as_str())));
            ops.push(Operation::insert("Logical_Switch", row).with_uuid_name(&name));
            ls_ref.insert(ls.clone(), Atom::NamedUuid(name));
        }
        let key = vtep::owned_key(&change.stack);
        for (port, uuid) in &read.ports {
            let have = read.current.ports.get(port);
            let wanted = change.wanted_bindings.get(port);
            let differ: Vec<(i64, Atom)> = wanted
                .into_iter()
                .flatten()
                .filter(|(v, ls)| have.and_then(|h| h.get(v)) != Some(ls))
                .filter_map(|(v, ls)| Some((*v, ls_ref.get(ls)?.clone())))
                .collect();
            // Bindings this stack wrote and no longer wants (the operator's stay).
            let unbind: Vec<i64> = read
                .current
                .owned(port, &change.stack)
                .into_iter()
                .filter(|v| !wanted.is_some_and(|w| w.contains_key(v)))
                .filter(|v| have.is_some_and(|h| h.contains_key(v)))
                .collect();
            let mark_now = read.current.marks.get(port).and_then(|m| m.get(&key));
            let mark_wanted = wanted.map(|w| vtep::format_owned(w.keys()));
            let mut mutations = Vec::new();
            if !differ.is_empty() || !unbind.is_empty() {
                let removed = differ.iter().map(|(v, _)| *v).chain(unbind.iter().copied());
                mutations.push(Mutation::delete(
                    "vlan_bindings",
                    Datum::set(removed.map(Atom::Integer)),
                ));
            }
            if !differ.is_empty() {
                mutations.push(Mutation::insert(
                    "vlan_bindings",
                    Datum::map(differ.into_iter().map(|(v, a)| (Atom::Integer(v), a))),
                ));
            }
            if mark_now != mark_wanted.as_ref() {
                mutations.push(Mutation::delete(
                    "other_config",
                    Datum::set([Atom::string(key.as_str())]),
                ));
                if let Some(mark) = &mark_wanted {
                    mutations.push(Mutation::insert(
                        "other_config",
                        Datum::map([(Atom::string(key.as_str()), Atom::string(mark.as_str()))]),
                    ));
                }
            }
            if !mutations.is_empty() {
                ops.push(Operation::mutate(
                    "Physical_Port",
                    vec![Condition::uuid(*uuid)],
                    mutations,
                ));
            }
        }
        if ops.is_empty() {
            return Ok(());
        }
        self.client
            .transact(DB, &ops)
            .await
            .map_err(|e| Error::ovsdb(&format!("write VTEP {}", change.vtep), &self.remote, e))?;
        Ok(())
    }
}

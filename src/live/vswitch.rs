//! A chassis's own `Open_vSwitch` database through topo's OVSDB client: the one reader
//! and writer of it, for plan, drift and apply (the chassis section, `rows::chassis`) and for
//! the lab, which builds its chassis with the same calls. It reads the root row's
//! `external_ids` and the bridges with their ports ([`Vswitch::current`]), creates bridges,
//! ports and interfaces, and waits until `ovs-vswitchd` has applied a change (`cur_cfg`
//! catching up with `next_cfg`, as `ovs-vsctl` does).
//!
//! Writes never overwrite a set or map they do not own: bridges are added to the root row
//! and ports to a bridge with `mutate insert`, `external_ids` keys are replaced one by one.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::ovsdb::{
    self, Atom, Client, Columns, ColumnsExt, Condition, ConnectOptions, Datum, Mutation, Mutator,
    OpResult, Operation,
};
use crate::poll::poll_until;
use crate::rows::chassis::Current;

/// A failure on a chassis database, naming what was being done and where.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("{what} on {remote}: {source}")]
    #[diagnostic(code(topo::vswitch::ovsdb))]
    Ovsdb {
        what: String,
        remote: String,
        #[source]
        source: Box<ovsdb::Error>,
    },
    #[error("cannot add port {port}: no bridge {bridge} on {remote}")]
    #[diagnostic(code("topo::vswitch::no-bridge"))]
    NoBridge {
        port: String,
        bridge: String,
        remote: String,
    },
    #[error("timed out after {seconds:.1} s waiting for {what}")]
    #[diagnostic(
        code(topo::vswitch::timeout),
        help("is ovs-vswitchd running on that chassis?")
    )]
    Timeout { what: String, seconds: f64 },
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

const DB: &str = "Open_vSwitch";

/// A port to create: its name (also the interface's), interface type and external_ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortSpec {
    pub name: String,
    /// `internal`, or empty for a system device (a veth).
    pub kind: String,
    pub external_ids: BTreeMap<String, String>,
    /// Access VLAN (`Port.tag`); none: a trunk.
    pub tag: Option<u16>,
}

impl PortSpec {
    pub(crate) fn system(name: &str) -> PortSpec {
        PortSpec {
            name: name.to_owned(),
            ..PortSpec::default()
        }
    }
}

/// A bridge to create (with its own internal port of the same name).
#[derive(Debug, Clone, Default)]
pub(crate) struct BridgeSpec {
    pub name: String,
    pub datapath_type: String,
    /// `secure` for `br-int`; empty for the default.
    pub fail_mode: String,
    pub external_ids: BTreeMap<String, String>,
}

/// A connection to one chassis's Open_vSwitch database.
pub struct Vswitch {
    client: Client,
    remote: String,
}

fn string_map(m: &BTreeMap<String, String>) -> Datum {
    Datum::map(
        m.iter()
            .map(|(k, v)| (Atom::string(k.as_str()), Atom::string(v.as_str()))),
    )
}

impl Vswitch {
    /// Connects, waiting up to `deadline` for a server that is still starting.
    pub async fn connect(remote: &str, deadline: Duration) -> Result<Vswitch, Error> {
        Self::open(remote, deadline, true).await
    }

    /// Connects to a server that should be running: nothing listening fails at once (the
    /// chassis plan and apply reach are running already, unlike a lab's starting daemons).
    pub(crate) async fn connect_running(
        remote: &str,
        deadline: Duration,
    ) -> Result<Vswitch, Error> {
        Self::open(remote, deadline, false).await
    }

    async fn open(
        remote: &str,
        deadline: Duration,
        wait_for_server: bool,
    ) -> Result<Vswitch, Error> {
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
        Ok(Vswitch {
            client,
            remote: remote.to_owned(),
        })
    }

    async fn transact(&self, what: &str, ops: &[Operation]) -> Result<Vec<OpResult>, Error> {
        self.client
            .transact(DB, ops)
            .await
            .map_err(|e| Error::ovsdb(what, &self.remote, e))
    }

    /// `ovs-vsctl init`: creates the root row if the database has none.
    pub(crate) async fn init(&self) -> Result<(), Error> {
        if !self.select(DB, vec![], &["_uuid"]).await?.is_empty() {
            return Ok(());
        }
        self.transact("init", &[Operation::insert(DB, Columns::new())])
            .await?;
        Ok(())
    }

    /// Sets keys of the root row's `external_ids`, leaving other keys alone.
    pub(crate) async fn set_external_ids(
        &self,
        ids: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let keys = Datum::set(ids.keys().map(|k| Atom::string(k.as_str())));
        let op = Operation::mutate(
            DB,
            vec![],
            vec![
                Mutation::delete("external_ids", keys),
                Mutation::insert("external_ids", string_map(ids)),
            ],
        );
        self.transact("set external_ids", &[op]).await?;
        Ok(())
    }

    /// The rows of `table` matching `conditions`, with `columns`, typed by the schema.
    async fn select(
        &self,
        table: &str,
        conditions: Vec<Condition>,
        columns: &[&str],
    ) -> Result<Vec<Columns>, Error> {
        self.client
            .select(DB, table, conditions, columns)
            .await
            .map_err(|e| Error::ovsdb(&format!("select {table}"), &self.remote, e))
    }

    /// The root row's `external_ids`.
    pub async fn external_ids(&self) -> Result<BTreeMap<String, String>, Error> {
        let rows = self.select(DB, vec![], &["external_ids"]).await?;
        Ok(rows
            .first()
            .map(|row| row.string_map("external_ids"))
            .unwrap_or_default())
    }

    /// Names of the existing bridges.
    pub(crate) async fn bridges(&self) -> Result<Vec<String>, Error> {
        let rows = self.select("Bridge", vec![], &["name"]).await?;
        Ok(rows
            .iter()
            .filter_map(|row| row.string("name").map(str::to_owned))
            .collect())
    }

    /// Names of the ports of `bridge` (empty if it does not exist).
    pub async fn ports(&self, bridge: &str) -> Result<Vec<String>, Error> {
        let bridges = self
            .select("Bridge", vec![Condition::eq("name", bridge)], &["ports"])
            .await?;
        let Some(wanted) = bridges.first().map(|row| {
            row.get("ports")
                .and_then(Datum::as_set)
                .map(|set| set.iter().filter_map(Atom::as_uuid).collect::<Vec<_>>())
                .unwrap_or_default()
        }) else {
            return Ok(Vec::new());
        };
        let ports = self.select("Port", vec![], &["_uuid", "name"]).await?;
        Ok(ports
            .iter()
            .filter(|row| row.uuid("_uuid").is_some_and(|u| wanted.contains(&u)))
            .filter_map(|row| row.string("name").map(str::to_owned))
            .collect())
    }

    /// Creates `bridge` with its internal port and `ports`, unless a bridge of that name
    /// exists (then only the missing ports are added).
    pub(crate) async fn ensure_bridge(
        &self,
        bridge: &BridgeSpec,
        ports: &[PortSpec],
    ) -> Result<(), Error> {
        if self.bridges().await?.contains(&bridge.name) {
            let have = self.ports(&bridge.name).await?;
            for p in ports.iter().filter(|p| !have.contains(&p.name)) {
                self.add_port(&bridge.name, p).await?;
            }
            return Ok(());
        }
        let mut ops = Vec::new();
        let own = PortSpec {
            name: bridge.name.clone(),
            kind: "internal".into(),
            ..PortSpec::default()
        };
        let mut port_refs = Vec::new();
        for (i, p) in std::iter::once(&own).chain(ports).enumerate() {
            let port = format!("port{i}");
            ops.extend(port_ops(p, &format!("iface{i}"), &port));
            port_refs.push(Atom::NamedUuid(port));
        }
        let mut row = Columns::new();
        row.insert(
            "name".into(),
            Datum::scalar(Atom::string(bridge.name.as_str())),
        );
        row.insert("ports".into(), Datum::set(port_refs));
        if !bridge.datapath_type.is_empty() {
            row.insert(
                "datapath_type".into(),
                Datum::scalar(Atom::string(bridge.datapath_type.as_str())),
            );
        }
        if !bridge.fail_mode.is_empty() {
            row.insert(
                "fail_mode".into(),
                Datum::set([Atom::string(bridge.fail_mode.as_str())]),
            );
        }
        if !bridge.external_ids.is_empty() {
            row.insert("external_ids".into(), string_map(&bridge.external_ids));
        }
        ops.push(Operation::insert("Bridge", row).with_uuid_name("bridge"));
        ops.push(Operation::mutate(
            DB,
            vec![],
            vec![Mutation::insert(
                "bridges",
                Datum::set([Atom::NamedUuid("bridge".into())]),
            )],
        ));
        self.transact(&format!("add bridge {}", bridge.name), &ops)
            .await?;
        Ok(())
    }

    /// Adds a port (and its interface) to an existing bridge.
    pub(crate) async fn add_port(&self, bridge: &str, port: &PortSpec) -> Result<(), Error> {
        let mut ops = port_ops(port, "iface", "port");
        ops.push(Operation::mutate(
            "Bridge",
            vec![Condition::eq("name", bridge)],
            vec![Mutation::insert(
                "ports",
                Datum::set([Atom::NamedUuid("port".into())]),
            )],
        ));
        let res = self
            .transact(&format!("add port {} to {bridge}", port.name), &ops)
            .await?;
        if res.get(2).and_then(|r| r.count()) == Some(0) {
            return Err(Error::NoBridge {
                port: port.name.clone(),
                bridge: bridge.to_owned(),
                remote: self.remote.clone(),
            });
        }
        Ok(())
    }

    /// Removes from `bridge` the ports whose interface has `external_ids:iface-id=iface_id`
    /// (a lab VM taken away); returns their names. The Port and Interface rows go with the
    /// reference (they are not root rows).
    pub(crate) async fn remove_iface_ports(
        &self,
        bridge: &str,
        iface_id: &str,
    ) -> Result<Vec<String>, Error> {
        let ifaces: Vec<String> = self
            .select("Interface", vec![], &["name", "external_ids"])
            .await?
            .iter()
            .filter(|row| {
                row.string_map("external_ids")
                    .get("iface-id")
                    .is_some_and(|id| id == iface_id)
            })
            .filter_map(|row| row.string("name").map(str::to_owned))
            .collect();
        let ports: Vec<Atom> = self
            .select("Port", vec![], &["_uuid", "name"])
            .await?
            .iter()
            .filter(|row| {
                row.string("name")
                    .is_some_and(|n| ifaces.iter().any(|i| i == n))
            })
            .filter_map(|row| row.uuid("_uuid"))
            .map(Atom::Uuid)
            .collect();
        if !ports.is_empty() {
            let op = Operation::mutate(
                "Bridge",
                vec![Condition::eq("name", bridge)],
                vec![Mutation::delete("ports", Datum::set(ports))],
            );
            self.transact(
                &format!("remove the ports of {iface_id} from {bridge}"),
                &[op],
            )
            .await?;
        }
        Ok(ifaces)
    }

    /// Asks `ovs-vswitchd` to apply the database and waits until it has (`cur_cfg` reaches
    /// the new `next_cfg`), polling until `deadline`.
    pub(crate) async fn wait_applied(&self, deadline: Duration) -> Result<(), Error> {
        let res = self
            .transact(
                "bump next_cfg",
                &[
                    Operation::mutate(
                        DB,
                        vec![],
                        vec![Mutation::new(
                            "next_cfg",
                            Mutator::Add,
                            Datum::scalar(Atom::Integer(1)),
                        )],
                    ),
                    Operation::select(DB, vec![], Some(vec!["next_cfg".into()])),
                ],
            )
            .await?;
        let target = res
            .get(1)
            .and_then(|r| r.rows().first())
            .and_then(|row| row.get("next_cfg"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let seen = poll_until(deadline, Duration::from_millis(20), || async {
            let rows = self.select(DB, vec![], &["cur_cfg"]).await?;
            let cur = rows
                .first()
                .and_then(|row| row.integer("cur_cfg"))
                .unwrap_or(0);
            Ok(if cur >= target { Ok(()) } else { Err(cur) })
        })
        .await?;
        seen.map_err(|cur| Error::Timeout {
            what: format!(
                "ovs-vswitchd to apply next_cfg {target} ({}; cur_cfg is {cur})",
                self.remote
            ),
            seconds: deadline.as_secs_f64(),
        })
    }

    /// What topo compares with a chassis's wanted state: the root row's `external_ids`, and
    /// the ports of those of `bridges` that exist.
    pub(crate) async fn current<'a>(
        &self,
        bridges: impl IntoIterator<Item = &'a String>,
    ) -> Result<Current, Error> {
        let external_ids = self.external_ids().await?;
        let existing = self.bridges().await?;
        let mut out = Current {
            external_ids,
            bridges: BTreeMap::new(),
        };
        for bridge in bridges {
            if existing.contains(bridge) {
                out.bridges
                    .insert(bridge.clone(), self.ports(bridge).await?);
            }
        }
        Ok(out)
    }
}

/// Inserts an Interface and a Port named `uuid_port` holding it.
fn port_ops(p: &PortSpec, uuid_iface: &str, uuid_port: &str) -> Vec<Operation> {
    let mut iface = Columns::new();
    iface.insert("name".into(), Datum::scalar(Atom::string(p.name.as_str())));
    if !p.kind.is_empty() {
        iface.insert("type".into(), Datum::scalar(Atom::string(p.kind.as_str())));
    }
    if !p.external_ids.is_empty() {
        iface.insert("external_ids".into(), string_map(&p.external_ids));
    }
    let mut port = Columns::new();
    port.insert("name".into(), Datum::scalar(Atom::string(p.name.as_str())));
    if let Some(tag) = p.tag {
        port.insert("tag".into(), Datum::scalar(Atom::Integer(i64::from(tag))));
    }
    port.insert(
        "interfaces".into(),
        Datum::set([Atom::NamedUuid(uuid_iface.to_owned())]),
    );
    vec![
        Operation::insert("Interface", iface).with_uuid_name(uuid_iface),
        Operation::insert("Port", port).with_uuid_name(uuid_port),
    ]
}

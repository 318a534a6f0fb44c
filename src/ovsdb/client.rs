//! The client facade: connect (following the leader of a clustered database), call the
//! RFC 7047 methods, reconnect when the connection is lost.
//!
//! Safety rule for writes: a `transact` whose connection is lost (or whose reply times out)
//! after it was sent is reported as [`Error::OutcomeUnknown`] and never re-sent, because it
//! may have committed. Reads (`list_dbs`, `get_schema`, `echo`, [`Client::select`]) are
//! retried once on a fresh connection.
//!
//! [`Client::select`] is the typed read: one `select` decoded with the database's schema,
//! which the client fetches once per database and connection ([`Client::schema`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::cluster;
use super::error::{Error, OpError};
use super::jsonrpc::{CallError, Connection, ConnectionOptions, RawEvent, RawNotification};
use super::monitor::{MonitorRequest, Rows, TableUpdates, decode_rows, parse_table_updates};
use super::operation::{Columns, Condition, OpResult, Operation, columns_from_json};
use super::remote::Remote;
use super::schema::DatabaseSchema;
use super::tls::TlsConfig;
use super::transport;
use serde_json::value::RawValue;

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The database the client will use. When set and the server runs it clustered, only a
    /// member that is connected to the cluster and is its leader is accepted.
    pub database: Option<String>,
    /// Accept a follower (reads only need a connected member). Default: leader only.
    pub allow_follower: bool,
    /// PEM files for `ssl:` remotes.
    pub tls: Option<TlsConfig>,
    /// Timeout of one connection attempt (TCP/TLS handshake).
    pub connect_timeout: Duration,
    /// How long to keep trying remotes (with backoff) while no acceptable one answers.
    pub deadline: Duration,
    /// Keep retrying when every remote refuses connections (a server that is starting).
    /// Otherwise one pass over unreachable remotes fails at once.
    pub wait_for_server: bool,
    /// Timeout of one request; `None` waits as long as the connection lives.
    pub request_timeout: Option<Duration>,
    /// Inactivity probe interval (ovsdb-server's default is 5 s).
    pub inactivity_probe: Option<Duration>,
    /// Largest message accepted from the server.
    pub max_message: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            database: None,
            allow_follower: false,
            tls: None,
            connect_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(30),
            wait_for_server: false,
            request_timeout: Some(Duration::from_secs(120)),
            inactivity_probe: Some(Duration::from_secs(5)),
            max_message: 1 << 30,
        }
    }
}

impl ConnectOptions {
    pub fn for_database(database: &str) -> ConnectOptions {
        ConnectOptions {
            database: Some(database.to_owned()),
            ..ConnectOptions::default()
        }
    }
}

/// A notification from the server, or the client's own word that the connection was lost.
#[derive(Debug, Clone)]
pub enum Notification {
    /// `update`, `update2` or `update3` for the monitor with this id.
    Update {
        monitor: Value,
        updates: TableUpdates,
    },
    /// The lock was granted after a `lock` that could not get it at once.
    Locked(String),
    /// Another client stole the lock.
    Stolen(String),
    /// The connection was lost; monitors and locks of that connection are gone.
    Disconnected { remote: String, reason: String },
    /// Anything else the server sent without an id.
    Other { method: String, params: Value },
}

/// What the client learnt about the server it is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub remote: Remote,
    /// From `_Server.Database` for the configured database, when the server has `_Server`.
    pub database: Option<cluster::DatabaseStatus>,
}

struct Current {
    conn: Arc<Connection>,
    info: ServerInfo,
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// An OVSDB client. Clone-free: share it behind an `Arc` if several tasks need it; all
/// methods take `&self`.
pub struct Client {
    remotes: Vec<Remote>,
    options: ConnectOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
    current: tokio::sync::Mutex<Option<Current>>,
    /// Index of the remote to try first on the next (re)connect.
    next_remote: AtomicUsize,
    /// `monitor` instead of `monitor_cond` once the server said it lacks the latter.
    plain_monitor: AtomicBool,
    notify_tx: mpsc::UnboundedSender<RawEvent>,
    notify_rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<RawEvent>>>,
    /// Schemas by database, fetched on the current connection. A reconnect empties it: a
    /// server converts a database's schema only by dropping its clients.
    schemas: std::sync::Mutex<HashMap<String, Arc<DatabaseSchema>>>,
}

impl Client {
    /// Connects to the first acceptable remote of `remotes` (a comma-separated OVN remote
    /// list).
    pub async fn connect(remotes: &str, options: ConnectOptions) -> Result<Client, Error> {
        let remotes = Remote::parse_list(remotes)?;
        let tls = if remotes.iter().any(Remote::is_ssl) {
            match &options.tls {
                Some(t) => Some(t.client_config()?),
                None => {
                    let ssl = remotes.iter().find(|r| r.is_ssl()).map(ToString::to_string);
                    return Err(Error::TlsMissing {
                        remote: ssl.unwrap_or_default(),
                    });
                }
            }
        } else {
            None
        };
        let (notify_tx, notify_rx) = mpsc::unbounded_channel();
        let client = Client {
            remotes,
            options,
            tls,
            current: tokio::sync::Mutex::new(None),
            next_remote: AtomicUsize::new(0),
            plain_monitor: AtomicBool::new(false),
            notify_tx,
            notify_rx: std::sync::Mutex::new(Some(notify_rx)),
            schemas: std::sync::Mutex::new(HashMap::new()),
        };
        client.ensure_connected().await?;
        Ok(client)
    }

    /// The server currently connected to.
    pub async fn server(&self) -> Result<ServerInfo, Error> {
        let (_, info) = self.ensure_connected().await?;
        Ok(info)
    }

    /// The remotes this client was given, as written (`unix:…`, `ssl:…`), in order.
    pub fn remotes(&self) -> Vec<String> {
        self.remotes.iter().map(ToString::to_string).collect()
    }

    /// The stream of notifications. Can be taken once; later calls return `None`.
    pub fn notifications(&self) -> Option<Notifications> {
        self.notify_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|rx| Notifications { rx })
    }

    /// Closes the connection. Later calls reconnect.
    pub async fn close(&self) {
        if let Some(cur) = self.current.lock().await.take() {
            cur.conn.close().await;
        }
    }

    async fn ensure_connected(&self) -> Result<(Arc<Connection>, ServerInfo), Error> {
        let mut cur = self.current.lock().await;
        if let Some(c) = cur.as_ref().filter(|c| !c.conn.is_closed()) {
            return Ok((c.conn.clone(), c.info.clone()));
        }
        let found = self.find_server().await?;
        self.schemas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let out = (found.conn.clone(), found.info.clone());
        *cur = Some(found);
        Ok(out)
    }

    /// Tries the remotes in turn, starting after the last one used, until one is acceptable
    /// or the deadline passes.
    async fn find_server(&self) -> Result<Current, Error> {
        let start = Instant::now();
        let mut backoff = Duration::from_millis(50);
        let n = self.remotes.len();
        loop {
            let mut reasons = Vec::new();
            let mut any_reachable = false;
            let first = self.next_remote.load(Ordering::Relaxed);
            for i in 0..n {
                let idx = (first + i) % n;
                let remote = &self.remotes[idx];
                match self.try_remote(remote).await {
                    Ok(current) => {
                        self.next_remote.store(idx, Ordering::Relaxed);
                        return Ok(current);
                    }
                    Err(TryError::Refused(e)) => {
                        any_reachable = true;
                        reasons.push(e);
                    }
                    Err(TryError::Failed(e)) => {
                        if !e.is_transient() {
                            return Err(e);
                        }
                        reasons.push(e.to_string());
                    }
                }
            }
            let remotes: Vec<String> = self.remotes.iter().map(ToString::to_string).collect();
            let give_up = start.elapsed() + backoff > self.options.deadline
                || (!any_reachable && !self.options.wait_for_server);
            if give_up {
                return Err(match (&self.options.database, any_reachable) {
                    (Some(db), true) => Error::NoLeader {
                        database: db.clone(),
                        remotes,
                        reasons,
                    },
                    _ => Error::Unreachable { remotes, reasons },
                });
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
            self.next_remote.store((first + 1) % n, Ordering::Relaxed);
        }
    }

    async fn try_remote(&self, remote: &Remote) -> Result<Current, TryError> {
        let stream = transport::connect(remote, self.tls.as_ref(), self.options.connect_timeout)
            .await
            .map_err(TryError::Failed)?;
        let conn = Connection::start(
            remote.to_string(),
            stream,
            ConnectionOptions {
                probe: self.options.inactivity_probe,
                busy: self.options.request_timeout,
                max_message: self.options.max_message,
            },
            self.notify_tx.clone(),
        );
        let mut info = ServerInfo {
            remote: remote.clone(),
            database: None,
        };
        if let Some(db) = &self.options.database {
            let status = cluster::database_status(&conn, remote, db, self.options.request_timeout)
                .await
                .map_err(|e| TryError::Failed(tls_refusal(remote, e)))?;
            match &status {
                Some(s) if !s.exists => {
                    conn.close().await;
                    return Err(TryError::Failed(Error::UnknownDatabase {
                        remote: remote.to_string(),
                        database: db.clone(),
                    }));
                }
                Some(s) if s.is_clustered() && !s.connected => {
                    conn.close().await;
                    return Err(TryError::Refused(format!(
                        "{remote}: not connected to the {db} cluster"
                    )));
                }
                Some(s) if s.is_clustered() && !s.leader && !self.options.allow_follower => {
                    conn.close().await;
                    return Err(TryError::Refused(format!("{remote}: not the {db} leader")));
                }
                _ => {}
            }
            info.database = status;
        }
        Ok(Current {
            conn,
            info,
            tls: self.tls.clone(),
        })
    }

    /// A request that is safe to repeat: retried once on a new connection if the connection
    /// was lost.
    async fn read_call<P: serde::Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<Value, Error> {
        let mut retried = false;
        loop {
            let (conn, info) = self.ensure_connected().await?;
            match conn
                .call(method, params, self.options.request_timeout)
                .await
            {
                Ok(v) => return Ok(v),
                Err(CallError::NotSent(_)) if !retried => retried = true,
                Err(CallError::Lost(_)) if !retried => retried = true,
                Err(e) => return Err(self.call_error(e, method, &info.remote)),
            }
        }
    }

    fn call_error(&self, e: CallError, method: &str, remote: &Remote) -> Error {
        let remote = remote.to_string();
        let method = method.to_owned();
        match e {
            CallError::Rpc(error) => Error::Rpc {
                remote,
                method,
                error,
            },
            CallError::NotSent(reason) | CallError::Lost(reason) => Error::Disconnected {
                remote,
                method,
                reason,
            },
            CallError::Timeout => Error::Timeout {
                remote,
                method,
                after: self.options.request_timeout.unwrap_or_default(),
            },
        }
    }

    /// `list_dbs`.
    pub async fn list_dbs(&self) -> Result<Vec<String>, Error> {
        let v = self.read_call("list_dbs", &json!([])).await?;
        serde_json::from_value(v).map_err(|e| self.protocol("list_dbs", e))
    }

    /// `get_schema`, always asked of the server; the answer also becomes the cached schema
    /// [`Client::schema`] and [`Client::select`] use.
    pub async fn get_schema(&self, database: &str) -> Result<DatabaseSchema, Error> {
        let v = self.read_call("get_schema", &json!([database])).await?;
        let schema = DatabaseSchema::from_json(&v).map_err(|e| self.protocol("get_schema", e))?;
        self.schemas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(database.to_owned(), Arc::new(schema.clone()));
        Ok(schema)
    }

    /// The schema of `database`: asked of the server once per connection, then cached.
    pub(crate) async fn schema(&self, database: &str) -> Result<Arc<DatabaseSchema>, Error> {
        let cached = self
            .schemas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(database)
            .cloned();
        match cached {
            Some(schema) => Ok(schema),
            None => self.get_schema(database).await.map(Arc::new),
        }
    }

    /// The rows of `table` in `db` matching `conditions`, with only `columns` (plus none else), each decoded with the database's schema.
    ///
    /// An empty `columns` selects every column. Columns are typed by the schema (cached,
    /// [`Client::schema`]), so after the first call for a database a select is one round
    /// trip. A select writes nothing: like the other reads it is retried once on a new
    /// connection when the connection is lost, and a failure is never
    /// [`Error::OutcomeUnknown`]. An operation the server refuses (an unknown table or
    /// column) is [`Error::Transaction`].
    pub async fn select(
        &self,
        db: &str,
        table: &str,
        conditions: Vec<Condition>,
        columns: &[&str],
    ) -> Result<Vec<Columns>, Error> {
        let schema = self.schema(db).await?;
        let columns =
            (!columns.is_empty()).then(|| columns.iter().map(|c| (*c).to_owned()).collect());
        let operations = [Operation::select(table, conditions, columns)];
        let params = TransactParams {
            database: db,
            operations: &operations,
        };
        let reply = self.read_call("transact", &params).await?;
        select_rows(&schema, db, table, &operations, &reply).map_err(|e| match e {
            ReplyError::Op(e) => e,
            ReplyError::Malformed(m) => self.protocol("transact", m),
        })
    }

    /// `echo`: a round trip that proves the server is alive.
    pub async fn echo(&self) -> Result<(), Error> {
        self.read_call("echo", &json!(["topo"])).await.map(|_| ())
    }

    fn protocol(&self, method: &str, e: impl std::fmt::Display) -> Error {
        let remote = self
            .current
            .try_lock()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.info.remote.to_string()))
            .unwrap_or_else(|| {
                self.remotes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            });
        Error::Protocol {
            remote,
            message: format!("unexpected reply to `{method}`: {e}"),
        }
    }

    /// `transact`: runs `operations` atomically. A per-operation failure is
    /// [`Error::Transaction`] (nothing committed); a lost reply is [`Error::OutcomeUnknown`].
    pub async fn transact(
        &self,
        database: &str,
        operations: &[Operation],
    ) -> Result<Vec<OpResult>, Error> {
        let mut retried = false;
        let reply = loop {
            let (conn, info) = self.ensure_connected().await?;
            match conn
                .call_streamed(
                    "transact",
                    database,
                    operations,
                    self.options.request_timeout,
                )
                .await
            {
                Ok(v) => break v,
                // Nothing reached the server: one fresh connection is safe.
                Err(CallError::NotSent(_)) if !retried => retried = true,
                Err(e) => return Err(self.transact_error(e, database, &info.remote)),
            }
        };
        parse_transact_reply(database, operations, &reply).map_err(|e| match e {
            ReplyError::Op(e) => e,
            ReplyError::Malformed(m) => self.protocol("transact", m),
        })
    }

    fn transact_error(&self, e: CallError, database: &str, remote: &Remote) -> Error {
        match e {
            CallError::Lost(reason) => Error::OutcomeUnknown {
                remote: remote.to_string(),
                database: database.to_owned(),
                reason: format!("the connection was lost ({reason})"),
            },
            CallError::Timeout => Error::OutcomeUnknown {
                remote: remote.to_string(),
                database: database.to_owned(),
                reason: format!(
                    "no reply came within {:?}",
                    self.options.request_timeout.unwrap_or_default()
                ),
            },
            other => self.call_error(other, "transact", remote),
        }
    }

    /// `monitor_cond` (or `monitor` on servers without it): returns the initial contents;
    /// later changes arrive as [`Notification::Update`] with the same `id`.
    pub async fn monitor_cond(
        &self,
        database: &str,
        id: Value,
        requests: &BTreeMap<String, MonitorRequest>,
    ) -> Result<TableUpdates, Error> {
        let (method, raw) = self.monitor_raw(database, id, requests).await?;
        let value =
            serde_json::from_str(raw.get()).map_err(|e| self.protocol(method, e.to_string()))?;
        parse_table_updates(value).map_err(|m| self.protocol(method, m))
    }

    /// [`Client::monitor_cond`], the initial rows decoded straight from the reply's text into
    /// columns typed by `schema` ([`super::monitor::decode_rows`]): the cheapest full read.
    pub(crate) async fn monitor_cond_rows(
        &self,
        schema: &DatabaseSchema,
        id: Value,
        requests: &BTreeMap<String, MonitorRequest>,
    ) -> Result<Rows, Error> {
        let (method, raw) = self.monitor_raw(&schema.name, id, requests).await?;
        decode_rows(raw.get(), schema).map_err(|m| self.protocol(method, m))
    }

    /// Sends `monitor_cond` (or `monitor`); the method used and its reply's text.
    async fn monitor_raw(
        &self,
        database: &str,
        id: Value,
        requests: &BTreeMap<String, MonitorRequest>,
    ) -> Result<(&'static str, Box<RawValue>), Error> {
        let (conn, info) = self.ensure_connected().await?;
        if !self.plain_monitor.load(Ordering::Relaxed) {
            let reqs: serde_json::Map<String, Value> = requests
                .iter()
                .map(|(t, r)| (t.clone(), json!([r.to_json(true)])))
                .collect();
            match conn
                .call_raw(
                    "monitor_cond",
                    &json!([database, id, reqs]),
                    self.options.request_timeout,
                )
                .await
            {
                Ok(v) => return Ok(("monitor_cond", v)),
                Err(CallError::Rpc(e)) if is_unknown_method(&e) => {
                    self.plain_monitor.store(true, Ordering::Relaxed);
                }
                Err(e) => return Err(self.call_error(e, "monitor_cond", &info.remote)),
            }
        }
        let reqs: serde_json::Map<String, Value> = requests
            .iter()
            .map(|(t, r)| (t.clone(), r.to_json(false)))
            .collect();
        let v = conn
            .call_raw(
                "monitor",
                &json!([database, id, reqs]),
                self.options.request_timeout,
            )
            .await
            .map_err(|e| self.call_error(e, "monitor", &info.remote))?;
        Ok(("monitor", v))
    }

    /// `monitor_cancel`.
    pub async fn monitor_cancel(&self, id: Value) -> Result<(), Error> {
        self.session_call("monitor_cancel", json!([id]))
            .await
            .map(|_| ())
    }

    /// `lock`: `true` if granted at once; otherwise [`Notification::Locked`] follows when it
    /// is.
    pub async fn lock(&self, id: &str) -> Result<bool, Error> {
        let v = self.session_call("lock", json!([id])).await?;
        Ok(v.get("locked").and_then(Value::as_bool).unwrap_or(false))
    }

    /// `steal`: takes the lock from its holder, who gets [`Notification::Stolen`].
    pub async fn steal(&self, id: &str) -> Result<bool, Error> {
        let v = self.session_call("steal", json!([id])).await?;
        Ok(v.get("locked").and_then(Value::as_bool).unwrap_or(false))
    }

    /// `unlock`.
    pub async fn unlock(&self, id: &str) -> Result<(), Error> {
        self.session_call("unlock", json!([id])).await.map(|_| ())
    }

    /// A call whose meaning is tied to this connection (locks, monitors): not retried on
    /// another one.
    async fn session_call(&self, method: &str, params: Value) -> Result<Value, Error> {
        let (conn, info) = self.ensure_connected().await?;
        conn.call(method, &params, self.options.request_timeout)
            .await
            .map_err(|e| self.call_error(e, method, &info.remote))
    }

    /// The TLS configuration in use, if any (exposed for diagnostics).
    pub async fn uses_tls(&self) -> bool {
        self.current
            .lock()
            .await
            .as_ref()
            .is_some_and(|c| c.tls.is_some())
    }
}

/// With TLS 1.3 the server checks the client's certificate after the client considers the
/// handshake done, so a refused certificate shows up as a fatal alert on the first read.
/// That is a TLS failure, not an unreachable server. A plain TCP connection closed before its
/// first reply gets a hint that the port may want TLS.
fn tls_refusal(remote: &Remote, e: Error) -> Error {
    match e {
        Error::Disconnected { reason, .. } if remote.is_ssl() && reason.contains("alert") => {
            Error::Tls {
                remote: remote.to_string(),
                message: format!(
                    "{reason}: the server refused topo's client certificate (is it signed by a CA the \
                 server trusts? check -p/-c)"
                ),
            }
        }
        // ovsdb-server's SSL listener closes a connection whose first bytes are no TLS
        // handshake: a plain `tcp:` remote pointed at an SSL port looks like this.
        Error::Disconnected {
            remote: r,
            method,
            reason,
        } if matches!(remote, Remote::Tcp { .. }) && reason.contains("closed the connection") => {
            Error::Disconnected {
                remote: r,
                method,
                reason: format!(
                    "{reason} before answering its first request (a server listening for TLS \
                     does so: if this port is an SSL one, use ssl: with -p/-c/-C)"
                ),
            }
        }
        other => other,
    }
}

/// `[database, op, op, ...]`, serialized without copying the operations.
struct TransactParams<'a> {
    database: &'a str,
    operations: &'a [Operation],
}

impl serde::Serialize for TransactParams<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.operations.len() + 1))?;
        seq.serialize_element(self.database)?;
        for op in self.operations {
            seq.serialize_element(op)?;
        }
        seq.end()
    }
}

enum TryError {
    /// Reachable but not acceptable (not the leader, not connected to its cluster).
    Refused(String),
    Failed(Error),
}

fn is_unknown_method(e: &Value) -> bool {
    let s = e.to_string();
    s.contains("unknown method")
}

enum ReplyError {
    Op(Error),
    Malformed(String),
}

/// Interprets a `transact` reply: one result per operation, where the first error (if any)
/// is the failing operation; an extra trailing error means the commit itself failed.
fn parse_transact_reply(
    database: &str,
    ops: &[Operation],
    reply: &Value,
) -> Result<Vec<OpResult>, ReplyError> {
    let results = reply
        .as_array()
        .ok_or_else(|| ReplyError::Malformed(format!("expected an array, got {reply}")))?;
    for (index, r) in results.iter().enumerate() {
        if let Some(error) = r.get("error").and_then(Value::as_str) {
            let op = ops
                .get(index)
                .map(|o| {
                    let j = o.to_json();
                    let kind = j
                        .get("op")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned();
                    match j.get("table").and_then(Value::as_str) {
                        Some(t) => format!("{kind} {t}"),
                        None => kind,
                    }
                })
                .unwrap_or_else(|| "commit".to_owned());
            return Err(ReplyError::Op(Error::Transaction {
                database: database.to_owned(),
                index,
                op,
                error: OpError::parse(error),
                details: r.get("details").and_then(Value::as_str).map(str::to_owned),
            }));
        }
    }
    if results.len() < ops.len() {
        return Err(ReplyError::Malformed(format!(
            "{} results for {} operations",
            results.len(),
            ops.len()
        )));
    }
    Ok(results
        .iter()
        .take(ops.len())
        .map(OpResult::from_json)
        .collect())
}

/// The rows of the one `select` of `ops` in a `transact` reply, decoded with `schema`.
fn select_rows(
    schema: &DatabaseSchema,
    database: &str,
    table: &str,
    ops: &[Operation],
    reply: &Value,
) -> Result<Vec<Columns>, ReplyError> {
    let results = parse_transact_reply(database, ops, reply)?;
    match results.first() {
        Some(OpResult::Rows(rows)) => rows
            .iter()
            .map(|row| {
                columns_from_json(schema, table, row)
                    .map_err(|e| ReplyError::Malformed(format!("a row of {table}: {e}")))
            })
            .collect(),
        other => Err(ReplyError::Malformed(format!(
            "expected the rows of a select, got {other:?}"
        ))),
    }
}

/// The receiving end of a client's notifications.
pub struct Notifications {
    rx: mpsc::UnboundedReceiver<RawEvent>,
}

impl Notifications {
    /// The next notification; `None` once the client is dropped.
    pub(crate) async fn recv(&mut self) -> Option<Notification> {
        Some(match self.rx.recv().await? {
            RawEvent::Notification(raw) => interpret(raw),
            RawEvent::Disconnected { remote, reason } => {
                Notification::Disconnected { remote, reason }
            }
        })
    }

    /// The next notification, if one arrives within `timeout`.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Option<Notification> {
        tokio::time::timeout(timeout, self.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next notification as the server sent it, its parameters unparsed: for a reader
    /// that decodes large updates straight into its own types
    /// ([`monitor::decode_update_params`](super::monitor::decode_update_params)); or
    /// [`RawEvent::Disconnected`], the client's own word that the connection was lost.
    pub(crate) async fn recv_raw(&mut self) -> Option<RawEvent> {
        self.rx.recv().await
    }
}

fn interpret(raw: RawNotification) -> Notification {
    let method = raw.method;
    let params: Value = serde_json::from_str(raw.params.get()).unwrap_or(Value::Null);
    let first = |p: &Value| {
        p.get(0)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match method.as_str() {
        "update" | "update2" | "update3" => {
            // update3 carries the last transaction id before the updates.
            let idx = if method == "update3" { 2 } else { 1 };
            let mut params = params;
            let monitor = params.get(0).cloned().unwrap_or(Value::Null);
            match params
                .get_mut(idx)
                .map(Value::take)
                .map(parse_table_updates)
            {
                Some(Ok(updates)) => Notification::Update { monitor, updates },
                _ => Notification::Other { method, params },
            }
        }
        "locked" => Notification::Locked(first(&params)),
        "stolen" => Notification::Stolen(first(&params)),
        _ => Notification::Other { method, params },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovsdb::{Atom, ColumnsExt, Datum};
    use uuid::Uuid;

    /// A table with the shapes whose decoding needs the schema: a real written as an
    /// integer, an optional reference, a map, a set of strings.
    fn schema() -> DatabaseSchema {
        DatabaseSchema::from_json(&json!({
            "name": "T", "version": "1.0.0",
            "tables": {"Port": {"columns": {
                "name": {"type": "string"},
                "weight": {"type": "real"},
                "count": {"type": "integer"},
                "up": {"type": {"key": "boolean", "min": 0, "max": 1}},
                "peer": {"type": {"key": {"type": "uuid", "refTable": "Port"},
                                  "min": 0, "max": 1}},
                "networks": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
                "options": {"type": {"key": "string", "value": "string",
                                     "min": 0, "max": "unlimited"}}
            }}}
        }))
        .expect("schema")
    }

    #[test]
    fn select_rows_are_decoded_with_the_schema() {
        let schema = schema();
        let peer = "6b7c6a3e-0000-4000-8000-000000000002";
        let ops = [Operation::select("Port", vec![], None)];
        let reply = json!([{"rows": [
            {"_uuid": ["uuid", "6b7c6a3e-0000-4000-8000-000000000001"],
             "name": "p1", "weight": 2, "count": 7, "up": true,
             "peer": ["uuid", peer],
             "networks": ["set", ["10.0.0.1/24", "fd00::1/64"]],
             "options": ["map", [["a", "1"], ["b", "2"]]]},
            {"name": "p2", "weight": 0.5, "count": 0, "up": ["set", []], "peer": ["set", []],
             "networks": "10.0.1.1/24", "options": ["set", []]}
        ]}]);
        let rows = match select_rows(&schema, "T", "Port", &ops, &reply) {
            Ok(rows) => rows,
            Err(_) => panic!("the rows decode"),
        };
        assert_eq!(rows.len(), 2);
        let (p1, p2) = (&rows[0], &rows[1]);
        // A real written as an integer is a real; an empty set in a map column is a map.
        assert_eq!(p1.get("weight"), Some(&Datum::scalar(Atom::Real(2.0))));
        assert_eq!(p2.get("options"), Some(&Datum::empty_map()));
        assert_eq!(p1.string("name"), Some("p1"));
        assert_eq!(p1.integer("count"), Some(7));
        assert_eq!(p1.boolean("up"), Some(true));
        assert_eq!(p2.boolean("up"), None);
        assert_eq!(p1.uuid("peer"), Some(peer.parse().expect("uuid")));
        assert_eq!(p2.uuid("peer"), None);
        assert_eq!(
            p1.uuid("_uuid"),
            Some(Uuid::from_u128(0x6b7c6a3e_0000_4000_8000_000000000001))
        );
        assert_eq!(p1.strings("networks"), ["10.0.0.1/24", "fd00::1/64"]);
        assert_eq!(p2.strings("networks"), ["10.0.1.1/24"]);
        assert_eq!(
            p1.string_map("options"),
            BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())])
        );
        assert!(p2.string_map("options").is_empty());
        // The wrong shape is `None`, not a panic or a guess.
        assert_eq!(p1.string("count"), None);
        assert_eq!(p1.integer("absent"), None);

        // No rows.
        let none = select_rows(&schema, "T", "Port", &ops, &json!([{"rows": []}]));
        assert!(matches!(none, Ok(rows) if rows.is_empty()));
        // The server refused the select: a typed transaction error.
        let refused = json!([{"error": "unknown column", "details": "no column x"}]);
        match select_rows(&schema, "T", "Port", &ops, &refused) {
            Err(ReplyError::Op(Error::Transaction { error, op, .. })) => {
                assert_eq!(error, OpError::UnknownColumn);
                assert_eq!(op, "select Port");
            }
            _ => panic!("expected a transaction error"),
        }
        // A value that does not fit its column is a malformed reply.
        let bad = json!([{"rows": [{"count": "seven"}]}]);
        assert!(matches!(
            select_rows(&schema, "T", "Port", &ops, &bad),
            Err(ReplyError::Malformed(m)) if m.contains("Port")
        ));
        // Something else than rows.
        assert!(matches!(
            select_rows(&schema, "T", "Port", &ops, &json!([{"count": 1}])),
            Err(ReplyError::Malformed(_))
        ));
    }

    #[test]
    fn transact_reply_reports_the_failing_operation() {
        let ops = vec![
            Operation::insert("Logical_Switch", Default::default()),
            Operation::delete("Logical_Switch", vec![]),
        ];
        let reply = json!([{"uuid": ["uuid", "6b7c6a3e-0000-4000-8000-000000000001"]},
                           {"error": "constraint violation", "details": "dup"}]);
        match parse_transact_reply("NB", &ops, &reply) {
            Err(ReplyError::Op(Error::Transaction {
                index,
                op,
                error,
                details,
                ..
            })) => {
                assert_eq!(index, 1);
                assert_eq!(op, "delete Logical_Switch");
                assert_eq!(error, OpError::ConstraintViolation);
                assert_eq!(error.to_string(), "constraint violation");
                assert_eq!(details.as_deref(), Some("dup"));
            }
            _ => panic!("expected a transaction error"),
        }
        let commit_failure = json!([{"uuid": ["uuid", "6b7c6a3e-0000-4000-8000-000000000001"]},
                                    {"count": 0},
                                    {"error": "referential integrity violation"}]);
        match parse_transact_reply("NB", &ops, &commit_failure) {
            Err(ReplyError::Op(Error::Transaction { index, op, .. })) => {
                assert_eq!((index, op.as_str()), (2, "commit"));
            }
            _ => panic!("expected a commit error"),
        }
        let ok = json!([{"uuid": ["uuid", "6b7c6a3e-0000-4000-8000-000000000001"]}, {"count": 2}]);
        assert!(
            matches!(parse_transact_reply("NB", &ops, &ok), Ok(r) if r[1] == OpResult::Count(2))
        );
    }
}

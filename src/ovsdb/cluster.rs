//! Clustered databases: which member to talk to, from the `_Server` database.
//!
//! ovsdb-server publishes, for each database it serves, its `model` (standalone, clustered,
//! relay), whether it is `connected` to its cluster and whether it is the `leader`. A client
//! that writes must talk to a connected member; topo prefers the leader, as ovn-nbctl does, so
//! that what it reads right after a commit is what the cluster committed.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use super::datum::{Atom, Datum};
use super::error::Error;
use super::jsonrpc::{CallError, Connection};
use super::remote::Remote;

/// One row of `_Server.Database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseStatus {
    pub name: String,
    /// False when the server does not serve the database at all.
    pub exists: bool,
    /// `standalone`, `clustered`, `relay` (or `active-backup` style values of newer servers).
    pub model: String,
    pub connected: bool,
    pub leader: bool,
    /// Cluster id and server id (clustered only).
    pub cid: Option<Uuid>,
    pub sid: Option<Uuid>,
    /// Last committed log index (clustered only).
    pub index: Option<i64>,
}

impl DatabaseStatus {
    pub fn is_clustered(&self) -> bool {
        self.model == "clustered"
    }
}

/// Reads the `_Server` row of `database`. `Ok(None)` when the server has no `_Server`
/// database (very old servers): it is then taken as standalone.
pub(crate) async fn database_status(
    conn: &Connection,
    remote: &Remote,
    database: &str,
    timeout: Option<Duration>,
) -> Result<Option<DatabaseStatus>, Error> {
    let params = json!(["_Server", {
        "op": "select", "table": "Database",
        "where": [["name", "==", database]],
        "columns": ["name", "model", "connected", "leader", "cid", "sid", "index"]
    }]);
    let reply = match conn.call("transact", &params, timeout).await {
        Ok(v) => v,
        Err(CallError::Rpc(e)) if e.to_string().contains("unknown database") => return Ok(None),
        Err(CallError::Rpc(error)) => {
            return Err(Error::Rpc {
                remote: remote.to_string(),
                method: "transact".into(),
                error,
            });
        }
        Err(CallError::Timeout) => {
            return Err(Error::Timeout {
                remote: remote.to_string(),
                method: "transact _Server".into(),
                after: timeout.unwrap_or_default(),
            });
        }
        Err(CallError::NotSent(reason) | CallError::Lost(reason)) => {
            return Err(Error::Disconnected {
                remote: remote.to_string(),
                method: "transact _Server".into(),
                reason,
            });
        }
    };
    if let Some(err) = reply.get(0).and_then(|r| r.get("error")) {
        // `_Server` exists but the select failed (e.g. an old schema without a column).
        if err.as_str().is_some() {
            return Ok(None);
        }
    }
    let rows = reply
        .get(0)
        .and_then(|r| r.get("rows"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(row) = rows.first() else {
        return Ok(Some(DatabaseStatus {
            name: database.to_owned(),
            exists: false,
            model: String::new(),
            connected: false,
            leader: false,
            cid: None,
            sid: None,
            index: None,
        }));
    };
    let datum = |col: &str| row.get(col).and_then(|v| Datum::from_json(v).ok());
    let scalar = |col: &str| datum(col).and_then(|d| d.as_scalar().cloned());
    let bool_col = |col: &str| matches!(scalar(col), Some(Atom::Boolean(true)));
    Ok(Some(DatabaseStatus {
        name: database.to_owned(),
        exists: true,
        model: scalar("model")
            .and_then(|a| a.as_str().map(str::to_owned))
            .unwrap_or_default(),
        connected: bool_col("connected"),
        leader: bool_col("leader"),
        cid: scalar("cid").and_then(|a| a.as_uuid()),
        sid: scalar("sid").and_then(|a| a.as_uuid()),
        index: scalar("index").and_then(|a| a.as_integer()),
    }))
}

//! Errors of the OVSDB client: each says what failed and where (remote, database, method).

use std::time::Duration;

use serde_json::Value;

use super::datum::NotationError;
use super::framing::FramingError;
use super::remote::RemoteError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Remote(#[from] RemoteError),

    #[error("cannot connect to {remote}: {source}")]
    Connect {
        remote: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot connect to {remote}: no answer within {after:?}")]
    ConnectTimeout { remote: String, after: Duration },

    #[error("TLS with {remote} failed: {message}")]
    Tls { remote: String, message: String },

    #[error("TLS setup: {message}")]
    TlsConfig { message: String },

    #[error("{remote}: `ssl:` remotes need a private key, certificate and CA certificate")]
    TlsMissing { remote: String },

    #[error("connection to {remote} lost while waiting for the reply to `{method}`: {reason}")]
    Disconnected {
        remote: String,
        method: String,
        reason: String,
    },

    /// A transaction was sent but the connection dropped (or the reply timed out) before its
    /// reply arrived: it may or may not have committed. Never re-sent automatically.
    #[error(
        "outcome unknown: the transaction on {database} was sent to {remote} but {reason} before \
         its reply; it may or may not have committed"
    )]
    OutcomeUnknown {
        remote: String,
        database: String,
        reason: String,
    },

    #[error("{remote}: no reply to `{method}` within {after:?}")]
    Timeout {
        remote: String,
        method: String,
        after: Duration,
    },

    #[error("{remote}: `{method}` failed: {error}")]
    Rpc {
        remote: String,
        method: String,
        error: Value,
    },

    /// An operation of a transaction failed; nothing of the transaction was committed.
    /// `index` is the failing operation (it equals the number of operations when the whole
    /// transaction failed at commit, e.g. a constraint checked at commit).
    #[error("transaction on {database} failed at operation {index} ({op}): {error}{}", details.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Transaction {
        database: String,
        index: usize,
        op: String,
        error: String,
        details: Option<String>,
    },

    #[error("{remote}: protocol error: {message}")]
    Protocol { remote: String, message: String },

    #[error("{remote}: {source}")]
    Framing {
        remote: String,
        #[source]
        source: FramingError,
    },

    #[error(transparent)]
    Notation(#[from] NotationError),

    #[error("database {database} is not served by {remote}")]
    UnknownDatabase { remote: String, database: String },

    #[error("no leader for {database} among {}: {}", .remotes.join(","), .reasons.join("; "))]
    NoLeader {
        database: String,
        remotes: Vec<String>,
        reasons: Vec<String>,
    },

    #[error("cannot reach any of {}: {}", .remotes.join(","), .reasons.join("; "))]
    Unreachable {
        remotes: Vec<String>,
        reasons: Vec<String>,
    },
}

impl Error {
    /// Errors worth retrying after a pause: the server may be starting, electing a leader, or
    /// restarting. Per-operation transaction errors and protocol errors are permanent.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::ConnectTimeout { .. }
                | Error::Disconnected { .. }
                | Error::Timeout { .. }
                | Error::NoLeader { .. }
                | Error::Unreachable { .. }
        )
    }
}

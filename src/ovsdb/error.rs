//! Errors of the OVSDB client: each says what failed and where (remote, database, method).
//!
//! [`Error`] is a [`miette::Diagnostic`] with a stable code per variant (`topo::ovsdb::…`,
//! listed in [`Error::CODES`] and `docs/diagnostics.md`) and help where the user can act. A
//! failed operation's error string is typed as [`OpError`].

use std::time::Duration;

use serde_json::Value;

use super::datum::NotationError;
use super::framing::FramingError;
use super::remote::RemoteError;

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.stable_code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.advice()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

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
        error: OpError,
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
    /// Every diagnostic code an [`Error`] can have (documented in `docs/diagnostics.md`).
    pub const CODES: &'static [&'static str] = &[
        "topo::ovsdb::remote",
        "topo::ovsdb::connect",
        "topo::ovsdb::connect-timeout",
        "topo::ovsdb::tls",
        "topo::ovsdb::tls-config",
        "topo::ovsdb::tls-missing",
        "topo::ovsdb::disconnected",
        "topo::ovsdb::outcome-unknown",
        "topo::ovsdb::timeout",
        "topo::ovsdb::rpc",
        "topo::ovsdb::transaction",
        "topo::ovsdb::protocol",
        "topo::ovsdb::framing",
        "topo::ovsdb::notation",
        "topo::ovsdb::unknown-database",
        "topo::ovsdb::no-leader",
        "topo::ovsdb::unreachable",
    ];

    /// This error's stable diagnostic code, one of [`Error::CODES`] (what
    /// `miette::Diagnostic::code` gives).
    pub(crate) fn stable_code(&self) -> &'static str {
        match self {
            Error::Remote(_) => "topo::ovsdb::remote",
            Error::Connect { .. } => "topo::ovsdb::connect",
            Error::ConnectTimeout { .. } => "topo::ovsdb::connect-timeout",
            Error::Tls { .. } => "topo::ovsdb::tls",
            Error::TlsConfig { .. } => "topo::ovsdb::tls-config",
            Error::TlsMissing { .. } => "topo::ovsdb::tls-missing",
            Error::Disconnected { .. } => "topo::ovsdb::disconnected",
            Error::OutcomeUnknown { .. } => "topo::ovsdb::outcome-unknown",
            Error::Timeout { .. } => "topo::ovsdb::timeout",
            Error::Rpc { .. } => "topo::ovsdb::rpc",
            Error::Transaction { .. } => "topo::ovsdb::transaction",
            Error::Protocol { .. } => "topo::ovsdb::protocol",
            Error::Framing { .. } => "topo::ovsdb::framing",
            Error::Notation(_) => "topo::ovsdb::notation",
            Error::UnknownDatabase { .. } => "topo::ovsdb::unknown-database",
            Error::NoLeader { .. } => "topo::ovsdb::no-leader",
            Error::Unreachable { .. } => "topo::ovsdb::unreachable",
        }
    }

    /// What the user can do about it, when there is something to say (what
    /// `miette::Diagnostic::help` gives).
    pub(crate) fn advice(&self) -> Option<&'static str> {
        Some(match self {
            Error::Remote(_) => {
                "a remote is `unix:PATH`, `tcp:HOST:PORT` or `ssl:HOST:PORT`; several (the \
                 members of a cluster) are separated by commas"
            }
            Error::Connect { .. } | Error::ConnectTimeout { .. } | Error::Unreachable { .. } => {
                "is ovsdb-server running and listening on that remote (`ovs-appctl -t \
                 ovsdb-server ovsdb-server/list-remotes`)? A firewall or a wrong port looks the \
                 same"
            }
            Error::Tls { .. } | Error::TlsConfig { .. } => {
                "check the private key, certificate and CA certificate: the key must match the \
                 certificate, the server's certificate must be signed by the CA, and the \
                 server must trust the CA that signed the client's"
            }
            Error::TlsMissing { .. } => {
                "an `ssl:` remote needs a private key, a certificate and a CA certificate \
                 (topo: -p, -c and -C, or `private-key`, `certificate`, `ca-cert` in topo.toml)"
            }
            Error::OutcomeUnknown { .. } => {
                "read the database to learn whether the transaction committed before \
                 repeating it"
            }
            Error::Disconnected { .. } | Error::Timeout { .. } => {
                "the server went away or is overloaded; a clustered database may be electing a \
                 new leader. Retry, and check the server's log"
            }
            Error::Transaction { error, .. } => return error.help(),
            Error::UnknownDatabase { .. } => {
                "the server does not serve that database: is the remote the right one (a \
                 Northbound remote for a Southbound database, or the reverse)?"
            }
            Error::NoLeader { .. } => {
                "the cluster has no leader that topo can reach; check `ovs-appctl -t \
                 ovsdb-server cluster/status` on its members"
            }
            Error::Rpc { .. }
            | Error::Protocol { .. }
            | Error::Framing { .. }
            | Error::Notation(_) => return None,
        })
    }

    /// Errors worth retrying after a pause: the server may be starting, electing a leader, or
    /// restarting. Per-operation transaction errors and protocol errors are permanent.
    pub(crate) fn is_transient(&self) -> bool {
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

/// The `error` of a failed operation (RFC 7047 §4.1.3, §5.2, and what ovsdb-server sends
/// besides). It displays as the server's own string; strings this client does not know are
/// kept in [`OpError::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OpError {
    /// `"referential integrity violation"`: a strong reference to a row that does not exist,
    /// or a row deleted while still referenced.
    ReferentialIntegrityViolation,
    /// `"constraint violation"`: a value outside its type's constraints (an enumeration, a
    /// set's size) or a duplicate in a unique index.
    ConstraintViolation,
    /// `"resources exhausted"`.
    ResourcesExhausted,
    /// `"I/O error"`: the server could not write the database.
    IoError,
    /// `"duplicate uuid-name"`: two inserts of one transaction with the same `uuid-name`.
    DuplicateUuidName,
    /// `"duplicate uuid"`: an insert with a `uuid` that a row already has.
    DuplicateUuid,
    /// `"domain error"`: a mutation outside its domain (a division by zero).
    DomainError,
    /// `"range error"`: a mutation whose result is out of range (an integer overflow).
    RangeError,
    /// `"timed out"`: a `wait` whose condition did not hold within its timeout.
    TimedOut,
    /// `"not supported"`: e.g. a durable commit on a server that cannot.
    NotSupported,
    /// `"aborted"`: the transaction had an `abort` operation.
    Aborted,
    /// `"not owner"`: an `assert` of a lock this connection does not hold.
    NotOwner,
    /// `"not allowed"`: a write refused (a read-only server, a reserved database).
    NotAllowed,
    /// `"permission error"`: refused by role-based access control.
    PermissionError,
    /// `"syntax error"`: a malformed operation.
    SyntaxError,
    /// `"unknown table"`.
    UnknownTable,
    /// `"unknown column"`.
    UnknownColumn,
    /// `"unknown function"`: a condition's function.
    UnknownFunction,
    /// `"unknown mutator"`.
    UnknownMutator,
    /// `"unknown database"`.
    UnknownDatabase,
    /// `"database not available"`: a clustered database that has not joined its cluster yet.
    DatabaseNotAvailable,
    /// `"cluster error"`: the cluster could not commit (no leader, leadership lost).
    ClusterError,
    /// `"canceled"`.
    Canceled,
    /// `"invalid parameters"`.
    InvalidParameters,
    /// `"internal error"`.
    InternalError,
    /// Any other string, as the server sent it.
    Other(String),
}

impl OpError {
    /// Every known error with its string, in one table for both directions.
    const KNOWN: &'static [(OpError, &'static str)] = &[
        (
            OpError::ReferentialIntegrityViolation,
            "referential integrity violation",
        ),
        (OpError::ConstraintViolation, "constraint violation"),
        (OpError::ResourcesExhausted, "resources exhausted"),
        (OpError::IoError, "I/O error"),
        (OpError::DuplicateUuidName, "duplicate uuid-name"),
        (OpError::DuplicateUuid, "duplicate uuid"),
        (OpError::DomainError, "domain error"),
        (OpError::RangeError, "range error"),
        (OpError::TimedOut, "timed out"),
        (OpError::NotSupported, "not supported"),
        (OpError::Aborted, "aborted"),
        (OpError::NotOwner, "not owner"),
        (OpError::NotAllowed, "not allowed"),
        (OpError::PermissionError, "permission error"),
        (OpError::SyntaxError, "syntax error"),
        (OpError::UnknownTable, "unknown table"),
        (OpError::UnknownColumn, "unknown column"),
        (OpError::UnknownFunction, "unknown function"),
        (OpError::UnknownMutator, "unknown mutator"),
        (OpError::UnknownDatabase, "unknown database"),
        (OpError::DatabaseNotAvailable, "database not available"),
        (OpError::ClusterError, "cluster error"),
        (OpError::Canceled, "canceled"),
        (OpError::InvalidParameters, "invalid parameters"),
        (OpError::InternalError, "internal error"),
    ];

    /// The error for the server's string `error`.
    pub(crate) fn parse(error: &str) -> OpError {
        OpError::KNOWN
            .iter()
            .find(|(_, s)| *s == error)
            .map(|(e, _)| e.clone())
            .unwrap_or_else(|| OpError::Other(error.to_owned()))
    }

    /// The server's string.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            OpError::Other(s) => s,
            known => OpError::KNOWN
                .iter()
                .find(|(e, _)| e == known)
                .map_or("", |(_, s)| s),
        }
    }

    /// What a user can do about it, when there is something to say.
    pub(crate) fn help(&self) -> Option<&'static str> {
        Some(match self {
            OpError::TimedOut => {
                "a `wait` guard failed: rows the transaction depends on changed since they were \
                 read; read again and retry"
            }
            OpError::ConstraintViolation => {
                "a value breaks the schema (a unique index, an enumeration, a set's size); the \
                 details name it"
            }
            OpError::ReferentialIntegrityViolation => {
                "a strong reference names a row that does not exist, or a deleted row is still \
                 referenced"
            }
            OpError::NotOwner => {
                "the transaction asserts a lock this connection does not hold (lost with a \
                 reconnect, or held by another client)"
            }
            OpError::NotAllowed | OpError::PermissionError => {
                "the server refuses this write (a read-only server, a reserved database, or \
                 role-based access control)"
            }
            OpError::ClusterError | OpError::DatabaseNotAvailable => {
                "the clustered database cannot commit right now (no leader, or this member has \
                 not joined); retry, and check `ovs-appctl cluster/status`"
            }
            OpError::IoError | OpError::ResourcesExhausted => {
                "the server could not store the transaction; check its disk and its log"
            }
            OpError::SyntaxError
            | OpError::UnknownTable
            | OpError::UnknownColumn
            | OpError::UnknownFunction
            | OpError::UnknownMutator => {
                "the request does not fit the server's schema: is the server's schema version \
                 the one expected?"
            }
            _ => return None,
        })
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OpError {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<OpError, Self::Err> {
        Ok(OpError::parse(s))
    }
}

impl From<&str> for OpError {
    fn from(s: &str) -> OpError {
        OpError::parse(s)
    }
}

/// Compares with the server's string, so `error == "timed out"` still reads.
impl PartialEq<str> for OpError {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for OpError {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_errors_parse_and_display_as_sent() {
        assert_eq!(OpError::parse("timed out"), OpError::TimedOut);
        assert_eq!(
            OpError::parse("constraint violation"),
            OpError::ConstraintViolation
        );
        assert_eq!(
            OpError::parse("referential integrity violation"),
            OpError::ReferentialIntegrityViolation
        );
        assert_eq!(OpError::parse("I/O error"), OpError::IoError);
        assert_eq!(
            OpError::parse("duplicate uuid-name"),
            OpError::DuplicateUuidName
        );
        assert_eq!(OpError::parse("not owner"), OpError::NotOwner);
        assert_eq!(OpError::parse("unknown column"), OpError::UnknownColumn);
        // Case and spacing matter: the server's strings are fixed.
        assert_eq!(
            OpError::parse("Timed Out"),
            OpError::Other("Timed Out".into())
        );
        assert_eq!(OpError::parse("something new").to_string(), "something new");
        for (e, s) in OpError::KNOWN {
            assert_eq!(&OpError::parse(s), e);
            assert_eq!(e.to_string(), *s);
            assert!(*e == **s && *e == *s);
        }
        let strings: std::collections::BTreeSet<_> = OpError::KNOWN.iter().map(|k| k.1).collect();
        assert_eq!(strings.len(), OpError::KNOWN.len(), "a string twice");
    }

    #[test]
    fn errors_are_coded_diagnostics() {
        use miette::Diagnostic;
        let tx = Error::Transaction {
            database: "NB".into(),
            index: 1,
            op: "wait Logical_Switch".into(),
            error: OpError::TimedOut,
            details: Some("\"wait\" timed out".into()),
        };
        assert_eq!(
            Diagnostic::code(&tx).map(|c| c.to_string()).as_deref(),
            Some("topo::ovsdb::transaction")
        );
        assert!(Diagnostic::help(&tx).is_some());
        assert_eq!(
            tx.to_string(),
            "transaction on NB failed at operation 1 (wait Logical_Switch): timed out: \"wait\" \
             timed out"
        );
        let unknown = Error::OutcomeUnknown {
            remote: "tcp:127.0.0.1:6641".into(),
            database: "NB".into(),
            reason: "the connection was lost".into(),
        };
        let report = miette::Report::new(unknown);
        assert_eq!(
            report.code().map(|c| c.to_string()).as_deref(),
            Some("topo::ovsdb::outcome-unknown")
        );
        let errors = [
            Error::Remote(RemoteError::Empty),
            Error::Connect {
                remote: "r".into(),
                source: std::io::Error::other("refused"),
            },
            Error::ConnectTimeout {
                remote: "r".into(),
                after: Duration::from_secs(1),
            },
            Error::Tls {
                remote: "r".into(),
                message: "m".into(),
            },
            Error::TlsConfig {
                message: "m".into(),
            },
            Error::TlsMissing { remote: "r".into() },
            Error::Disconnected {
                remote: "r".into(),
                method: "echo".into(),
                reason: "gone".into(),
            },
            Error::Timeout {
                remote: "r".into(),
                method: "echo".into(),
                after: Duration::from_secs(1),
            },
            Error::Rpc {
                remote: "r".into(),
                method: "echo".into(),
                error: Value::Null,
            },
            tx,
            Error::OutcomeUnknown {
                remote: "r".into(),
                database: "d".into(),
                reason: "gone".into(),
            },
            Error::Protocol {
                remote: "r".into(),
                message: "m".into(),
            },
            Error::Framing {
                remote: "r".into(),
                source: FramingError::Garbage(0),
            },
            Error::Notation(NotationError::new("bad", &Value::Null)),
            Error::UnknownDatabase {
                remote: "r".into(),
                database: "d".into(),
            },
            Error::NoLeader {
                database: "d".into(),
                remotes: vec![],
                reasons: vec![],
            },
            Error::Unreachable {
                remotes: vec![],
                reasons: vec![],
            },
        ];
        let seen: std::collections::BTreeSet<_> = errors.iter().map(Error::stable_code).collect();
        let codes: std::collections::BTreeSet<_> = Error::CODES.iter().copied().collect();
        assert_eq!(codes.len(), Error::CODES.len(), "a code twice");
        assert_eq!(
            seen, codes,
            "one error of each variant, each with its own code"
        );
    }
}

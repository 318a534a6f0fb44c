//! An RFC 7047 (OVSDB) client: remotes, transports (unix, tcp, mutual TLS), JSON-RPC framing,
//! the data model and its notation, schemas, transactions, monitors, locks and clustered
//! databases. This module knows OVSDB and nothing about OVN; it could become its own crate.
//!
//! ```text
//! remote ──transport──▶ byte stream ──framing/jsonrpc──▶ Connection ──client──▶ Client
//!                                         (replies by id, echo, notifications, probe)
//! ```
//!
//! Reads come typed: [`Client::select`] decodes rows with the database's schema (cached per
//! database) into [`Columns`], read with [`ColumnsExt`]. Errors are [`Error`], a
//! `miette::Diagnostic` with a stable `topo::ovsdb::…` code; a failed operation's error
//! string is an [`OpError`]. The notification stream ends a connection with a typed
//! [`RawEvent::Disconnected`] / [`Notification::Disconnected`].

pub mod client;
pub mod cluster;
pub mod collections;
pub mod datum;
pub mod error;
pub mod framing;
pub mod jsonrpc;
pub mod monitor;
pub mod operation;
pub mod remote;
pub mod schema;
pub mod tls;
pub mod transport;

pub use client::{Client, ConnectOptions, Notification, Notifications, ServerInfo};
pub use cluster::DatabaseStatus;
pub use datum::{Atom, Datum, NotationError};
pub use error::{Error, OpError};
pub use jsonrpc::{RawEvent, RawNotification};
pub use monitor::{
    Changes, MonitorRequest, MonitorSelect, RowChange, RowUpdate, Rows, TableUpdates,
    decode_update_params,
};
pub use operation::{
    Columns, ColumnsExt, Condition, Function, Mutation, Mutator, OpResult, Operation, WaitUntil,
    columns_from_json,
};
pub use remote::{Remote, RemoteError};
pub use schema::{
    AtomicType, BaseType, ColumnSchema, ColumnType, DatabaseSchema, RefType, TableSchema,
};
pub use tls::TlsConfig;

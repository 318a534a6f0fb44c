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

pub(crate) mod client;
pub(crate) mod cluster;
pub(crate) mod collections;
pub(crate) mod datum;
pub(crate) mod error;
pub mod framing;
pub(crate) mod jsonrpc;
pub(crate) mod monitor;
pub(crate) mod operation;
pub(crate) mod remote;
pub(crate) mod schema;
pub(crate) mod tls;
pub(crate) mod transport;

pub use client::{Client, ConnectOptions, Notification, Notifications};
pub use datum::{Atom, Datum};
pub use error::{Error, OpError};
pub(crate) use jsonrpc::RawEvent;
pub use monitor::{MonitorRequest, RowUpdate, TableUpdates};
pub(crate) use monitor::{MonitorSelect, RowChange, decode_update_params};
pub use operation::{
    Columns, ColumnsExt, Condition, Function, Mutation, Mutator, OpResult, Operation, WaitUntil,
    columns_from_json,
};
pub use schema::DatabaseSchema;
pub use tls::TlsConfig;

//! An RFC 7047 (OVSDB) client: remotes, transports (unix, tcp, mutual TLS), JSON-RPC framing,
//! the data model and its notation, schemas, transactions, monitors, locks and clustered
//! databases. This module knows OVSDB and nothing about OVN; it could become its own crate.

pub mod datum;
pub mod schema;

pub use datum::{Atom, Datum, NotationError};
pub use schema::{
    AtomicType, BaseType, ColumnSchema, ColumnType, DatabaseSchema, RefType, TableSchema,
};

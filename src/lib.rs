//! topo: a declarative, GitOps-style topology compiler for OVN.
//!
//! The crate map (see `docs/ARCHITECTURE.md` for the data flow and the invariants):
//!
//! - [`ovsdb`]: an RFC 7047 client (transports, JSON-RPC, data model, schema, transactions,
//!   monitors, locks, clustered databases). Knows nothing about OVN.
//! - [`rows`]: the one model shared by desired (compiled) and live (read) state: Northbound
//!   rows, the live-state types (`rows::live`), and the chassis section (`rows::chassis`,
//!   `rows::bridge_mappings`).
//! - [`source`]: the topology's files and byte spans, shared by `spec` and `diagnostics`.
//! - [`spec`]: the topology language: YAML loading with source spans.
//! - [`diagnostics`]: the topology's diagnostics and their stable codes.
//! - [`compiler`]: semantic checks with diagnostics, and lowering to the desired state.
//! - `config`: `topo.toml`, named targets.
//! - [`live`]: reads the live databases: the Northbound (and a watch of it), each chassis's
//!   `Open_vSwitch` database (`live::vswitch`), the Southbound chassis (`live::southbound`).
//! - `diff`: desired vs live → a plan, rows and chassis alike. Pure.
//! - `drift`: drift only the Southbound shows (chassis registration, published mappings).
//! - `graph`: the checked model as a picture (DOT, Mermaid) for `topo graph`. Pure.
//! - [`apply`]: the whole apply: the guarded Northbound transaction, its outcome, the chassis.
//! - [`import`]: the live Northbound as a topology file (`topo import`), and adoption.
//! - [`lab`]: the bundled OVN lab (real daemons, namespaces, packets) and its checks.
//! - [`cli`]: the command line; the only module that prints or chooses exit codes.
//! - `poll`: waiting for another process, with a deadline.
//! - `timings`: `TOPO_TIMINGS=1` phase timings for performance work.

// Module docs name the crate-private pieces they are made of: read them with
// `cargo doc --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]

pub mod apply;
pub mod cli;
pub mod compiler;
pub(crate) mod config;
pub mod diagnostics;
pub(crate) mod diff;
pub(crate) mod drift;
pub(crate) mod graph;
pub mod import;
pub mod lab;
pub mod live;
pub mod ovsdb;
pub(crate) mod parallel;
pub(crate) mod poll;
pub mod rows;
pub mod source;
pub mod spec;
pub(crate) mod timings;

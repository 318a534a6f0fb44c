//! The bundled lab: real OVN daemons, real chassis, real packets on one Linux machine.
//!
//! `up` starts NB/SB `ovsdb-server` and `ovn-northd`; per chassis a network namespace with
//! its own `ovsdb-server`, `ovs-vswitchd` (userspace `netdev` datapath, no kernel module)
//! and `ovn-controller`; an underlay joining the chassis so geneve runs between them;
//! physical networks as Linux bridges with outside hosts; VMs as namespaces plugged into
//! their chassis's `br-int`. `checks` then send real packets. Everything lives in one
//! directory (state, sockets, logs) and in namespaces named after a random lab id, so labs
//! never collide and `down` removes exactly what its lab made.
//!
//! ```text
//! spec ──up──▶ namespaces + daemons + links ──▶ lab.json, topo.toml (remotes)
//!                                  checks ──▶ ping / tcpdump ──▶ results (+ ovn-trace)
//! ```
//!
//! One job per file: [`spec`] (input), [`from_model`] (input from a topology), [`state`] (the persisted lab), [`names`],
//! [`command`], [`netns`], [`process`], [`daemons`], [`chassis`] (through `live::vswitch`, the
//! chassis database client apply uses too), [`underlay`], [`network`],
//! [`vm`], [`targets`], [`checks`], [`lifecycle`] (up / down / status), [`parts`] (adding and
//! removing one chassis, network, VTEP or VM), [`dynamic`] (VMs taking OVN's dynamic addresses), [`reconcile`] (`up` on a running lab).

pub(crate) mod chassis;
pub mod checks;
pub(crate) mod command;
pub(crate) mod daemons;
pub mod dynamic;
pub(crate) mod error;
pub(crate) mod from_model;
pub(crate) mod lifecycle;
pub(crate) mod lock;
pub mod names;
pub mod netns;
pub(crate) mod network;
pub(crate) mod parts;
pub(crate) mod probe;
pub mod process;
pub(crate) mod reconcile;
pub(crate) mod spec;
pub mod state;
pub mod targets;
pub(crate) mod underlay;
pub(crate) mod vm;
pub(crate) mod vtep;

pub use chassis::{Action as ChassisAction, control as chassis_control};
pub use checks::{CheckResult, run_checks};
pub(crate) use lifecycle::DEFAULT_DIR;
pub use lifecycle::{Health, UpOptions, down, status, up};
pub use reconcile::{Reconciled, reconcile};
pub use spec::{CheckSpec, Expect, LabSpec};
pub use state::LabState;

//! The single integration test binary. Modules are named after what they test, so
//! `cargo test ovsdb::` or `cargo test spec::` select a family.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod apply;
mod chassis_drift;
mod ci_examples;
mod cli_extras;
mod config;
mod graph;
mod harness;
mod import;
mod lab;
mod lang;
mod ovsdb;
mod status;

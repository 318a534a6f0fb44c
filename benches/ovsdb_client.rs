//! Placeholder: replaced by the OVSDB client benchmark.
fn main() {}

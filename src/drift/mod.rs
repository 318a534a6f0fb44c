//! Drift that the row diff cannot see: what the topology says about the chassis, checked
//! against what the chassis publish in the Southbound database. OVN-aware and pure; the
//! reading is `live::southbound`.

pub(crate) mod chassis;
pub(crate) mod render;

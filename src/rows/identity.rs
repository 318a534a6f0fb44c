//! Natural keys: how a row of each table is identified without its UUID.
//!
//! This is the one table-aware file shared by the compiler (which emits keys) and the live
//! reader (which derives keys from rows it reads). Keys follow `shared/design.md`: switches,
//! routers and their ports by name; NAT by (router, type, external_ip, logical_ip); routes by
//! (router, ip_prefix, nexthop, policy); Gateway_Chassis by name; HA_Chassis_Group by name;
//! HA_Chassis by (group, chassis_name). Tables whose rows are keyed by their parent get the
//! parent's key as their first part.
//!
//! Filled in by the compiler and live-reader work; see `docs/ARCHITECTURE.md`.

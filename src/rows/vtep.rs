//! The VTEP section of the model: what a stack wants in a hardware VTEP's own
//! `hardware_vtep` database ([`Wanted`], emitted by the compiler into
//! [`State::vteps`](super::State)) and what that database shows ([`Current`], read by
//! `live::vtep`).
//!
//! Who writes what there (see `docs/ARCHITECTURE.md`):
//! - topo: the `Physical_Switch` row when it is missing (`vtep-ctl add-ps`) and its
//!   `tunnel_ips`; a `Logical_Switch` row (by name) for each logical switch the bindings name;
//!   the bindings themselves, entry by entry, in each `Physical_Port.vlan_bindings`.
//! - the switch (the `ovs-vtep` emulator in the lab): its `Physical_Port` rows, `Mcast_Macs_Local`,
//!   `Ucast_Macs_Local`, tunnels, BFD.
//! - `ovn-controller-vtep`: each bound `Logical_Switch`'s `tunnel_key` and
//!   `replication_mode`, the `*_Macs_Remote` and `Physical_Locator` rows; and in the
//!   Southbound the switch's `Chassis` (with a VXLAN `Encap`) and the `vtep` port's binding.
//!
//! topo deletes no row there, and removes only the bindings it wrote: each port's
//! `other_config` remembers, under [`owned_key`], the VLANs a stack bound on it, so that a
//! binding that leaves the topology is removed and the operator's and other stacks' stay.

use std::collections::{BTreeMap, BTreeSet};

use super::{Row, RowKey, RowRef, Value};
use crate::ovsdb::Datum;

/// `Physical_Port.other_config` key listing the VLANs a stack bound on that port
/// (comma-separated, ascending).
pub(crate) fn owned_key(stack: &str) -> String {
    format!("topo:{stack}:vlan-bindings")
}

/// The VLANs of an [`owned_key`] value (entries that are not numbers are ignored).
pub(crate) fn parse_owned(value: &str) -> BTreeSet<i64> {
    value
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

/// The [`owned_key`] value for `vlans`.
pub(crate) fn format_owned<'a>(vlans: impl IntoIterator<Item = &'a i64>) -> String {
    vlans
        .into_iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// What a topology wants on one VTEP (one `Physical_Switch`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// `Physical_Switch.tunnel_ips` (exactly one, as `ovs-vtep` and `ovn-controller-vtep`
    /// use the first).
    pub tunnel_ip: String,
    /// Physical port -> VLAN -> VTEP logical switch name.
    pub bindings: BTreeMap<String, BTreeMap<i64, String>>,
}

impl Wanted {
    /// The VTEP logical switches the bindings name (rows apply creates when missing).
    pub fn logical_switches(&self) -> BTreeSet<String> {
        self.bindings
            .values()
            .flat_map(|b| b.values().cloned())
            .collect()
    }
}

impl Wanted {
    /// The rows this stack's apply writes into the VTEP database of physical switch `name`
    /// that holds nothing of it yet (`topo compile`'s VTEP rows): the `Physical_Switch` with
    /// its tunnel IP, a `Logical_Switch` per bound name, and each bound `Physical_Port`'s
    /// `vlan_bindings` entries with the stack's [`owned_key`] (the port row itself is the
    /// switch's). Sorted by table, key.
    pub fn rows(&self, name: &str, stack: &str) -> Vec<(&'static str, RowKey, Row)> {
        let text = |s: &str| Datum::scalar(Value::from(s));
        let mut out = vec![(
            "Physical_Switch",
            RowKey::name(name),
            Row::new()
                .with("name", text(name))
                .with("tunnel_ips", text(&self.tunnel_ip)),
        )];
        for ls in self.logical_switches() {
            out.push((
                "Logical_Switch",
                RowKey::name(ls.as_str()),
                Row::new().with("name", text(&ls)),
            ));
        }
        for (port, vlans) in &self.bindings {
            let bindings = Datum::map(vlans.iter().map(|(vlan, ls)| {
                (
                    Value::from(*vlan),
                    Value::Ref(Box::new(RowRef {
                        table: "Logical_Switch".to_owned(),
                        key: RowKey::name(ls.as_str()),
                    })),
                )
            }));
            out.push((
                "Physical_Port",
                RowKey::name(port.as_str()),
                Row::new()
                    .with("name", text(port))
                    .with("vlan_bindings", bindings)
                    .with(
                        "other_config",
                        Datum::map([(
                            Value::from(owned_key(stack).as_str()),
                            Value::from(format_owned(vlans.keys()).as_str()),
                        )]),
                    ),
            ));
        }
        out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out
    }
}

/// A VTEP as the topology declares it: the stack, what it wants, and the management remote
/// of the switch's VTEP database when the topology names one (a lab's wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    pub stack: String,
    pub wanted: Wanted,
    pub remote: Option<String>,
}

/// A VTEP database as read, for one physical switch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Current {
    /// Whether the `Physical_Switch` row exists.
    pub switch_exists: bool,
    pub tunnel_ips: Vec<String>,
    /// The `Logical_Switch` rows by name.
    pub logical_switches: BTreeSet<String>,
    /// The switch's physical ports -> VLAN -> bound logical switch name.
    pub ports: BTreeMap<String, BTreeMap<i64, String>>,
    /// The switch's physical ports -> their `other_config` keys that start with `topo:`
    /// (what each stack bound there, [`owned_key`]).
    pub marks: BTreeMap<String, BTreeMap<String, String>>,
}

impl Current {
    /// The VLANs `stack` bound on `port`, as its mark says.
    pub(crate) fn owned(&self, port: &str, stack: &str) -> BTreeSet<i64> {
        self.marks
            .get(port)
            .and_then(|m| m.get(&owned_key(stack)))
            .map(|v| parse_owned(v))
            .unwrap_or_default()
    }
}

/// A VTEP topo reaches: its physical switch name, the remote of its database, and what the
/// stack wants there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub name: String,
    pub remote: String,
    /// The stack whose bindings these are ([`owned_key`]).
    pub stack: String,
    pub wanted: Wanted,
}

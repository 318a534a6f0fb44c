//! The chassis section of the model: what a stack wants on each chassis ([`Wanted`], emitted
//! by the compiler into [`State::chassis`](super::State)), what a chassis's own
//! `Open_vSwitch` database shows ([`Current`], read by `live::vswitch`), and the rows the one
//! becomes in that database ([`Wanted::rows`], what `topo compile` prints and apply writes).
//!
//! A chassis's root row and its `bridges` set are shared with whatever else runs there
//! (br-int, operator bridges), and `ovn-bridge-mappings` is one string shared with other
//! tools: topo sets keys one by one, adds bridges and ports, and edits mappings entry by entry
//! (see [`super::bridge_mappings`]), remembering the networks it wrote under
//! [`owned_key`] so that an entry that leaves the topology is removed and nobody else's is.

use std::collections::BTreeMap;

use super::bridge_mappings::{self, BridgeMappings};
use super::{Db, Row, RowKey, RowRef, Value, identity};
use crate::ovsdb::Datum;

/// The `external_ids` key ovn-controller reads the mappings from.
pub(crate) const MAPPINGS_KEY: &str = "ovn-bridge-mappings";

/// `external_ids` key listing the networks a stack wrote into `ovn-bridge-mappings`.
pub(crate) fn owned_key(stack: &str) -> String {
    format!("topo:{stack}:bridge-mappings")
}

/// What a topology wants on one chassis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Network -> provider bridge: the stack's entries of `ovn-bridge-mappings`.
    pub bridge_mappings: BTreeMap<String, String>,
    /// Provider bridge -> NICs.
    pub bridges: BTreeMap<String, Vec<String>>,
    /// `external_ids` keys the topology sets whole: `ovn-encap-type`, `ovn-encap-ip`, and
    /// `ovn-remote` when it names one.
    pub settings: BTreeMap<String, String>,
}

/// A chassis as the topology declares it: what its stack wants there, and the management
/// remote of its `Open_vSwitch` database when the topology names one (a lab's or topo.toml's
/// win).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    pub stack: String,
    pub wanted: Wanted,
    pub remote: Option<String>,
}

/// A chassis's own database as read: the root row's `external_ids`, and each existing
/// bridge's ports by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Current {
    pub external_ids: BTreeMap<String, String>,
    pub bridges: BTreeMap<String, Vec<String>>,
}

/// A chassis topo reaches: its name, the remote of its own `Open_vSwitch` database, what the
/// stack wants there, and the datapath type of the bridges apply creates there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub name: String,
    pub remote: String,
    pub wanted: Wanted,
    /// `netdev` in a lab; empty: the default.
    pub datapath_type: String,
}

/// The `external_ids` values a stack's apply leaves on a chassis, given what it holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ids {
    /// `ovn-bridge-mappings` as read and as merged (others' entries kept).
    pub mappings_before: BridgeMappings,
    pub mappings_after: BridgeMappings,
    /// The stack's own networks (`topo:<stack>:bridge-mappings`), as read and after.
    pub owned_before: String,
    pub owned_after: String,
}

impl Ids {
    /// Whether ovn-controller would see a different mapping. The owned list alone is topo's
    /// bookkeeping: apply records it, but it is not a change of the chassis.
    pub(crate) fn mappings_change(&self) -> bool {
        self.mappings_before != self.mappings_after
    }

    /// Whether apply writes the mappings keys at all.
    pub(crate) fn write(&self) -> bool {
        self.mappings_change() || self.owned_before != self.owned_after
    }
}

impl Wanted {
    /// The mappings after this stack's apply on a chassis whose `external_ids` are `ids`.
    pub(crate) fn ids(&self, stack: &str, ids: &BTreeMap<String, String>) -> Ids {
        let text = |k: &str| ids.get(k).cloned().unwrap_or_default();
        let before = BridgeMappings::parse(&text(MAPPINGS_KEY));
        let owned_before = text(&owned_key(stack));
        let owned = bridge_mappings::parse_networks(&owned_before);
        Ids {
            mappings_after: BridgeMappings::merge(&before, &owned, &self.bridge_mappings),
            mappings_before: before,
            owned_before,
            owned_after: bridge_mappings::format_networks(self.bridge_mappings.keys()),
        }
    }

    /// The `external_ids` keys apply sets on a chassis whose `external_ids` are `ids`, with
    /// the values it sets: the settings that differ, and the mappings keys when they change.
    pub(crate) fn ids_to_set(
        &self,
        stack: &str,
        ids: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .settings
            .iter()
            .filter(|(k, v)| ids.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let merged = self.ids(stack, ids);
        if merged.write() {
            out.insert(MAPPINGS_KEY.to_owned(), merged.mappings_after.to_string());
            out.insert(owned_key(stack), merged.owned_after);
        }
        out
    }

    /// The rows this stack's apply writes into a chassis's `Open_vSwitch` database that
    /// holds nothing of it yet (`topo compile`'s chassis rows): the root row's `external_ids`
    /// keys and bridges, each provider bridge with its own internal port and its NICs. On a
    /// chassis with other mappings, theirs are kept beside these; the bridges' datapath type
    /// is the target's (`netdev` in a lab).
    pub fn rows(&self, stack: &str) -> Vec<(&'static str, RowKey, Row)> {
        let ids = self.ids_to_set(stack, &BTreeMap::new());
        let mut root = Row::new().with("external_ids", string_map(&ids));
        if !self.bridges.is_empty() {
            root.set(
                "bridges",
                refs("Bridge", self.bridges.keys().map(String::as_str)),
            );
        }
        let mut out = vec![("Open_vSwitch", RowKey::name(identity::SINGLETON), root)];
        for (bridge, nics) in &self.bridges {
            // `ovs-vsctl add-br` gives a bridge its own internal port of the same name.
            let ports = std::iter::once(bridge).chain(nics);
            out.push((
                "Bridge",
                RowKey::name(bridge.as_str()),
                Row::new()
                    .with("name", text(bridge))
                    .with("ports", refs("Port", ports.clone().map(String::as_str))),
            ));
            for port in ports {
                out.push((
                    "Port",
                    RowKey::name(port.as_str()),
                    Row::new()
                        .with("name", text(port))
                        .with("interfaces", refs("Interface", [port.as_str()])),
                ));
                let mut iface = Row::new().with("name", text(port));
                if port == bridge {
                    iface.set("type", text("internal"));
                }
                out.push(("Interface", RowKey::name(port.as_str()), iface));
            }
        }
        out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out
    }
}

/// The database [`Wanted::rows`] live in.
pub(crate) fn db(chassis: &str) -> Db {
    Db::Chassis(chassis.to_owned())
}

fn text(s: &str) -> Datum<Value> {
    Datum::scalar(Value::from(s))
}

fn string_map(m: &BTreeMap<String, String>) -> Datum<Value> {
    Datum::map(
        m.iter()
            .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str()))),
    )
}

fn refs<'a>(table: &str, keys: impl IntoIterator<Item = &'a str>) -> Datum<Value> {
    Datum::set(keys.into_iter().map(|k| {
        Value::Ref(Box::new(RowRef {
            table: table.to_owned(),
            key: RowKey::name(k),
        }))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rows::string_pairs as m;

    fn wanted() -> Wanted {
        Wanted {
            bridge_mappings: m(&[("ext", "br-ex")]),
            bridges: BTreeMap::from([("br-ex".to_owned(), vec!["eth1".to_owned()])]),
            settings: m(&[("ovn-encap-ip", "172.17.0.2"), ("ovn-encap-type", "geneve")]),
        }
    }

    #[test]
    fn only_what_differs_is_set_and_order_is_not_a_difference() {
        let w = wanted();
        let ids = m(&[
            (MAPPINGS_KEY, "theirs:br-t , ext:br-ex"),
            ("topo:s:bridge-mappings", "ext"),
            ("ovn-encap-ip", "172.17.0.1"),
            ("ovn-encap-type", "geneve"),
        ]);
        assert_eq!(
            w.ids_to_set("s", &ids),
            m(&[("ovn-encap-ip", "172.17.0.2")])
        );
    }

    #[test]
    fn the_owned_list_alone_is_recorded_but_is_not_a_mapping_change() {
        let ids = m(&[(MAPPINGS_KEY, "ext:br-ex")]);
        let merged = wanted().ids("s", &ids);
        assert!(!merged.mappings_change());
        assert!(merged.write());
    }

    #[test]
    fn rows_are_what_apply_writes_on_an_empty_chassis() {
        let rows = wanted().rows("s");
        let tables: Vec<(&str, String)> =
            rows.iter().map(|(t, k, _)| (*t, k.to_string())).collect();
        assert_eq!(
            tables,
            vec![
                ("Bridge", "br-ex".to_owned()),
                ("Interface", "br-ex".to_owned()),
                ("Interface", "eth1".to_owned()),
                ("Open_vSwitch", ".".to_owned()),
                ("Port", "br-ex".to_owned()),
                ("Port", "eth1".to_owned()),
            ]
        );
        let root = &rows[3].2;
        assert_eq!(
            root.get("external_ids")
                .map(ToString::to_string)
                .unwrap_or_default(),
            "{ovn-bridge-mappings=ext:br-ex, ovn-encap-ip=172.17.0.2, ovn-encap-type=geneve, \
             topo:s:bridge-mappings=ext}"
        );
    }
}

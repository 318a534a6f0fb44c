//! `ovn-bridge-mappings`, the one place it is parsed, merged, ordered and formatted.
//!
//! ovn-controller reads `external_ids:ovn-bridge-mappings` of its chassis as a comma-separated
//! list of `network:bridge` entries and publishes what it uses in the Southbound
//! `Chassis.other_config`. The entries are a set: `a:br1,b:br2` and `b:br2,a:br1` are the same
//! value, so topo compares parsed values, never strings, and writes entries sorted by network.
//!
//! The value is shared with whatever else configures the chassis, so an entry topo cannot
//! parse (no `:`, an empty side) is someone else's business: it is kept verbatim (and shown
//! by [`BridgeMappings::malformed`]), never dropped, and ovn-controller's own complaint about
//! it stays in its log.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A parsed `ovn-bridge-mappings` value: network → provider bridge, plus the entries that
/// are not `network:bridge` pairs, kept as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BridgeMappings {
    entries: BTreeMap<String, String>,
    malformed: BTreeSet<String>,
}

impl BridgeMappings {
    /// Parses `net1:br1,net2:br2`: whitespace around entries and around `:` is ignored,
    /// empty entries are skipped, and an entry that is not a pair is kept as malformed.
    pub(crate) fn parse(value: &str) -> BridgeMappings {
        let mut out = BridgeMappings::default();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.split_once(':') {
                Some((net, bridge)) if !net.trim().is_empty() && !bridge.trim().is_empty() => {
                    out.entries
                        .insert(net.trim().to_owned(), bridge.trim().to_owned());
                }
                _ => {
                    out.malformed.insert(entry.to_owned());
                }
            }
        }
        out
    }

    /// The mappings ovn-controller would use: network → bridge, sorted by network.
    pub(crate) fn entries(&self) -> &BTreeMap<String, String> {
        &self.entries
    }

    #[cfg(test)]
    /// Entries that are not `network:bridge` pairs, as written.
    pub(crate) fn malformed(&self) -> impl Iterator<Item = &str> {
        self.malformed.iter().map(String::as_str)
    }

    pub(crate) fn get(&self, network: &str) -> Option<&str> {
        self.entries.get(network).map(String::as_str)
    }

    /// The value after a stack's apply: the live entries, less those the stack wrote before
    /// (`previously_owned`, network names) that it no longer wants, plus what it wants (which
    /// wins for its own networks). Entries of others, malformed ones included, are kept.
    pub(crate) fn merge(
        live: &BridgeMappings,
        previously_owned: &BTreeSet<String>,
        wanted: &BTreeMap<String, String>,
    ) -> BridgeMappings {
        let mut merged = live.clone();
        merged
            .entries
            .retain(|net, _| !previously_owned.contains(net) || wanted.contains_key(net));
        merged
            .entries
            .extend(wanted.iter().map(|(n, b)| (n.clone(), b.clone())));
        merged
    }
}

impl From<BTreeMap<String, String>> for BridgeMappings {
    fn from(entries: BTreeMap<String, String>) -> Self {
        BridgeMappings {
            entries,
            malformed: BTreeSet::new(),
        }
    }
}

/// The value as topo writes it: pairs sorted by network, then malformed entries as they were.
impl fmt::Display for BridgeMappings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs = self.entries.iter().map(|(n, b)| format!("{n}:{b}"));
        let all: Vec<String> = pairs.chain(self.malformed.iter().cloned()).collect();
        f.write_str(&all.join(","))
    }
}

/// A comma-separated list of network names, as `external_ids:topo:<stack>:bridge-mappings`
/// holds the networks a stack wrote.
pub(crate) fn parse_networks(value: &str) -> BTreeSet<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The networks of `wanted`, as [`parse_networks`] reads them.
pub(crate) fn format_networks<'a>(networks: impl IntoIterator<Item = &'a String>) -> String {
    networks
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rows::string_pairs as m;

    fn merge(live: &str, owned: &str, wanted: &[(&str, &str)]) -> String {
        BridgeMappings::merge(
            &BridgeMappings::parse(live),
            &parse_networks(owned),
            &m(wanted),
        )
        .to_string()
    }

    #[test]
    fn order_and_spacing_do_not_make_a_different_value() {
        assert_eq!(
            BridgeMappings::parse("physnet:br-ex,other:br-other"),
            BridgeMappings::parse(" other : br-other , physnet:br-ex,")
        );
        assert_eq!(
            BridgeMappings::parse("physnet:br-ex,other:br-other").to_string(),
            "other:br-other,physnet:br-ex"
        );
    }

    #[test]
    fn malformed_entries_are_kept_verbatim_and_not_used() {
        let parsed = BridgeMappings::parse("ext:br-ex,junk,:br-x,net:");
        assert_eq!(parsed.entries(), &m(&[("ext", "br-ex")]));
        assert_eq!(
            parsed.malformed().collect::<Vec<_>>(),
            vec![":br-x", "junk", "net:"]
        );
        assert_eq!(parsed.to_string(), "ext:br-ex,:br-x,junk,net:");
        assert_eq!(merge("junk,theirs:br-t", "", &[]), "theirs:br-t,junk");
    }

    #[test]
    fn entries_topo_does_not_own_are_kept() {
        assert_eq!(
            merge("physnet:br-phys", "", &[("ext", "br-ex")]),
            "ext:br-ex,physnet:br-phys"
        );
    }

    #[test]
    fn entries_that_left_the_topology_are_removed_and_only_those() {
        assert_eq!(
            merge(
                "ext:br-ex,old:br-old,theirs:br-t",
                "ext,old",
                &[("ext", "br-ex")]
            ),
            "ext:br-ex,theirs:br-t"
        );
    }

    #[test]
    fn the_topology_wins_for_its_own_networks() {
        assert_eq!(
            merge("ext:br-wrong", "ext", &[("ext", "br-ex")]),
            "ext:br-ex"
        );
        assert_eq!(merge("", "", &[]), "");
    }

    #[test]
    fn owned_networks_round_trip() {
        let nets = parse_networks(" b, a ,,");
        assert_eq!(format_networks(&nets), "a,b");
    }
}

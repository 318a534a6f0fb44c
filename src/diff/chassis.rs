//! The chassis side of a plan: the stack's [`Wanted`](crate::rows::chassis::Wanted) against a
//! chassis's [`Current`] database, compared the same way for plan, drift and a saved plan's
//! staleness check. Pure.
//!
//! What counts is what ovn-controller and ovs-vswitchd would see: `ovn-bridge-mappings` as a
//! set of entries (order and spacing are not a change), the settings the topology sets
//! whole, the provider bridges and their NICs. The stack's own list of networks
//! (`topo:<stack>:bridge-mappings`) is bookkeeping: apply records it, but a difference there
//! alone is no change (after `topo import --adopt` of hand-set mappings, the plan is empty).

use std::collections::BTreeMap;

use super::{ChassisChange, SettingChange};
use crate::rows::chassis::{Current, Target};

/// What apply would change on `target`, whose database shows `current`; `None` when nothing.
pub(crate) fn change_of(stack: &str, target: &Target, current: &Current) -> Option<ChassisChange> {
    let wanted = &target.wanted;
    let ids = &current.external_ids;
    let merged = wanted.ids(stack, ids);
    let mut bridges_added = Vec::new();
    let mut ports_added = BTreeMap::new();
    for (bridge, nics) in &wanted.bridges {
        let have = match current.bridges.get(bridge) {
            Some(have) => have.as_slice(),
            None => {
                bridges_added.push(bridge.clone());
                &[]
            }
        };
        let missing: Vec<String> = nics.iter().filter(|n| !have.contains(n)).cloned().collect();
        if !missing.is_empty() {
            ports_added.insert(bridge.clone(), missing);
        }
    }
    let settings_changed = settings_changed(wanted, ids);
    if !merged.mappings_change()
        && bridges_added.is_empty()
        && ports_added.is_empty()
        && settings_changed.is_empty()
    {
        return None;
    }
    Some(ChassisChange {
        chassis: target.name.clone(),
        remote: target.remote.clone(),
        bridge_mappings_before: ids
            .get(crate::rows::chassis::MAPPINGS_KEY)
            .cloned()
            .unwrap_or_default(),
        bridge_mappings_after: merged.mappings_after.to_string(),
        owned_before: merged.owned_before,
        owned_after: merged.owned_after,
        bridges_added,
        ports_added,
        settings_changed,
        bridge_mappings: wanted.bridge_mappings.clone(),
        bridges: wanted.bridges.clone(),
        settings: wanted.settings.clone(),
        datapath_type: target.datapath_type.clone(),
    })
}

/// The settings of `wanted` that the chassis's `ids` do not hold as wanted, as read and
/// after (what plan shows and apply reports).
pub(crate) fn settings_changed(
    wanted: &crate::rows::chassis::Wanted,
    ids: &BTreeMap<String, String>,
) -> Vec<SettingChange> {
    wanted
        .settings
        .iter()
        .filter(|(k, v)| ids.get(*k) != Some(*v))
        .map(|(k, v)| SettingChange {
            key: k.clone(),
            before: ids.get(k).cloned(),
            after: v.clone(),
        })
        .collect()
}

/// The chassis a saved plan changes, as it previewed them.
pub(crate) fn target_of(change: &ChassisChange) -> Target {
    Target {
        name: change.chassis.clone(),
        remote: change.remote.clone(),
        wanted: crate::rows::chassis::Wanted {
            bridge_mappings: change.bridge_mappings.clone(),
            bridges: change.bridges.clone(),
            settings: change.settings.clone(),
        },
        datapath_type: change.datapath_type.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::chassis::Wanted;

    use crate::rows::string_pairs as m;

    fn target() -> Target {
        Target {
            name: "gw1".to_owned(),
            remote: "unix:/db".to_owned(),
            wanted: Wanted {
                bridge_mappings: m(&[("ext", "br-ex")]),
                bridges: BTreeMap::from([
                    ("br-ex".to_owned(), vec!["eth1".to_owned()]),
                    (
                        "br-2".to_owned(),
                        vec!["eth2".to_owned(), "eth3".to_owned()],
                    ),
                ]),
                settings: m(&[("ovn-encap-ip", "172.17.0.2"), ("ovn-encap-type", "geneve")]),
            },
            datapath_type: String::new(),
        }
    }

    #[test]
    fn a_preview_names_what_apply_would_change_and_nothing_when_in_place() {
        let target = target();
        let current = Current {
            external_ids: m(&[
                ("ovn-bridge-mappings", "theirs:br-t"),
                ("ovn-encap-ip", "172.17.0.1"),
                ("ovn-encap-type", "geneve"),
            ]),
            bridges: BTreeMap::from([("br-2".to_owned(), vec!["eth2".to_owned()])]),
        };
        let change = change_of("s", &target, &current).expect("a change");
        assert_eq!(change.bridge_mappings_before, "theirs:br-t");
        assert_eq!(change.bridge_mappings_after, "ext:br-ex,theirs:br-t");
        assert_eq!(
            (change.owned_before.as_str(), change.owned_after.as_str()),
            ("", "ext")
        );
        assert_eq!(change.bridges_added, vec!["br-ex".to_owned()]);
        // Only the setting that differs.
        assert_eq!(
            change.settings_changed,
            vec![SettingChange {
                key: "ovn-encap-ip".into(),
                before: Some("172.17.0.1".into()),
                after: "172.17.0.2".into(),
            }]
        );
        assert_eq!(
            change.ports_added,
            BTreeMap::from([
                ("br-2".to_owned(), vec!["eth3".to_owned()]),
                ("br-ex".to_owned(), vec!["eth1".to_owned()]),
            ])
        );
        // Once written, the same read shows nothing to do.
        let written = Current {
            external_ids: m(&[
                ("ovn-bridge-mappings", "ext:br-ex,theirs:br-t"),
                ("topo:s:bridge-mappings", "ext"),
                ("ovn-encap-ip", "172.17.0.2"),
                ("ovn-encap-type", "geneve"),
            ]),
            bridges: BTreeMap::from([
                (
                    "br-ex".to_owned(),
                    vec!["br-ex".to_owned(), "eth1".to_owned()],
                ),
                (
                    "br-2".to_owned(),
                    vec!["eth2".to_owned(), "eth3".to_owned()],
                ),
            ]),
        };
        assert_eq!(change_of("s", &target, &written), None);
        // A saved plan's change names the same target.
        assert_eq!(target_of(&change), target);
    }

    #[test]
    fn entries_in_another_order_or_an_unrecorded_owned_list_are_no_change() {
        let target = target();
        let mut current = Current {
            external_ids: m(&[
                // Another order, with spaces, as someone else wrote it; the stack's own list
                // of networks never recorded (a hand-set mapping adopted by import).
                ("ovn-bridge-mappings", "theirs:br-t, ext:br-ex"),
                ("ovn-encap-ip", "172.17.0.2"),
                ("ovn-encap-type", "geneve"),
            ]),
            bridges: BTreeMap::from([
                ("br-ex".to_owned(), vec!["eth1".to_owned()]),
                (
                    "br-2".to_owned(),
                    vec!["eth2".to_owned(), "eth3".to_owned()],
                ),
            ]),
        };
        assert_eq!(change_of("s", &target, &current), None);
        current
            .external_ids
            .insert("ovn-bridge-mappings".into(), "theirs:br-t".into());
        assert!(change_of("s", &target, &current).is_some());
    }
}

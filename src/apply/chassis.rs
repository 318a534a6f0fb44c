//! The chassis side of apply: each chassis's own `Open_vSwitch` database, written as an
//! operator would with `ovs-vsctl` — provider bridges with their NICs, the
//! `ovn-bridge-mappings` entries of the topology, and the settings it declares whole
//! (`ovn-encap-type`, `ovn-encap-ip`, `ovn-remote`) — then confirmed from the Southbound,
//! where ovn-controller publishes what it uses: the mappings in `Chassis.other_config`, the
//! tunnel endpoint in `Encap`. Plan previews the same ([`change_of`], pure; [`preview`] reads).
//!
//! `ovn-bridge-mappings` is one string shared with whatever else configures the chassis, so
//! topo edits entries, never the whole value: it keeps entries it does not own and remembers
//! which networks it wrote in `external_ids:topo:<stack>:bridge-mappings`, so an entry that
//! leaves the topology is removed and nobody else's is.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::diff::{ChassisChange, SettingChange};
use crate::lab::vswitch::{BridgeSpec, PortSpec, Vswitch};
use crate::live::chassis;
use crate::ovsdb::Client;

/// What topo wants on one chassis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Network -> provider bridge.
    pub bridge_mappings: BTreeMap<String, String>,
    /// Provider bridge -> NICs.
    pub bridges: BTreeMap<String, Vec<String>>,
    /// `external_ids` keys the topology sets whole: `ovn-encap-type`, `ovn-encap-ip`, and
    /// `ovn-remote` when it names one.
    pub settings: BTreeMap<String, String>,
}

/// `external_ids` key listing the networks a stack wrote into `ovn-bridge-mappings`.
pub fn owned_key(stack: &str) -> String {
    format!("topo:{stack}:bridge-mappings")
}

/// `net1:br1,net2:br2` → map (malformed entries are kept verbatim under their whole text).
pub fn parse_mappings(value: &str) -> BTreeMap<String, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once(':') {
            Some((n, b)) => (n.trim().to_owned(), b.trim().to_owned()),
            None => (e.to_owned(), String::new()),
        })
        .collect()
}

pub fn format_mappings(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(n, b)| {
            if b.is_empty() {
                n.clone()
            } else {
                format!("{n}:{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The merged value: live entries topo does not own, plus the topology's. Pure.
pub fn merge(live: &str, previously_owned: &str, wanted: &BTreeMap<String, String>) -> String {
    let mut merged = parse_mappings(live);
    for net in previously_owned
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !wanted.contains_key(net) {
            merged.remove(net);
        }
    }
    merged.extend(wanted.iter().map(|(n, b)| (n.clone(), b.clone())));
    format_mappings(&merged)
}

/// A chassis topo reaches: its name, the remote of its own `Open_vSwitch` database, what the
/// topology wants there, and the datapath type of the bridges apply creates there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub remote: String,
    pub wanted: Wanted,
    /// `netdev` in a lab; empty: the default.
    pub datapath_type: String,
}

/// The chassis a saved plan changes, as it previewed them.
impl From<&ChassisChange> for Target {
    fn from(c: &ChassisChange) -> Target {
        Target {
            name: c.chassis.clone(),
            remote: c.remote.clone(),
            wanted: Wanted {
                bridge_mappings: c.bridge_mappings.clone(),
                bridges: c.bridges.clone(),
                settings: c.settings.clone(),
            },
            datapath_type: c.datapath_type.clone(),
        }
    }
}

/// The networks of `wanted`'s mappings, as `external_ids:topo:<stack>:bridge-mappings` holds
/// them.
fn owned_list(wanted: &Wanted) -> String {
    wanted
        .bridge_mappings
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(",")
}

/// The settings of `wanted` that `ids` does not hold as wanted.
fn settings_to_set(wanted: &Wanted, ids: &BTreeMap<String, String>) -> Vec<SettingChange> {
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

/// What [`write`] would change on one chassis, from the chassis's `external_ids` and the
/// ports of each wanted bridge as read (`None`: no such bridge); `None` when nothing. Pure.
pub fn change_of(
    stack: &str,
    target: &Target,
    ids: &BTreeMap<String, String>,
    ports: &BTreeMap<String, Option<Vec<String>>>,
) -> Option<ChassisChange> {
    let wanted = &target.wanted;
    let before = ids.get("ovn-bridge-mappings").cloned().unwrap_or_default();
    let owned = ids.get(&owned_key(stack)).cloned().unwrap_or_default();
    let after = merge(&before, &owned, &wanted.bridge_mappings);
    let now_owned = owned_list(wanted);
    let mut bridges_added = Vec::new();
    let mut ports_added = BTreeMap::new();
    for (bridge, nics) in &wanted.bridges {
        let have = match ports.get(bridge) {
            Some(Some(have)) => have.as_slice(),
            _ => {
                bridges_added.push(bridge.clone());
                &[]
            }
        };
        let missing: Vec<String> = nics.iter().filter(|n| !have.contains(n)).cloned().collect();
        if !missing.is_empty() {
            ports_added.insert(bridge.clone(), missing);
        }
    }
    let settings_changed = settings_to_set(wanted, ids);
    if after == before
        && now_owned == owned
        && bridges_added.is_empty()
        && ports_added.is_empty()
        && settings_changed.is_empty()
    {
        return None;
    }
    Some(ChassisChange {
        chassis: target.name.clone(),
        remote: target.remote.clone(),
        bridge_mappings_before: before,
        bridge_mappings_after: after,
        owned_before: owned,
        owned_after: now_owned,
        bridges_added,
        ports_added,
        settings_changed,
        bridge_mappings: wanted.bridge_mappings.clone(),
        bridges: wanted.bridges.clone(),
        settings: wanted.settings.clone(),
        datapath_type: target.datapath_type.clone(),
    })
}

/// Reads the chassis's database and says what [`write`] would change there.
pub async fn preview(
    stack: &str,
    target: &Target,
    deadline: Duration,
) -> Result<Option<ChassisChange>, Error> {
    let vs = connect(target, deadline).await?;
    let fail = failure(target);
    let ids = vs.external_ids().await.map_err(fail)?;
    let existing = vs.bridges().await.map_err(fail)?;
    let mut ports = BTreeMap::new();
    for bridge in target.wanted.bridges.keys() {
        let have = if existing.contains(bridge) {
            Some(vs.ports(bridge).await.map_err(fail)?)
        } else {
            None
        };
        ports.insert(bridge.clone(), have);
    }
    Ok(change_of(stack, target, &ids, &ports))
}

/// A lab error on `target`'s database, naming the chassis.
fn failure(target: &Target) -> impl Fn(crate::lab::LabError) -> Error + Copy + '_ {
    move |e| Error::Chassis {
        chassis: target.name.clone(),
        message: e.to_string(),
    }
}

async fn connect(target: &Target, deadline: Duration) -> Result<Vswitch, Error> {
    Vswitch::connect_running(&target.remote, deadline)
        .await
        .map_err(failure(target))
}

/// What apply did on one chassis, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub chassis: String,
    pub mappings_before: String,
    pub mappings_after: String,
    pub bridges: Vec<String>,
    /// The settings it set (those that differed).
    pub settings: Vec<SettingChange>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("chassis {chassis}: {message}")]
    Chassis { chassis: String, message: String },
    #[error(
        "chassis {chassis}: ovn-controller did not publish ovn-bridge-mappings={want:?} in the \
         Southbound within {after:?} (it shows {seen:?}); is ovn-controller running there?"
    )]
    NotConfirmed {
        chassis: String,
        want: String,
        seen: String,
        after: Duration,
    },
    #[error(
        "chassis {chassis}: ovn-controller did not publish the tunnel endpoint {want} in the \
         Southbound within {after:?} (it shows {seen:?}); is ovn-controller running there?"
    )]
    EncapNotConfirmed {
        chassis: String,
        want: String,
        seen: String,
        after: Duration,
    },
}

/// Writes what the topology wants into the chassis's database.
pub async fn write(stack: &str, target: &Target, deadline: Duration) -> Result<Applied, Error> {
    let vs = connect(target, deadline).await?;
    let fail = failure(target);
    let wanted = &target.wanted;
    for (bridge, nics) in &wanted.bridges {
        let ports: Vec<PortSpec> = nics.iter().map(|n| PortSpec::system(n)).collect();
        let spec = BridgeSpec {
            name: bridge.clone(),
            datapath_type: target.datapath_type.clone(),
            ..BridgeSpec::default()
        };
        vs.ensure_bridge(&spec, &ports).await.map_err(fail)?;
    }
    let ids = vs.external_ids().await.map_err(fail)?;
    let before = ids.get("ovn-bridge-mappings").cloned().unwrap_or_default();
    let owned = ids.get(&owned_key(stack)).cloned().unwrap_or_default();
    let after = merge(&before, &owned, &wanted.bridge_mappings);
    let now_owned = owned_list(wanted);
    let settings = settings_to_set(wanted, &ids);
    let mut update: BTreeMap<String, String> = settings
        .iter()
        .map(|c| (c.key.clone(), c.after.clone()))
        .collect();
    if after != before || now_owned != owned {
        update.insert("ovn-bridge-mappings".to_owned(), after.clone());
        update.insert(owned_key(stack), now_owned);
    }
    if !update.is_empty() {
        vs.set_external_ids(&update).await.map_err(fail)?;
    }
    vs.wait_applied(deadline).await.map_err(fail)?;
    Ok(Applied {
        chassis: target.name.clone(),
        mappings_before: before,
        mappings_after: after,
        bridges: wanted.bridges.keys().cloned().collect(),
        settings,
    })
}

/// Waits until the Southbound shows what was written on `target`: its `Chassis` row the
/// bridge `mappings` (`other_config`, or `external_ids` before OVN 22.09), and its `Encap`
/// rows the wanted `ovn-encap-type` with the wanted `ovn-encap-ip`.
pub async fn confirm(
    sb: &Client,
    target: &Target,
    mappings: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let name = target.name.as_str();
    let settings = &target.wanted.settings;
    let encap = settings
        .get("ovn-encap-type")
        .zip(settings.get("ovn-encap-ip"))
        .map(|(t, ip)| format!("{t} {ip}"));
    let start = Instant::now();
    loop {
        // A read that fails (the Southbound restarting) counts as not yet shown.
        let seen = chassis::published_by(sb, name)
            .await
            .ok()
            .and_then(|mut keys| keys.remove("ovn-bridge-mappings"))
            .unwrap_or_default();
        let encaps = chassis::encaps(sb, name).await.unwrap_or_default();
        let mappings_in = format_mappings(&parse_mappings(&seen)) == mappings;
        let encap_in = encap.as_ref().is_none_or(|e| encaps.contains(e));
        if mappings_in && encap_in {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(match (mappings_in, encap) {
                (false, _) | (true, None) => Error::NotConfirmed {
                    chassis: name.to_owned(),
                    want: mappings.to_owned(),
                    seen,
                    after: timeout,
                },
                (true, Some(want)) => Error::EncapNotConfirmed {
                    chassis: name.to_owned(),
                    want,
                    seen: encaps.join(", "),
                    after: timeout,
                },
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn entries_topo_does_not_own_are_kept() {
        assert_eq!(
            merge("physnet:br-phys", "", &m(&[("ext", "br-ex")])),
            "ext:br-ex,physnet:br-phys"
        );
    }

    #[test]
    fn entries_that_left_the_topology_are_removed_and_only_those() {
        assert_eq!(
            merge(
                "ext:br-ex,old:br-old,theirs:br-t",
                "ext,old",
                &m(&[("ext", "br-ex")])
            ),
            "ext:br-ex,theirs:br-t"
        );
    }

    #[test]
    fn a_preview_names_what_apply_would_change_and_nothing_when_in_place() {
        let wanted = Wanted {
            bridge_mappings: m(&[("ext", "br-ex")]),
            bridges: BTreeMap::from([
                ("br-ex".to_owned(), vec!["eth1".to_owned()]),
                (
                    "br-2".to_owned(),
                    vec!["eth2".to_owned(), "eth3".to_owned()],
                ),
            ]),
            settings: m(&[("ovn-encap-ip", "172.17.0.2"), ("ovn-encap-type", "geneve")]),
        };
        let ids = m(&[
            ("ovn-bridge-mappings", "theirs:br-t"),
            ("ovn-encap-ip", "172.17.0.1"),
            ("ovn-encap-type", "geneve"),
        ]);
        let ports = BTreeMap::from([("br-2".to_owned(), Some(vec!["eth2".to_owned()]))]);
        let target = Target {
            name: "gw1".to_owned(),
            remote: "unix:/db".to_owned(),
            wanted,
            datapath_type: String::new(),
        };
        let change = change_of("s", &target, &ids, &ports).expect("a change");
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
        let ids = m(&[
            ("ovn-bridge-mappings", "ext:br-ex,theirs:br-t"),
            ("topo:s:bridge-mappings", "ext"),
            ("ovn-encap-ip", "172.17.0.2"),
            ("ovn-encap-type", "geneve"),
        ]);
        let ports = BTreeMap::from([
            (
                "br-ex".to_owned(),
                Some(vec!["br-ex".to_owned(), "eth1".to_owned()]),
            ),
            (
                "br-2".to_owned(),
                Some(vec!["eth2".to_owned(), "eth3".to_owned()]),
            ),
        ]);
        assert_eq!(change_of("s", &target, &ids, &ports), None);
        // A saved plan's change names the same target.
        assert_eq!(Target::from(&change), target);
    }

    #[test]
    fn the_topology_wins_for_its_own_networks() {
        assert_eq!(
            merge("ext:br-wrong", "ext", &m(&[("ext", "br-ex")])),
            "ext:br-ex"
        );
        assert_eq!(merge("", "", &BTreeMap::new()), "");
    }
}

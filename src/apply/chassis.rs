//! The chassis side of apply: each chassis's own `Open_vSwitch` database, written as an
//! operator would with `ovs-vsctl` — provider bridges with their NICs, the stack's
//! `ovn-bridge-mappings` entries (merged: others' entries kept) and the settings it declares
//! whole (`ovn-encap-type`, `ovn-encap-ip`, `ovn-remote`) — then confirmed from the
//! Southbound, where ovn-controller publishes what it uses: the mappings in
//! `Chassis.other_config`, the tunnel endpoint in `Encap`.
//!
//! What is written is [`Wanted::ids_to_set`](crate::rows::chassis::Wanted::ids_to_set) and
//! the bridges of the stack's [`Target`]s; what plan shows is
//! [`diff::chassis::change_of`](crate::diff::chassis::change_of) of the same read
//! ([`preview`]). A chassis that needs nothing is not written to at all.

use std::time::Duration;

use crate::diff::chassis::{change_of, settings_changed, target_of};
use crate::diff::{ChassisChange, SettingChange, UncheckedChassis};
use crate::live::southbound;
use crate::live::vswitch::{self, BridgeSpec, PortSpec, Vswitch};
use crate::ovsdb::Client;
use crate::poll::poll_until;
use crate::rows::bridge_mappings::BridgeMappings;
use crate::rows::chassis::{MAPPINGS_KEY, Target};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    /// A hardware VTEP's database (the VTEP side of apply, `apply::vtep`).
    #[error("VTEP {vtep}: {source}")]
    Vtep {
        vtep: String,
        #[diagnostic_source]
        source: crate::live::vtep::Error,
    },
    #[error("chassis {chassis}: {source}")]
    Database {
        chassis: String,
        #[diagnostic_source]
        source: vswitch::Error,
    },
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

/// A chassis database error on `target`, naming the chassis.
fn failure(target: &Target) -> impl Fn(vswitch::Error) -> Error + '_ {
    move |source| Error::Database {
        chassis: target.name.clone(),
        source,
    }
}

/// Connects to a chassis database that should be running: nothing listening fails at once.
async fn connect(target: &Target, deadline: Duration) -> Result<Vswitch, Error> {
    Vswitch::connect_running(&target.remote, deadline)
        .await
        .map_err(failure(target))
}

/// Reads the chassis's database and says what [`write()`] would change there.
pub(crate) async fn preview(
    stack: &str,
    target: &Target,
    deadline: Duration,
) -> Result<Option<ChassisChange>, Error> {
    let vs = connect(target, deadline).await?;
    let current = vs
        .current(target.wanted.bridges.keys())
        .await
        .map_err(failure(target))?;
    Ok(change_of(stack, target, &current))
}

/// What apply would change on each chassis (those with nothing to change left out).
pub(crate) async fn preview_all(
    stack: &str,
    targets: &[Target],
    deadline: Duration,
) -> Result<Vec<ChassisChange>, Error> {
    let mut out = Vec::new();
    for target in targets {
        out.extend(preview(stack, target, deadline).await?);
    }
    Ok(out)
}

/// [`preview_all`] of the chassis that answer: one that cannot be read is listed with the
/// reason instead of failing the whole preview (`--chassis reachable`).
pub(crate) async fn preview_reachable(
    stack: &str,
    targets: &[Target],
    deadline: Duration,
) -> (Vec<ChassisChange>, Vec<UncheckedChassis>) {
    let mut changes = Vec::new();
    let mut unchecked = Vec::new();
    for target in targets {
        match preview(stack, target, deadline).await {
            Ok(change) => changes.extend(change),
            Err(e) => unchecked.push(UncheckedChassis {
                chassis: target.name.clone(),
                remote: target.remote.clone(),
                reason: match e {
                    Error::Database { source, .. } => source.to_string(),
                    other => other.to_string(),
                },
            }),
        }
    }
    (changes, unchecked)
}

/// The chassis a saved plan will change, as it previewed them.
pub(crate) fn of_saved(changes: &[ChassisChange]) -> Vec<Target> {
    changes.iter().map(target_of).collect()
}

/// The saved plan's chassis changes that no longer match what the chassis show now, one
/// sentence each (empty: none moved).
pub(crate) async fn moved_since(
    stack: &str,
    saved: &[ChassisChange],
    deadline: Duration,
) -> Result<Vec<String>, Error> {
    let now = preview_all(stack, &of_saved(saved), deadline).await?;
    Ok(saved
        .iter()
        .filter(|s| !now.contains(s))
        .map(|s| format!("chassis {} changed since the plan read it", s.chassis))
        .collect())
}

/// What apply did on one chassis, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    pub chassis: String,
    pub mappings_before: String,
    pub mappings_after: String,
    pub bridges: Vec<String>,
    /// The settings it set (those that differed).
    pub settings: Vec<SettingChange>,
    /// Whether anything was written to the chassis's database.
    pub wrote: bool,
}

/// Writes what the stack wants into the chassis's database: missing bridges and NICs, then
/// the `external_ids` keys that differ, then waits until ovs-vswitchd applied them. Writes
/// nothing when nothing differs.
pub(crate) async fn write(
    stack: &str,
    target: &Target,
    deadline: Duration,
) -> Result<Applied, Error> {
    let vs = connect(target, deadline).await?;
    let fail = failure(target);
    let wanted = &target.wanted;
    let current = vs.current(wanted.bridges.keys()).await.map_err(&fail)?;
    let mut wrote = false;
    for (bridge, nics) in &wanted.bridges {
        let have = current.bridges.get(bridge);
        if have.is_some_and(|have| nics.iter().all(|n| have.contains(n))) {
            continue;
        }
        let ports: Vec<PortSpec> = nics.iter().map(|n| PortSpec::system(n)).collect();
        let spec = BridgeSpec {
            name: bridge.clone(),
            datapath_type: target.datapath_type.clone(),
            ..BridgeSpec::default()
        };
        vs.ensure_bridge(&spec, &ports).await.map_err(&fail)?;
        wrote = true;
    }
    let ids = &current.external_ids;
    let merged = wanted.ids(stack, ids);
    let update = wanted.ids_to_set(stack, ids);
    let settings = settings_changed(wanted, ids);
    if !update.is_empty() {
        vs.set_external_ids(&update).await.map_err(&fail)?;
        wrote = true;
    }
    if wrote {
        vs.wait_applied(deadline).await.map_err(&fail)?;
    }
    Ok(Applied {
        chassis: target.name.clone(),
        mappings_before: ids.get(MAPPINGS_KEY).cloned().unwrap_or_default(),
        mappings_after: merged.mappings_after.to_string(),
        bridges: wanted.bridges.keys().cloned().collect(),
        settings,
        wrote,
    })
}

/// Waits until the Southbound shows what was written on `target`: its `Chassis` row the
/// bridge `mappings` (as a set of entries), and its `Encap` rows the wanted
/// `ovn-encap-type` with the wanted `ovn-encap-ip`.
pub(crate) async fn confirm(
    sb: &Client,
    target: &Target,
    mappings: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let name = target.name.as_str();
    let settings = &target.wanted.settings;
    let want = BridgeMappings::parse(mappings);
    let encap = settings
        .get("ovn-encap-type")
        .zip(settings.get("ovn-encap-ip"))
        .map(|(t, ip)| format!("{t} {ip}"));
    let last = poll_until(timeout, Duration::from_millis(200), || async {
        // A read that fails (the Southbound restarting) counts as not yet shown.
        let seen = southbound::chassis(sb, name).await.ok().flatten();
        let published = seen
            .as_ref()
            .and_then(|c| c.published.get(MAPPINGS_KEY).cloned())
            .unwrap_or_default();
        let encaps: Vec<String> = seen
            .map(|c| c.encaps.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let mappings_in = BridgeMappings::parse(&published) == want;
        let encap_in = encap.as_ref().is_none_or(|e| encaps.contains(e));
        Ok::<_, Error>(if mappings_in && encap_in {
            Ok(())
        } else {
            Err((mappings_in, published, encaps))
        })
    })
    .await?;
    let Err((mappings_in, seen, encaps)) = last else {
        return Ok(());
    };
    Err(match (mappings_in, encap) {
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
    })
}

//! The chassis topo can reach, for plan and apply: each chassis of the topology that has a
//! management remote (its `Open_vSwitch` database), and what the topology wants there.
//!
//! `topo plan` previews the changes on each (shown with the rows, saved with the plan); `topo
//! apply` writes them after the Northbound transaction and confirms them from the Southbound.
//! A saved plan carries what it previewed, so applying it writes the same and refuses a chassis
//! that moved since.

use std::collections::BTreeMap;
use std::time::Duration;

use super::desired::Desired;
use crate::apply::chassis::{self, Target, Wanted};
use crate::diff::ChassisChange;
use crate::lab::targets::Targets;
use crate::ovsdb::Client;

/// The chassis of `desired` with a remote: the lab's (`--lab`), else the target's (topo.toml
/// `[targets.<name>.chassis.<chassis>]`), else the topology's own `remote`.
pub fn reachable(
    desired: &Desired,
    lab: Option<&Targets>,
    configured: &BTreeMap<String, String>,
) -> Vec<Target> {
    let mut out = Vec::new();
    for (name, c) in &desired.model.chassis {
        let lab = lab.and_then(|t| t.chassis.get(name));
        let Some(remote) = lab
            .map(|l| l.remote.clone())
            .or_else(|| configured.get(name).cloned())
            .or_else(|| c.remote.clone())
        else {
            continue;
        };
        let mut settings = BTreeMap::from([
            (
                "ovn-encap-type".to_owned(),
                c.encap_type.as_str().to_owned(),
            ),
            ("ovn-encap-ip".to_owned(), c.encap_ip.to_string()),
        ]);
        // A lab's chassis talk to the lab's Southbound, whatever the topology says.
        if let (Some(r), None) = (&c.ovn_remote, lab) {
            settings.insert("ovn-remote".to_owned(), r.clone());
        }
        let mut wanted = Wanted {
            bridge_mappings: c.bridge_mappings.clone(),
            bridges: c.bridges.clone(),
            settings,
        };
        // In a lab, the physical wiring the topology does not describe is the lab's: a
        // mapped provider bridge without a NIC gets the lab's NIC for that network.
        if let Some(lab) = lab {
            for (network, bridge) in &c.bridge_mappings {
                let nics = wanted.bridges.entry(bridge.clone()).or_default();
                if let (true, Some(nic)) = (nics.is_empty(), lab.nics.get(network)) {
                    nics.push(nic.clone());
                }
            }
        }
        out.push(Target {
            name: name.clone(),
            remote,
            wanted,
            datapath_type: if lab.is_some() { "netdev" } else { "" }.to_owned(),
        });
    }
    out
}

/// The chassis a saved plan will change, as it previewed them.
pub fn of_saved(changes: &[ChassisChange]) -> Vec<Target> {
    changes.iter().map(Target::from).collect()
}

/// The diagnostic codes of chassis errors: plan's, and apply's.
pub const PLAN: &str = "topo::plan::chassis";
pub const APPLY: &str = "topo::apply::chassis";

/// A chassis error as the diagnostic of the command (`code`) that met it.
fn report(code: &'static str) -> impl Fn(chassis::Error) -> miette::Report {
    move |e| {
        miette::miette!(
            code = code,
            help = "the chassis's Open_vSwitch database is reached through its remote (the \
                    lab's, a topo.toml target's chassis, or the topology's `remote`)",
            "{e}"
        )
    }
}

/// What apply would change on each chassis (those with nothing to change left out); errors
/// carry `code` ([`PLAN`] or [`APPLY`]).
pub async fn preview(
    stack: &str,
    all: &[Target],
    timeout: Duration,
    code: &'static str,
) -> Result<Vec<ChassisChange>, miette::Report> {
    let mut out = Vec::new();
    for target in all {
        out.extend(
            chassis::preview(stack, target, timeout)
                .await
                .map_err(report(code))?,
        );
    }
    Ok(out)
}

/// The saved plan's chassis changes that no longer match what the chassis show now, one
/// sentence each (empty: none moved).
pub async fn moved_since(
    stack: &str,
    saved: &[ChassisChange],
    timeout: Duration,
) -> Result<Vec<String>, miette::Report> {
    let now = preview(stack, &of_saved(saved), timeout, APPLY).await?;
    Ok(saved
        .iter()
        .filter(|s| !now.contains(s))
        .map(|s| format!("chassis {} changed since the plan read it", s.chassis))
        .collect())
}

/// Writes each chassis's settings into its own database and confirms them from the
/// Southbound.
pub async fn write_all(
    stack: &str,
    all: &[Target],
    sb: &Client,
    timeout: Duration,
) -> Result<Vec<chassis::Applied>, miette::Report> {
    let mut out = Vec::new();
    for target in all {
        let applied = chassis::write(stack, target, timeout)
            .await
            .map_err(report(APPLY))?;
        chassis::confirm(sb, target, &applied.mappings_after, timeout)
            .await
            .map_err(report(APPLY))?;
        out.push(applied);
    }
    Ok(out)
}

//! `topo lab up FILE` on a running lab: the lab follows its topology. The spec the lab was
//! built from (`lab.json`) is compared with the new one part by part (chassis, networks,
//! VTEPs, VMs, by name); what is gone or different is removed, what is new or different is
//! built, with the functions `up` builds with ([`super::parts`]); nothing else is touched,
//! so the daemons of an unchanged chassis keep their PIDs.
//!
//! A part is rebuilt, not edited: a chassis whose encap IP changed gets a new namespace and
//! new daemons (under the same name), and with it its VMs and the networks it maps (their
//! links lived in its namespace); a network whose hosts, mappings or VLANs changed is built
//! again (its hosts too). Removals go first (VMs, VTEPs, networks, chassis), then additions
//! in `up`'s order. `lab.json` records each step as it happens and its spec lists what is
//! built, so after a failure the state is what exists and the next `lab up` carries on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::daemons;
use super::error::LabError;
use super::lifecycle::{self, UpOptions};
use super::parts;
use super::spec::LabSpec;
use super::state::{LabState, Phase};
use super::targets::Targets;

/// What a reconcile did, one line per part (`+ vm a-web-vm3 on hv1`, `- host client`,
/// `~ chassis hv1 (rebuilt)`), and what it left alone.
#[derive(Debug, Default, Clone)]
pub struct Reconciled {
    pub changes: Vec<String>,
    /// `3 chassis, 4 VMs, 1 network unchanged`.
    pub unchanged: String,
}

/// Parts of `old` and `new` by name.
struct Delta<'a, T> {
    old: BTreeMap<&'a str, &'a T>,
    new: BTreeMap<&'a str, &'a T>,
}

impl<'a, T: PartialEq> Delta<'a, T> {
    fn of(old: &'a [T], new: &'a [T], name: impl Fn(&T) -> &str) -> Delta<'a, T> {
        Delta {
            old: old.iter().map(|x| (name(x), x)).collect(),
            new: new.iter().map(|x| (name(x), x)).collect(),
        }
    }

    /// Names in both, the same, and not forced to be rebuilt by `rebuild`.
    fn kept(&self, rebuild: impl Fn(&T) -> bool) -> BTreeSet<&'a str> {
        self.old
            .iter()
            .filter(|(n, o)| self.new.get(*n) == Some(*o) && !rebuild(o))
            .map(|(n, _)| *n)
            .collect()
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Brings the running lab in `dir` to `spec`. Fails (changing nothing) when there is no
/// lab, when it is not up, or when the underlay prefix changed.
pub async fn reconcile(
    dir: &Path,
    spec: LabSpec,
    options: &UpOptions,
) -> Result<(LabState, Reconciled), LabError> {
    spec.validate()?;
    let _lock = super::lock::acquire_existing(dir)?;
    let mut state = LabState::load(dir)?
        .ok_or_else(|| LabError::Setup(format!("no lab in {}", dir.display())))?;
    if state.phase != Phase::Up {
        return Err(LabError::Exists(state.dir.clone()));
    }
    let old = state.spec.clone();
    if old.underlay_prefix != spec.underlay_prefix {
        return Err(LabError::Setup(format!(
            "the underlay changed from /{} to /{}: a running lab cannot follow that (`topo lab down`, then `up`)",
            old.underlay_prefix, spec.underlay_prefix
        )));
    }
    let mut done = Reconciled::default();
    let out = &mut done.changes;

    let chassis = Delta::of(&old.chassis, &spec.chassis, |c| &c.name);
    let kept_chassis = chassis.kept(|_| false);
    // A chassis rebuilt takes its links along: the VMs on it and the networks it maps.
    let rebuilt = |name: &str| chassis.old.contains_key(name) && !kept_chassis.contains(name);
    let networks = Delta::of(&old.networks, &spec.networks, |n| &n.name);
    let kept_networks = networks.kept(|n| n.mapped_on.keys().any(|c| rebuilt(c)));
    let vteps = Delta::of(&old.vteps, &spec.vteps, |v| &v.name);
    let kept_vteps = vteps.kept(|_| false);
    let vms = Delta::of(&old.vms, &spec.vms, |v| &v.name);
    let kept_vms = vms.kept(|v| rebuilt(&v.chassis));

    // What goes: each removal is recorded (state and spec) as soon as it is done.
    let label = |kept: &BTreeSet<&str>, n: &str, new: bool| match (kept.contains(n), new) {
        (true, _) => None,
        (false, true) => Some('~'),
        (false, false) => Some('-'),
    };
    for (name, v) in &vms.old {
        let Some(sign) = label(&kept_vms, name, vms.new.contains_key(name)) else {
            continue;
        };
        parts::remove_vm(&mut state, v).await?;
        state.spec.vms.retain(|x| &x.name != name);
        state.save()?;
        if sign == '-' {
            out.push(format!("- vm {name}"));
        }
    }
    for (name, v) in &vteps.old {
        let Some(sign) = label(&kept_vteps, name, vteps.new.contains_key(name)) else {
            continue;
        };
        parts::remove_vtep(&mut state, v)?;
        state.spec.vteps.retain(|x| &x.name != name);
        state.save()?;
        if sign == '-' {
            out.push(format!("- vtep {name}"));
            out.extend(v.hosts.keys().map(|h| format!("- host {h}")));
        }
    }
    for (name, n) in &networks.old {
        let Some(sign) = label(&kept_networks, name, networks.new.contains_key(name)) else {
            continue;
        };
        parts::remove_network(&mut state, n)?;
        state.spec.networks.retain(|x| &x.name != name);
        state.save()?;
        if sign == '-' {
            out.push(format!("- network {name}"));
            out.extend(n.hosts.keys().map(|h| format!("- host {h}")));
        }
    }
    for name in chassis.old.keys() {
        let Some(sign) = label(&kept_chassis, name, chassis.new.contains_key(name)) else {
            continue;
        };
        parts::remove_chassis(&mut state, name)?;
        state.spec.chassis.retain(|x| &x.name != name);
        state.save()?;
        if sign == '-' {
            out.push(format!("- chassis {name}"));
        }
    }

    // What comes, in `up`'s order.
    let sign = |old: bool| if old { '~' } else { '+' };
    let mut added_chassis = Vec::new();
    for c in spec
        .chassis
        .iter()
        .filter(|c| !kept_chassis.contains(c.name.as_str()))
    {
        parts::add_chassis(&mut state, c).await?;
        state.spec.chassis.push(c.clone());
        state.save()?;
        added_chassis.push(c.name.clone());
        let what = if chassis.old.contains_key(c.name.as_str()) {
            " (rebuilt: new daemons)"
        } else {
            ""
        };
        out.push(format!(
            "{} chassis {}{what}",
            sign(!what.is_empty()),
            c.name
        ));
    }
    daemons::wait_chassis_registered(&state, &added_chassis).await?;
    let mut touched: BTreeSet<String> = added_chassis.iter().cloned().collect();
    for (i, n) in spec.networks.iter().enumerate() {
        if kept_networks.contains(n.name.as_str()) {
            continue;
        }
        parts::add_network(&mut state, n, i).await?;
        state.spec.networks.push(n.clone());
        state.save()?;
        touched.extend(n.mapped_on.keys().cloned());
        let before = networks.old.get(n.name.as_str());
        out.push(format!("{} network {}", sign(before.is_some()), n.name));
        for (h, ip) in &n.hosts {
            if before.is_none_or(|b| b.hosts.get(h) != Some(ip)) {
                out.push(format!("+ host {h} {ip} on {}", n.name));
            }
        }
        for h in before.iter().flat_map(|b| b.hosts.keys()) {
            if !n.hosts.contains_key(h) {
                out.push(format!("- host {h}"));
            }
        }
    }
    for v in spec
        .vteps
        .iter()
        .filter(|v| !kept_vteps.contains(v.name.as_str()))
    {
        parts::add_vtep(&mut state, v).await?;
        state.spec.vteps.push(v.clone());
        state.save()?;
        out.push(format!(
            "{} vtep {}",
            sign(vteps.old.contains_key(v.name.as_str())),
            v.name
        ));
    }
    let networks_changed =
        spec.networks.len() != kept_networks.len() || old.networks.len() != kept_networks.len();
    if options.chassis_settings && (networks_changed || !added_chassis.is_empty()) {
        lifecycle::write_chassis_settings(&state).await?;
    }
    for v in spec
        .vms
        .iter()
        .filter(|v| !kept_vms.contains(v.name.as_str()))
    {
        parts::add_vm(&mut state, v).await?;
        state.spec.vms.push(v.clone());
        state.save()?;
        touched.insert(v.chassis.clone());
        out.push(format!(
            "{} vm {} on {}",
            sign(vms.old.contains_key(v.name.as_str())),
            v.name,
            v.chassis
        ));
    }
    let touched: Vec<String> = touched.into_iter().collect();
    lifecycle::wait_applied(&state, &touched).await?;

    if old.checks != spec.checks {
        out.push(format!("~ checks ({})", spec.checks.len()));
    }
    state.spec = spec.clone();
    state.save()?;
    Targets::of(&state).write(&state.dir)?;
    done.unchanged = format!(
        "{}, {}, {}{} unchanged",
        count(kept_chassis.len(), "chassis", "chassis"),
        count(kept_vms.len(), "VM", "VMs"),
        count(kept_networks.len(), "network", "networks"),
        if kept_vteps.is_empty() {
            String::new()
        } else {
            format!(", {}", count(kept_vteps.len(), "VTEP", "VTEPs"))
        }
    );
    Ok((state, done))
}

//! Which chassis plan, drift and apply reach: each chassis of the topology with a management
//! remote for its `Open_vSwitch` database — the lab's (`--lab`), else the target's (topo.toml
//! `[targets.<name>.chassis.<chassis>]`), else the topology's own `remote` — with what the
//! compiled topology wants there (`rows::chassis`), adjusted to a lab's wiring.
//!
//! And the chassis errors as diagnostics, with the code of the command that met them.

use std::collections::BTreeMap;

use crate::apply::chassis;
use crate::lab::targets::Targets;
use crate::rows::State;
use crate::rows::chassis::Target;

/// The chassis of `desired` with a remote, in chassis order.
pub(crate) fn reachable(
    desired: &State,
    lab: Option<&Targets>,
    configured: &BTreeMap<String, String>,
) -> Vec<Target> {
    let mut out = Vec::new();
    for (name, declared) in &desired.chassis {
        let lab = lab.and_then(|t| t.chassis.get(name));
        let Some(remote) = lab
            .map(|l| l.remote.clone())
            .or_else(|| configured.get(name).cloned())
            .or_else(|| declared.remote.clone())
        else {
            continue;
        };
        let mut wanted = declared.wanted.clone();
        if let Some(lab) = lab {
            // A lab's chassis talk to the lab's Southbound, whatever the topology says.
            wanted.settings.remove("ovn-remote");
            // The physical wiring the topology does not describe is the lab's: a mapped
            // provider bridge without a NIC gets the lab's NIC for that network.
            for (network, bridge) in &declared.wanted.bridge_mappings {
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

/// Which chassis databases plan and drift read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum ChassisMode {
    /// Every chassis with a remote; one that does not answer fails the command.
    #[default]
    All,
    /// Those that answer; the others are listed as not checked, with the reason.
    Reachable,
    /// None: the Northbound only; the chassis are listed as not checked.
    None,
}

/// `--chassis` and `--strict`, shared by plan and drift.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ChassisArgs {
    /// Which chassis databases to read: `all` (one that does not answer is an error),
    /// `reachable` (those that answer; the others are listed as not checked), `none`.
    #[arg(long = "chassis", value_enum, default_value_t = ChassisMode::All)]
    pub mode: ChassisMode,
    /// Exit 1 when a chassis could not be checked (the plan is incomplete).
    #[arg(long)]
    pub strict: bool,
}

impl ChassisArgs {
    /// What apply would change on `targets`, as `--chassis` says, and the chassis not
    /// checked; errors carry plan's code.
    pub(crate) async fn preview(
        &self,
        stack: &str,
        targets: &[Target],
        timeout: std::time::Duration,
    ) -> Result<
        (
            Vec<crate::diff::ChassisChange>,
            Vec<crate::diff::UncheckedChassis>,
        ),
        miette::Report,
    > {
        match self.mode {
            ChassisMode::All => chassis::preview_all(stack, targets, timeout)
                .await
                .map(|changes| (changes, Vec::new()))
                .map_err(report(PLAN)),
            ChassisMode::Reachable => Ok(chassis::preview_reachable(stack, targets, timeout).await),
            ChassisMode::None => Ok((
                Vec::new(),
                targets
                    .iter()
                    .map(|t| crate::diff::UncheckedChassis {
                        chassis: t.name.clone(),
                        remote: t.remote.clone(),
                        reason: "not read (--chassis none)".to_owned(),
                    })
                    .collect(),
            )),
        }
    }

    /// What apply would change on the hardware VTEPs `targets`, as `--chassis` says (a VTEP
    /// is read like a chassis), and those not checked; errors carry plan's code.
    pub(crate) async fn preview_vteps(
        &self,
        targets: &[crate::rows::vtep::Target],
        timeout: std::time::Duration,
    ) -> Result<
        (
            Vec<crate::diff::VtepChange>,
            Vec<crate::diff::UncheckedChassis>,
        ),
        miette::Report,
    > {
        use crate::apply::vtep;
        match self.mode {
            ChassisMode::All => vtep::preview_all(targets, timeout)
                .await
                .map(|changes| (changes, Vec::new()))
                .map_err(report(PLAN)),
            ChassisMode::Reachable => Ok(vtep::preview_reachable(targets, timeout).await),
            ChassisMode::None => Ok((
                Vec::new(),
                targets
                    .iter()
                    .map(|t| crate::diff::UncheckedChassis {
                        chassis: format!("VTEP {}", t.name),
                        remote: t.remote.clone(),
                        reason: "not read (--chassis none)".to_owned(),
                    })
                    .collect(),
            )),
        }
    }

    /// Whether the verdict must be an error: `--strict` and a chassis not checked.
    pub(crate) fn incomplete(&self, plan: &crate::diff::Plan) -> bool {
        self.strict && !plan.chassis_unchecked.is_empty()
    }
}

/// The diagnostic codes of chassis errors: plan's (and drift's), and apply's.
pub(crate) const PLAN: &str = "topo::plan::chassis";
pub(crate) const APPLY: &str = "topo::apply::chassis";

const HELP: &str = "the chassis's Open_vSwitch database is reached through its remote (the \
                    lab's, a topo.toml target's chassis, or the topology's `remote`)";

/// `error` as a diagnostic with `code` ([`PLAN`] or [`APPLY`]); plan and drift write
/// nothing.
pub(crate) fn report(code: &'static str) -> impl Fn(chassis::Error) -> miette::Report {
    move |error| super::failure::report(code, error, Some(HELP.to_owned()))
}

/// An apply's chassis error, saying what was written before it.
pub(crate) fn report_apply(
    error: chassis::Error,
    apply_id: Option<uuid::Uuid>,
    nothing_written: bool,
) -> miette::Report {
    let written = match (apply_id, nothing_written) {
        (_, true) => "nothing was written".to_owned(),
        (Some(id), false) => format!(
            "the Northbound change is committed (apply {id}); run `topo apply` again to finish \
             the chassis"
        ),
        (None, false) => {
            "the chassis before it were written; run `topo apply` again to finish".to_owned()
        }
    };
    super::failure::report(APPLY, error, Some(format!("{written}; {HELP}")))
}

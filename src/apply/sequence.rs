//! The whole apply, in the library: [`prepare`] previews the chassis (or checks that a saved
//! plan's have not moved), then [`apply`] plans and asks once for rows and chassis together,
//! runs the Northbound transaction ([`super::run_read`]), then writes each chassis's own
//! database and confirms it from the Southbound. The CLI only parses, prompts and prints
//! (and connects to the Southbound between the two, only when [`Prepared::needs_southbound`]).

use crate::diff::{ChassisChange, Plan, VtepChange};
use crate::ovsdb::Client;
use crate::rows::State;
use crate::rows::chassis::Target;

use super::{Error, Options, Read, Report, chassis, run_read, vtep};

/// What to apply: a topology's desired state (with the chassis it can reach), or a saved
/// plan (which carries its own chassis changes).
pub(crate) struct Request<'a> {
    pub desired: Option<&'a State>,
    pub saved: Option<Plan>,
    /// The chassis topo reaches for `desired` (ignored for a saved plan).
    pub targets: Vec<Target>,
    /// The hardware VTEPs topo reaches for `desired` (ignored for a saved plan).
    pub vteps: Vec<crate::rows::vtep::Target>,
    pub options: Options,
}

/// How a whole apply ended: the Northbound report, and what was done on each chassis.
#[derive(Debug)]
pub(crate) struct Applied {
    pub report: Report,
    /// The chassis changes that were shown and confirmed.
    pub chassis_changes: Vec<ChassisChange>,
    pub chassis: Vec<chassis::Applied>,
    /// The VTEP changes that were shown, confirmed and written.
    pub vteps: Vec<VtepChange>,
}

/// A request whose chassis were read: what apply will write on each.
pub(crate) struct Prepared<'a> {
    request: Request<'a>,
    previewed: Vec<ChassisChange>,
    vteps: Vec<VtepChange>,
}

impl Prepared<'_> {
    /// Whether [`apply`] needs the Southbound: to wait for northd or the chassis, and to
    /// confirm what the chassis publish.
    pub(crate) fn needs_southbound(&self) -> bool {
        self.request.options.wait != super::WaitFor::None || !self.request.targets.is_empty()
    }
}

/// Reads each chassis the request reaches and says what apply will change there; for a saved
/// plan, refuses ("stale", nothing written) when a chassis moved since the plan read it.
/// Writes nothing.
pub(crate) async fn prepare(request: Request<'_>) -> Result<Prepared<'_>, Error> {
    let mut request = request;
    let stack = &request.options.stack;
    let timeout = request.options.timeout;
    let before_commit = |error| Error::Chassis {
        error,
        apply_id: None,
        nothing_written: true,
    };
    let (previewed, vteps) = match &request.saved {
        Some(plan) => {
            let mut moved = chassis::moved_since(stack, &plan.chassis, timeout)
                .await
                .map_err(before_commit)?;
            moved.extend(
                vtep::moved_since(&plan.vteps, timeout)
                    .await
                    .map_err(before_commit)?,
            );
            if !moved.is_empty() {
                return Err(Error::Stale { moved });
            }
            request.targets = chassis::of_saved(&plan.chassis);
            (plan.chassis.clone(), plan.vteps.clone())
        }
        None => (
            chassis::preview_all(stack, &request.targets, timeout)
                .await
                .map_err(before_commit)?,
            vtep::preview_all(&request.vteps, timeout)
                .await
                .map_err(before_commit)?,
        ),
    };
    Ok(Prepared {
        request,
        previewed,
        vteps,
    })
}

/// Applies a prepared request from `read`: asks `confirm` once with the plan and the chassis
/// changes (not at all when there is nothing to change). `sb` is needed when
/// [`Prepared::needs_southbound`].
pub(crate) async fn apply(
    nb: &Client,
    sb: Option<&Client>,
    read: Read,
    prepared: Prepared<'_>,
    mut confirm: impl FnMut(&Plan, &[ChassisChange]) -> bool + Send,
) -> Result<Applied, Error> {
    let Prepared {
        request:
            Request {
                desired,
                saved,
                targets,
                options,
                ..
            },
        previewed,
        vteps,
    } = prepared;
    let timeout = options.timeout;
    let mut asked = false;
    // The VTEP changes are shown with the plan (the row diff never has them).
    let with_vteps = |plan: &Plan| {
        let mut p = plan.clone();
        p.vteps = vteps.clone();
        p
    };
    let report = run_read(nb, sb, read, desired, saved, &options, |plan| {
        asked = true;
        if vteps.is_empty() {
            confirm(plan, &previewed)
        } else {
            confirm(&with_vteps(plan), &previewed)
        }
    })
    .await?;
    // No rows to change, but chassis or VTEPs to: they are confirmed on their own.
    if let Report::NoChanges(plan) = &report
        && !asked
        && (!previewed.is_empty() || !vteps.is_empty())
        && !confirm(&with_vteps(plan), &previewed)
    {
        return Err(Error::Declined);
    }
    let apply_id = match &report {
        Report::Applied { apply_id, .. } => Some(*apply_id),
        Report::NoChanges(_) => None,
    };
    let after_commit = |error| Error::Chassis {
        error,
        apply_id,
        nothing_written: false,
    };
    let mut done = Vec::new();
    for target in &targets {
        let applied = chassis::write(&options.stack, target, timeout)
            .await
            .map_err(after_commit)?;
        if let Some(sb) = sb {
            chassis::confirm(sb, target, &applied.mappings_after, timeout)
                .await
                .map_err(after_commit)?;
        }
        done.push(applied);
    }
    for change in &vteps {
        vtep::write(change, timeout).await.map_err(after_commit)?;
    }
    Ok(Applied {
        report,
        chassis_changes: previewed,
        chassis: done,
        vteps,
    })
}

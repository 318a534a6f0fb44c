//! The VTEP side of apply: read each hardware VTEP the stack reaches through `live::vtep`,
//! compare it with what the stack wants (`diff::vtep::change_of`, as plan and drift do),
//! refuse a saved plan whose VTEPs moved, and write what differs (`live::vtep::Vtep::write`:
//! it adds and sets, and removes only bindings the stack wrote). `ovn-controller-vtep` then binds the `vtep` ports and
//! sets each logical switch's `tunnel_key`.

use std::time::Duration;

use super::chassis::Error;
use crate::diff::{UncheckedChassis, VtepChange};
use crate::live::vtep::Vtep;
use crate::rows::vtep::{Target, Wanted};

fn failure(vtep: &str) -> impl Fn(crate::live::vtep::Error) -> Error + '_ {
    move |source| Error::Vtep {
        vtep: vtep.to_owned(),
        source,
    }
}

/// What apply would change on `target`; `None` when nothing.
pub(crate) async fn preview(
    target: &Target,
    deadline: Duration,
) -> Result<Option<VtepChange>, Error> {
    let db = Vtep::connect(&target.remote, deadline, false)
        .await
        .map_err(failure(&target.name))?;
    let current = db
        .current(&target.name)
        .await
        .map_err(failure(&target.name))?;
    Ok(crate::diff::vtep::change_of(target, &current))
}

/// [`preview`] of every target; one that cannot be read fails the whole preview.
pub(crate) async fn preview_all(
    targets: &[Target],
    deadline: Duration,
) -> Result<Vec<VtepChange>, Error> {
    let mut out = Vec::new();
    for t in targets {
        out.extend(preview(t, deadline).await?);
    }
    Ok(out)
}

/// [`preview_all`] of the VTEPs that answer; the others listed with the reason.
pub(crate) async fn preview_reachable(
    targets: &[Target],
    deadline: Duration,
) -> (Vec<VtepChange>, Vec<UncheckedChassis>) {
    let mut changes = Vec::new();
    let mut unchecked = Vec::new();
    for t in targets {
        match preview(t, deadline).await {
            Ok(c) => changes.extend(c),
            Err(e) => unchecked.push(UncheckedChassis {
                chassis: format!("VTEP {}", t.name),
                remote: t.remote.clone(),
                reason: e.to_string(),
            }),
        }
    }
    (changes, unchecked)
}

/// The target a saved change was computed for.
fn target_of(c: &VtepChange) -> Target {
    Target {
        name: c.vtep.clone(),
        remote: c.remote.clone(),
        stack: c.stack.clone(),
        wanted: Wanted {
            tunnel_ip: c.tunnel_ip.clone(),
            bindings: c.wanted_bindings.clone(),
        },
    }
}

/// The saved plan's VTEP changes that no longer match what the VTEPs show, one sentence each.
pub(crate) async fn moved_since(
    saved: &[VtepChange],
    deadline: Duration,
) -> Result<Vec<String>, Error> {
    let mut moved = Vec::new();
    for s in saved {
        let now = preview(&target_of(s), deadline).await?;
        if now.as_ref() != Some(s) {
            moved.push(format!("VTEP {} changed since the plan read it", s.vtep));
        }
    }
    Ok(moved)
}

/// Writes one change (what still differs when written).
pub(crate) async fn write(change: &VtepChange, deadline: Duration) -> Result<(), Error> {
    let db = Vtep::connect(&change.remote, deadline, false)
        .await
        .map_err(failure(&change.vtep))?;
    db.write(change).await.map_err(failure(&change.vtep))
}

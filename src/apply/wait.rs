//! `--wait sb|hv` after the commit, as ovn-nbctl's `--wait`: until ovn-northd (`sb_cfg`)
//! or the chassis (each declared chassis's `Chassis_Private.nb_cfg`, else `hv_cfg`) caught up
//! with the `nb_cfg` the transaction bumped; then until the Southbound shows what the
//! topology says (bindings settle after the chassis processed the change).

use std::time::Duration;

use super::marker::read_nb_global;
use super::{Error, Options, WaitFor, WaitStatus, southbound as outcome};
use crate::live::southbound;
use crate::ovsdb::{Client, ColumnsExt};
use crate::poll::poll_until;
use crate::rows::State;

/// Waits until `sb_cfg` reaches the `nb_cfg` this apply set (`sb`), or (`hv`) until every
/// chassis the topology declares has (its `Chassis_Private.nb_cfg` in the SB). `hv_cfg` is
/// the minimum over every chassis in the SB, so one stale chassis that is not part of the
/// topology would hold it back forever; it is used only when the declared chassis are unknown
/// (a saved plan) or the SB cannot be read. On timeout, names the chassis that lag.
pub(super) async fn wait_for_cfg(
    nb: &Client,
    sb: Option<&Client>,
    options: &Options,
    declared: &[String],
) -> Result<(), Error> {
    let (mode, timeout) = (options.wait, options.timeout);
    let what = if mode == WaitFor::Hv {
        "the chassis (hv_cfg)"
    } else {
        "ovn-northd (sb_cfg)"
    };
    let started = std::time::Instant::now();
    let per_chassis = mode == WaitFor::Hv && sb.is_some() && !declared.is_empty();
    let column = if mode == WaitFor::Hv {
        "hv_cfg"
    } else {
        "sb_cfg"
    };
    // The nb_cfg this apply set: later applies may raise it further while we wait.
    let target = std::cell::Cell::new(None);
    let last = poll_until(timeout, Duration::from_millis(100), || async {
        let row = read_nb_global(nb, &["nb_cfg", column])
            .await?
            .unwrap_or_default();
        let int = |c: &str| row.integer(c).unwrap_or(0);
        let goal = target.get().unwrap_or_else(|| int("nb_cfg"));
        target.set(Some(goal));
        let lagging = match sb {
            Some(sb) if per_chassis => Some(lagging_chassis(sb, goal, declared).await?),
            _ => None,
        };
        let done = match &lagging {
            Some(l) => l.is_empty(),
            None => int(column) >= goal,
        };
        if let Some(progress) = &options.progress {
            let lagging = lagging.clone().unwrap_or_default();
            (progress.0)(&WaitStatus {
                what,
                caught_up: declared
                    .iter()
                    .filter(|c| {
                        !lagging
                            .iter()
                            .any(|l| l == *c || l.starts_with(&format!("{c} ")))
                    })
                    .filter(|_| per_chassis)
                    .cloned()
                    .collect(),
                lagging,
                elapsed: started.elapsed(),
            });
        }
        Ok::<_, Error>(if done { Ok(()) } else { Err(lagging) })
    })
    .await?;
    let Err(lagging) = last else {
        return Ok(());
    };
    let lagging = match (lagging, mode, sb, target.get()) {
        (Some(l), _, _, _) => l,
        (None, WaitFor::Hv, Some(sb), Some(goal)) => {
            lagging_chassis(sb, goal, &[]).await.unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Err(Error::WaitTimeout {
        what,
        after: timeout,
        lagging,
    })
}

/// Chassis whose `Chassis_Private.nb_cfg` is below `target`: among `declared` (a declared
/// chassis the SB does not know lags too, and says so), or among all when `declared` is empty.
async fn lagging_chassis(
    sb: &Client,
    target: i64,
    declared: &[String],
) -> Result<Vec<String>, Error> {
    let cfg = southbound::caught_up(sb).await?;
    if declared.is_empty() {
        return Ok(cfg
            .into_iter()
            .filter(|(_, n)| *n < target)
            .map(|(name, _)| name)
            .collect());
    }
    Ok(declared
        .iter()
        .filter_map(|c| match cfg.get(c) {
            Some(n) if *n >= target => None,
            Some(_) => Some(c.clone()),
            None => Some(format!("{c} (not in the Southbound database)")),
        })
        .collect())
}

/// Looks at the Southbound's bindings until they match `desired` or the deadline passes:
/// errors then fail the apply; what is merely not there yet comes back as warnings.
pub(super) async fn wait_for_bindings(
    sb: &Client,
    desired: &State,
    mode: WaitFor,
    timeout: Duration,
) -> Result<Vec<String>, Error> {
    let last = poll_until(timeout, Duration::from_millis(250), || async {
        let bindings = outcome::read_bindings(sb).await?;
        let found = outcome::check(desired, &bindings, mode);
        Ok::<_, Error>(if found.is_clean() {
            Ok(found)
        } else {
            Err(found)
        })
    })
    .await?;
    let found = last.unwrap_or_else(|found| found);
    if !found.errors.is_empty() {
        return Err(Error::Southbound(found.errors));
    }
    Ok(found.pending)
}

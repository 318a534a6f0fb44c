//! Applying a plan: one guarded transaction, the outcome made certain, then a re-plan.
//!
//! The steps, in order:
//! 1. read the live state ([`read`]) through a monitor left open (see [`live::watch`]) — the
//!    CLI compiles the topology meanwhile, since the read is the server's work;
//! 2. take the stack's OVSDB lock (`topo_<stack>`) so two applies of one stack never
//!    interleave — advisory only: locks are per server, not per cluster, so correctness comes
//!    from the guards;
//! 3. plan (or, for a saved plan, check that nothing it read moved);
//! 4. one transaction ([`transaction::build`]) guarded by `wait` on everything it touches;
//! 5. if the reply is lost ("outcome unknown"), reconnect (to the leader, among the remotes)
//!    and read the apply marker back with backoff until a member answers or `--timeout`:
//!    applied or not applied, never guessed, never re-sent; "unknown" only when no member
//!    answered, naming the remotes and the time spent. A clustered server's refusal is checked
//!    the same way (its re-execution of a committed transaction fails its own guards);
//! 6. optionally wait for northd (`sb`) or the chassis (`hv`) with a deadline;
//! 7. bring the read up to date from the monitor's updates (until they show the apply
//!    marker; a full re-read when they cannot) and re-plan: the plan must now be empty.

pub(crate) mod chassis;
mod marker;
mod sequence;
pub(crate) mod southbound;
mod stale;
pub mod transaction;
pub(crate) mod vtep;
mod wait;

pub(crate) use sequence::{Applied, Request, apply, prepare};

use std::collections::BTreeSet;
use std::time::Duration;

use uuid::Uuid;

use crate::diff::{self, Plan};
use crate::live::{self, watch::Watch};
use crate::ovsdb::{self, Client, DatabaseSchema, Datum, OpError};
use crate::poll::poll_until;
use crate::rows::live::Live;
use crate::rows::{Db, RowKey, State};
use marker::{Verdict, marker_of, nb_global_ids, resolve_outcome};
use stale::guard_subject;
pub(crate) use stale::moved_since;
use wait::wait_for_cfg;

/// What `--wait` waits for after the commit, as ovn-nbctl's `--wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum WaitFor {
    /// Return once the NB transaction committed.
    #[default]
    None,
    /// Until ovn-northd has processed it into the Southbound database.
    Sb,
    /// Until every chassis the topology declares has processed it (its
    /// `Chassis_Private.nb_cfg`); for a saved plan, `NB_Global.hv_cfg` (every chassis).
    Hv,
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub stack: String,
    pub prune: bool,
    /// Apply a plan that deletes or detaches rows the stack does not own
    /// (`--allow-foreign-loss`); without it such a plan is refused, nothing written.
    pub allow_foreign_loss: bool,
    pub wait: WaitFor,
    /// Deadline for the lock, the outcome resolution and `--wait`.
    pub timeout: Duration,
    /// Told how `--wait` is going at each look, so that a long wait never looks hung.
    pub progress: Option<Progress>,
}

/// Where `--wait` stands: what it waits for, which chassis have caught up and which not
/// (known when it waits for the declared chassis one by one), and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WaitStatus {
    pub what: &'static str,
    pub caught_up: Vec<String>,
    pub lagging: Vec<String>,
    pub elapsed: Duration,
}

/// A callback for [`WaitStatus`] (the library never prints; the CLI does).
#[derive(Clone)]
pub(crate) struct Progress(pub std::sync::Arc<dyn Fn(&WaitStatus) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// How an apply ended.
#[derive(Debug)]
pub(crate) enum Report {
    /// The live state already matched.
    NoChanges(Plan),
    /// Committed and re-planned empty. `warnings`: what the Southbound did not show yet when
    /// the deadline passed (unplugged VIFs, `cr-` ports waiting for BFD).
    Applied {
        plan: Plan,
        apply_id: Uuid,
        warnings: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Ovsdb(#[from] ovsdb::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Live(#[from] live::Error),
    #[error(transparent)]
    Build(#[from] transaction::BuildError),
    #[error("another apply of stack {stack} holds the lock `{lock}`; nothing was written")]
    Locked { stack: String, lock: String },
    #[error("the plan has {} conflict(s); nothing was written", .0.conflicts.len())]
    Conflicts(Box<Plan>),
    /// The plan would delete or detach rows the stack does not own.
    #[error(
        "the plan would delete or detach {} row(s) that stack {} does not own; nothing was written",
        .0.foreign_at_risk.len(),
        .0.stack
    )]
    ForeignLoss(Box<Plan>),
    #[error("the saved plan is stale: {} row(s) moved since it was made; nothing was written", .moved.len())]
    Stale { moved: Vec<String> },
    #[error("the saved plan is for stack {saved}, not {expected}")]
    OtherStack { saved: String, expected: String },
    #[error(
        "the database went away before the transaction was sent ({reason}); nothing was written"
    )]
    Lost { reason: String },
    #[error(
        "the lock `{lock}` was lost with the connection it was taken on (a reconnect, or a new \
         leader): {reason}; nothing was written"
    )]
    LockLost { lock: String, reason: String },
    #[error("the database moved while applying ({what}); nothing was written")]
    Moved { what: String },
    #[error("apply cancelled; nothing was written")]
    Declined,
    #[error(
        "the transaction's outcome is unknown: {reason}; no member of {remotes} answered the \
         apply marker's read within {waited:.1?} (last: {marker_error}). Run `topo plan` to see \
         what the database holds"
    )]
    OutcomeUnknown {
        reason: String,
        /// The remotes asked, as given.
        remotes: String,
        /// From the loss to giving up.
        waited: Duration,
        marker_error: String,
    },
    #[error(
        "not applied: the transaction was lost ({reason}) and did not commit (the database \
         answered without its apply marker); nothing was written"
    )]
    NotApplied { reason: String },
    /// The database failed before the transaction was sent, or refused it whole.
    #[error("{error}; nothing was written")]
    NothingWritten { error: Box<Error> },
    #[error("applied, but the live state still differs from what was planned: {0}")]
    NotConverged(String),
    #[error("applied, but the Southbound outcome differs from the topology: {}", .0.join("; "))]
    Southbound(Vec<String>),
    /// The transaction committed; what failed is the wait or the re-read after it.
    #[error("applied (apply {apply_id}), but checking the result failed: {error}")]
    Unverified { apply_id: Uuid, error: Box<Error> },
    /// A chassis could not be previewed, written or confirmed: `nothing_written` when it
    /// failed before anything was, `apply_id` when the Northbound transaction had committed.
    #[error("{error}{}", match (apply_id, nothing_written) {
        (_, true) => "; nothing was written".to_owned(),
        (Some(id), false) => format!(" (the Northbound change is committed: apply {id})"),
        (None, false) => String::new(),
    })]
    Chassis {
        #[diagnostic_source]
        error: chassis::Error,
        apply_id: Option<Uuid>,
        nothing_written: bool,
    },
    #[error("applied, but waiting for {what} timed out after {after:?}{}", if lagging.is_empty() { String::new() } else { format!("; lagging: {}", lagging.join(", ")) })]
    WaitTimeout {
        what: &'static str,
        after: Duration,
        lagging: Vec<String>,
    },
}

/// An error of the database met before the transaction was sent (or a refusal of all of it):
/// says that nothing was written. Other errors say it themselves or are not the database's.
fn nothing_written(error: Error) -> Error {
    match error {
        Error::Ovsdb(_) | Error::Live(_) => Error::NothingWritten {
            error: Box::new(error),
        },
        other => other,
    }
}

/// The code of an apply refused because its plan would delete or detach rows the stack does
/// not own (`Error::ForeignLoss`; `docs/diagnostics.md`).
pub const FOREIGN_LOSS: &str = "topo::apply::foreign-loss";

/// The code of an apply refused because a gateway's active chassis, as the Southbound shows
/// it, does not map the gateway's physical network (`cli::gateways`, `diff::gateways`).
pub const GATEWAY_UNMAPPED: &str = "topo::apply::gateway-unmapped";

impl Error {
    /// The codes of apply's own refusals that `docs/diagnostics.md` lists (the others are
    /// `topo::apply::failed` with the error's message, or the OVSDB client's own).
    pub const CODES: &'static [&'static str] = &[FOREIGN_LOSS, GATEWAY_UNMAPPED];
}

/// The lock name of a stack. OVSDB lock names are ids (`[A-Za-z_][A-Za-z0-9_]*`), so other
/// characters of the stack name become `_`.
pub fn lock_name(stack: &str) -> String {
    let safe: String = stack
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("topo_{safe}")
}

/// Reads the NB and plans; shared by plan, drift and apply.
pub async fn read_and_plan(
    nb: &Client,
    desired: &State,
    stack: &str,
    prune: bool,
) -> Result<(Plan, Live), Error> {
    let schema = nb.get_schema(Db::Northbound.schema_name()).await?;
    let live = live::read_nb(nb, &schema).await?;
    let plan = diff::plan(desired, &live, stack, diff::Options { prune });
    Ok((plan, live))
}

/// What an apply read before it plans.
pub(crate) struct Read {
    schema: DatabaseSchema,
    live: Live,
    /// The monitor the read came through, still open; `None` when the client's notifications
    /// were taken already (then the re-plan reads everything again).
    watch: Option<Watch>,
    /// `NB_Global.external_ids` no later than the read: the apply markers it saw.
    ids: Option<Datum>,
}

/// Reads the Northbound for an apply: the first step, apart from [`prepare`] and [`apply`] so
/// that a caller can compile the topology while the server answers.
/// `timeout` bounds the retries of the `NB_Global` read when no watch could be opened.
pub(crate) async fn read(nb: &Client, timeout: Duration) -> Result<Read, Error> {
    read_live(nb, timeout).await.map_err(nothing_written)
}

async fn read_live(nb: &Client, timeout: Duration) -> Result<Read, Error> {
    let schema = nb.get_schema(Db::Northbound.schema_name()).await?;
    let (live, watch, ids) = match live::watch::watch_nb(nb, &schema).await? {
        // The same snapshot as the rows.
        Some((live, watch)) => {
            let ids = watch.marker_ids().cloned();
            (live, Some(watch), ids)
        }
        None => {
            // Before the rows: a marker newer than the rows reads as "moved", never the reverse.
            let ids = nb_global_ids(nb, timeout).await?;
            (live::read_nb(nb, &schema).await?, None, ids)
        }
    };
    Ok(Read {
        schema,
        live,
        watch,
        ids,
    })
}

/// The Northbound side of [`apply`], from what [`read`] returned: locks, plans (or checks a
/// saved plan), asks `confirm`, transacts, resolves an unknown outcome, waits and re-plans.
/// `desired` is `None` for a saved plan without its topology.
pub(crate) async fn run_read(
    nb: &Client,
    sb: Option<&Client>,
    read: Read,
    desired: Option<&State>,
    saved: Option<Plan>,
    options: &Options,
    confirm: impl FnOnce(&Plan) -> bool + Send,
) -> Result<Report, Error> {
    let lock = lock_name(&options.stack);
    if !nb
        .lock(&lock)
        .await
        .map_err(|e| nothing_written(e.into()))?
    {
        let _ = nb.unlock(&lock).await;
        return Err(Error::Locked {
            stack: options.stack.clone(),
            lock,
        });
    }
    let result = run_locked(nb, sb, read, desired, saved, options, confirm).await;
    let _ = nb.unlock(&lock).await;
    result
}

/// [`run_read`] once the stack's lock is held.
async fn run_locked(
    nb: &Client,
    sb: Option<&Client>,
    read: Read,
    desired: Option<&State>,
    saved: Option<Plan>,
    options: &Options,
    confirm: impl FnOnce(&Plan) -> bool + Send,
) -> Result<Report, Error> {
    let lock = &lock_name(&options.stack);
    let db_name = Db::Northbound.schema_name();
    let Read {
        schema,
        live,
        watch,
        ids,
    } = read;
    // The read came before the lock: if another apply of this stack committed in between
    // (it writes its marker in its transaction, before it lets the lock go), the read is
    // stale, and a plan made from it would neither see nor prune that apply's rows.
    let nb_global = nb_global_ids(nb, options.timeout)
        .await
        .map_err(nothing_written)?;
    if marker_of(ids.as_ref(), &options.stack) != marker_of(nb_global.as_ref(), &options.stack) {
        return Err(Error::Moved {
            what: format!(
                "another apply of stack {} committed after this one read the database",
                options.stack
            ),
        });
    }
    let plan = match saved {
        Some(saved) => {
            if saved.stack != options.stack {
                return Err(Error::OtherStack {
                    saved: saved.stack,
                    expected: options.stack.clone(),
                });
            }
            let moved = moved_since(&saved, &live);
            if !moved.is_empty() {
                return Err(Error::Stale { moved });
            }
            // What the saved changes would delete or detach now, not only what they would
            // have when the plan was made.
            let mut saved = saved;
            saved.foreign_at_risk = diff::foreign::at_risk(&saved.changes, &live, &saved.stack);
            saved
        }
        None => {
            let desired = desired.ok_or(Error::Declined)?;
            diff::plan(
                desired,
                &live,
                &options.stack,
                diff::Options {
                    prune: options.prune,
                },
            )
        }
    };
    if !plan.conflicts.is_empty() {
        return Err(Error::Conflicts(Box::new(plan)));
    }
    if !plan.foreign_at_risk.is_empty() && !options.allow_foreign_loss {
        return Err(Error::ForeignLoss(Box::new(plan)));
    }
    // Chassis changes (a saved plan's) are the caller's to write: no rows, no transaction.
    if plan.changes.is_empty() {
        return Ok(Report::NoChanges(plan));
    }
    let apply_id = Uuid::new_v4();
    let tx = transaction::TxOptions {
        lock: Some(lock.to_owned()),
        apply_id,
        bump_nb_cfg: options.wait != WaitFor::None,
        create_nb_global: nb_global.is_none(),
        marker_seen: nb_global.clone(),
    };
    crate::timings::phase("plan");
    // The transaction is built while the plan is shown and confirmed (printing 15,000 changes
    // takes as long as building them); nothing is sent before the answer.
    let (confirmed, ops) = std::thread::scope(|s| {
        let shown = s.spawn(|| confirm(&plan));
        let ops = transaction::build(&plan, &Db::Northbound, &live, &schema, &tx);
        let confirmed = shown
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (confirmed, ops)
    });
    if !confirmed {
        return Err(Error::Declined);
    }
    let ops = ops?;
    crate::timings::phase("build transaction");
    let outcome = nb.transact(db_name, &ops).await;
    // A failed `wait` guard names the row it guarded.
    let guarded = match &outcome {
        Err(ovsdb::Error::Transaction { index, .. }) => guard_subject(&plan, &ops, *index),
        _ => None,
    };
    // The operations hold a copy of every row created: freed beside the re-plan, not before it
    // (150,000 rows take 0.1 s to free).
    std::thread::spawn(move || drop(ops));
    let refusal = match outcome {
        Ok(_) => None,
        // Sent, and no reply (or no readable one): the marker decides.
        Err(
            ovsdb::Error::OutcomeUnknown { reason, .. }
            | ovsdb::Error::Protocol {
                message: reason, ..
            },
        ) => match resolve_outcome(nb, &plan.stack, apply_id, reason.clone(), options.timeout)
            .await?
        {
            Verdict::Applied => None,
            Verdict::NotApplied => return Err(Error::NotApplied { reason }),
        },
        Err(e @ ovsdb::Error::Transaction { .. }) => Some(e),
        // Not sent (the connection was dead and no server took the retry): nothing written.
        Err(e) => return Err(nothing_written(e.into())),
    };
    if let Some(refused) = refusal {
        // A clustered server re-executes a transaction whose commit it could not confirm (a
        // leader change): the re-execution's guards then fail on this apply's own rows, and
        // the refusal hides a commit. The marker tells.
        let clustered = nb
            .server()
            .await
            .ok()
            .and_then(|info| info.database)
            .is_some_and(|db| db.is_clustered());
        let committed = clustered
            && match resolve_outcome(
                nb,
                &plan.stack,
                apply_id,
                format!("the server refused it ({refused}) after a possible re-execution"),
                options.timeout,
            )
            .await?
            {
                Verdict::Applied => true,
                Verdict::NotApplied => false,
            };
        if !committed {
            return Err(refused_error(refused, guarded, lock));
        }
    }

    crate::timings::phase("transact");
    // The chassis the topology declares: what `--wait hv` waits for.
    let declared: Vec<String> = desired
        .map(|d| d.chassis.keys().cloned().collect())
        .unwrap_or_default();
    // From here on the change is committed: an error must say so, never read as "failed".
    let unverified = |error: Error| Error::Unverified {
        apply_id,
        error: Box::new(error),
    };
    if options.wait != WaitFor::None {
        match wait_for_cfg(nb, sb, options, &declared).await {
            Ok(_) => {}
            Err(e @ Error::WaitTimeout { .. }) => return Err(e),
            Err(e) => return Err(unverified(e)),
        }
    }
    let mut warnings = Vec::new();

    // The re-plan: what was planned must now be true. The read brought up to date from the
    // monitor's updates when they can tell; else read again. A read is safe to repeat, so a
    // server that went away after the commit (restarting, a new leader) is waited for until
    // the deadline. A saved plan has no topology to plan from: the stack's rows as read with
    // the plan carried out are what the database must now hold.
    let saved_plan = desired.is_none();
    let from_saved_plan;
    let desired = match desired {
        Some(desired) => desired,
        None => {
            from_saved_plan = diff::expected_after(&plan, &live);
            &from_saved_plan
        }
    };
    let caught_up = match watch {
        Some(watch) => watch
            .catch_up(
                nb,
                &schema,
                live,
                &transaction::marker_key(&plan.stack),
                &apply_id.to_string(),
                options.timeout,
            )
            .await
            .map_err(|e| unverified(e.into()))?,
        None => None,
    };
    let prune = diff::Options {
        prune: options.prune,
    };
    let after = match &caught_up {
        // Patched row by row: only the rows the updates or the plan touched can differ
        // (a row's plan depends on that row alone), so only they are planned.
        Some(live::watch::CaughtUp {
            live,
            changed: Some(changed),
        }) if changed.len() < live.rows.len() / 2 => {
            let mut keys = changed.clone();
            keys.extend(
                plan.changes
                    .iter()
                    .filter(|c| c.db == Db::Northbound)
                    .map(|c| (c.table.clone(), c.key.clone())),
            );
            let nb_rows = only(desired, &keys);
            let live = Live {
                state: only(&live.state, &keys),
                rows: keys
                    .iter()
                    .filter_map(|(t, k)| {
                        let id = (Db::Northbound, t.clone(), k.clone());
                        let row = live.rows.get(&id)?.clone();
                        Some((id, row))
                    })
                    .collect(),
                schema: live.schema.clone(),
                ..Live::default()
            };
            diff::plan(&nb_rows, &live, &options.stack, prune)
        }
        Some(caught_up) => diff::plan(desired, &caught_up.live, &options.stack, prune),
        // A read is safe to repeat: a database that is away is asked again.
        None => {
            let last = poll_until(options.timeout, Duration::from_millis(200), || async {
                match read_and_plan(nb, desired, &options.stack, options.prune).await {
                    Ok((after, _)) => Ok(Ok(after)),
                    Err(e @ (Error::Ovsdb(_) | Error::Live(live::Error::Ovsdb(_)))) => Ok(Err(e)),
                    Err(e) => Err(e),
                }
            })
            .await
            .map_err(unverified)?;
            last.map_err(unverified)?
        }
    };
    crate::timings::phase("re-read and re-plan");
    // The read holds every row of the database: freeing it row by row takes a CLI's exit
    // ~10 ms at 15k rows, so it is freed beside the rest of the work.
    std::thread::spawn(move || drop(caught_up));
    if !after.is_empty() {
        return Err(Error::NotConverged(diff::render::summary_naming(&after)));
    }
    // And northd (and the chassis) must have made of it what the topology says (a saved
    // plan does not say which ports the chassis bind). Bindings settle after the chassis
    // processed the change (a `cr-` port waits for BFD), so look again until they do or the
    // deadline passes.
    if let Some(sb) = sb
        && options.wait != WaitFor::None
        && !saved_plan
    {
        warnings = wait::wait_for_bindings(sb, desired, options.wait, options.timeout)
            .await
            .map_err(|e| match e {
                Error::Southbound(_) => e,
                e => unverified(e),
            })?;
    }
    Ok(Report::Applied {
        plan,
        apply_id,
        warnings,
    })
}

/// A transaction the server refused (nothing of it committed) as apply's error.
fn refused_error(refused: ovsdb::Error, guarded: Option<String>, lock: &str) -> Error {
    match refused {
        ovsdb::Error::Transaction {
            error: error @ OpError::TimedOut,
            details,
            ..
        } => {
            // A `wait` guard failed: something the plan touched changed under it.
            let what = guarded.unwrap_or_else(|| details.unwrap_or_else(|| error.to_string()));
            Error::Moved { what }
        }
        ovsdb::Error::Transaction {
            error: error @ OpError::ConstraintViolation,
            details,
            ..
        } => {
            // An indexed name (a port's) taken since the read: the index refused it.
            let what = details.unwrap_or_else(|| error.to_string());
            Error::Moved { what }
        }
        ovsdb::Error::Transaction {
            error: error @ OpError::NotOwner,
            ..
        } => {
            // The `assert` of the lock: the lock belongs to the connection, and a reconnect (a
            // new leader) lost it.
            Error::LockLost {
                lock: lock.to_owned(),
                reason: error.to_string(),
            }
        }
        other => nothing_written(other.into()),
    }
}

/// The Northbound rows of `state` whose (table, key) is in `keys`.
fn only(state: &State, keys: &BTreeSet<(String, RowKey)>) -> State {
    let mut out = State::new();
    for (table, key) in keys {
        if let Some(row) = state.get(&Db::Northbound, table, key) {
            out.insert(Db::Northbound, table, key.clone(), row.clone());
        }
    }
    out
}

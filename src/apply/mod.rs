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
//! 5. if the reply is lost ("outcome unknown"), reconnect and read the apply marker back:
//!    applied or not, never guessed, never re-sent;
//! 6. optionally wait for northd (`sb`) or the chassis (`hv`) with a deadline;
//! 7. bring the read up to date from the monitor's updates (until they show the apply
//!    marker; a full re-read when they cannot) and re-plan: the plan must now be empty.

pub mod chassis;
mod sequence;
pub mod southbound;
pub mod transaction;

pub use sequence::{Applied, Prepared, Request, apply, prepare};

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::diff::{self, Plan, ReadRow};
use crate::live::{self, Live, watch::Watch};
use crate::ovsdb::{
    self, Atom, Client, Columns, ColumnsExt, DatabaseSchema, Datum, OpError, Operation,
};
use crate::rows::{Db, RowKey, State};

/// What `--wait` waits for after the commit, as ovn-nbctl's `--wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WaitFor {
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
pub struct Options {
    pub stack: String,
    pub prune: bool,
    pub wait: WaitFor,
    /// Deadline for the lock, the outcome resolution and `--wait`.
    pub timeout: Duration,
}

/// How an apply ended.
#[derive(Debug)]
pub enum Report {
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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ovsdb(#[from] ovsdb::Error),
    #[error(transparent)]
    Live(#[from] live::Error),
    #[error(transparent)]
    Build(#[from] transaction::BuildError),
    #[error("another apply of stack {stack} holds the lock `{lock}`; nothing was written")]
    Locked { stack: String, lock: String },
    #[error("the plan has {} conflict(s); nothing was written", .0.conflicts.len())]
    Conflicts(Box<Plan>),
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
        "the transaction's outcome is unknown: {reason}; reading the apply marker back failed \
         too ({marker_error}). Run `topo plan` to see what the database holds"
    )]
    OutcomeUnknown {
        reason: String,
        marker_error: String,
    },
    #[error("the transaction was lost ({reason}) and did not commit; nothing was written")]
    NotApplied { reason: String },
    #[error("applied, but the live state still differs from the topology: {0}")]
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

/// What moved between a saved plan's read and `live`: rows it read whose UUID or version
/// changed, keys it expected free that are taken, and rows of the stack it never saw.
pub fn moved_since(saved: &Plan, live: &Live) -> Vec<String> {
    let mut moved = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &saved.read.rows {
        seen.insert((r.db.clone(), r.table.clone(), r.key.clone()));
        let now = live.row(&r.db, &r.table, &r.key);
        let what = diff::render::subject(&r.db, &r.table, &r.key);
        match (r.uuid, now) {
            (None, Some(_)) => moved.push(format!("{what} was created")),
            (Some(_), None) => moved.push(format!("{what} was deleted")),
            (Some(u), Some(n)) if n.uuid != u => moved.push(format!("{what} was replaced")),
            (Some(_), Some(n)) if !same_content(r, n) => moved.push(format!("{what} was modified")),
            _ => {}
        }
    }
    for (db, table, key, row) in live.state.rows() {
        if diff::owner(row).as_deref() == Some(saved.stack.as_str())
            && !seen.contains(&(db.clone(), table.to_owned(), key.clone()))
        {
            moved.push(format!(
                "{} was created",
                diff::render::subject(db, table, key)
            ));
        }
    }
    moved
}

/// Whether a row still holds what the plan read: by content when the plan has a digest of
/// this topo's kind, else (plans made before digests, or with the older wire-JSON digest) by
/// `_version`.
fn same_content(read: &ReadRow, now: &live::LiveRow) -> bool {
    match &read.digest {
        Some(d) if d.starts_with(live::DIGEST_PREFIX) => now.digest() == *d,
        _ => now.version == read.version,
    }
}

/// What an apply read before it plans.
pub struct Read {
    schema: DatabaseSchema,
    live: Live,
    /// The monitor the read came through, still open; `None` when the client's notifications
    /// were taken already (then the re-plan reads everything again).
    watch: Option<Watch>,
    /// `NB_Global.external_ids` no later than the read: the apply markers it saw.
    ids: Option<Datum>,
}

/// Reads the Northbound for an apply: the first step of [`run`], apart so that a caller can
/// compile the topology while the server answers.
/// `timeout` bounds the retries of the `NB_Global` read when no watch could be opened.
pub async fn read(nb: &Client, timeout: Duration) -> Result<Read, Error> {
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

/// Reads, plans (or checks a saved plan), asks `confirm`, applies, resolves the outcome,
/// waits and re-plans. `desired` is `None` for a saved plan without its topology.
pub async fn run(
    nb: &Client,
    sb: Option<&Client>,
    desired: Option<&State>,
    saved: Option<Plan>,
    options: &Options,
    confirm: impl FnOnce(&Plan) -> bool,
) -> Result<Report, Error> {
    let read = read(nb, options.timeout).await?;
    run_read(nb, sb, read, desired, saved, options, confirm).await
}

/// [`run`] from what [`read`] returned.
pub async fn run_read(
    nb: &Client,
    sb: Option<&Client>,
    read: Read,
    desired: Option<&State>,
    saved: Option<Plan>,
    options: &Options,
    confirm: impl FnOnce(&Plan) -> bool,
) -> Result<Report, Error> {
    let lock = lock_name(&options.stack);
    if !nb.lock(&lock).await? {
        let _ = nb.unlock(&lock).await;
        return Err(Error::Locked {
            stack: options.stack.clone(),
            lock,
        });
    }
    let result = run_locked(nb, sb, read, desired, saved, options, &lock, confirm).await;
    let _ = nb.unlock(&lock).await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn run_locked(
    nb: &Client,
    sb: Option<&Client>,
    read: Read,
    desired: Option<&State>,
    saved: Option<Plan>,
    options: &Options,
    lock: &str,
    confirm: impl FnOnce(&Plan) -> bool,
) -> Result<Report, Error> {
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
    let nb_global = nb_global_ids(nb, options.timeout).await?;
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
    // Chassis changes (a saved plan's) are the caller's to write: no rows, no transaction.
    if plan.changes.is_empty() {
        return Ok(Report::NoChanges(plan));
    }
    if !confirm(&plan) {
        return Err(Error::Declined);
    }
    let apply_id = Uuid::new_v4();
    let tx = transaction::TxOptions {
        lock: Some(lock.to_owned()),
        apply_id,
        bump_nb_cfg: options.wait != WaitFor::None,
        create_nb_global: nb_global.is_none(),
    };
    crate::timings::phase("plan");
    let ops = transaction::build(&plan, &Db::Northbound, &live, &schema, &tx)?;
    crate::timings::phase("build transaction");
    let outcome = nb.transact(db_name, &ops).await;
    // A failed `wait` guard names the row it guarded.
    let guarded = match &outcome {
        Err(ovsdb::Error::Transaction { index, .. }) => guard_subject(&plan, &ops, *index),
        _ => None,
    };
    // The operations hold a copy of every row created: free them before the re-plan.
    drop(ops);
    match outcome {
        Ok(_) => {}
        Err(ovsdb::Error::Transaction {
            error: error @ OpError::TimedOut,
            details,
            ..
        }) => {
            // A `wait` guard failed: something the plan touched changed under it.
            let what = guarded.unwrap_or_else(|| details.unwrap_or_else(|| error.to_string()));
            return Err(Error::Moved { what });
        }
        Err(ovsdb::Error::Transaction {
            error: error @ OpError::ConstraintViolation,
            details,
            ..
        }) => {
            // An indexed name (a port's) taken since the read: the index refused it.
            let what = details.unwrap_or_else(|| error.to_string());
            return Err(Error::Moved { what });
        }
        Err(ovsdb::Error::Transaction {
            error: error @ OpError::NotOwner,
            ..
        }) => {
            // The `assert` of the lock: the lock belongs to the connection, and a reconnect (a
            // new leader) lost it.
            return Err(Error::LockLost {
                lock: lock.to_owned(),
                reason: error.to_string(),
            });
        }
        Err(ovsdb::Error::OutcomeUnknown { reason, .. }) => {
            resolve_outcome(nb, &plan.stack, apply_id, reason, options.timeout).await?;
        }
        Err(e) => return Err(e.into()),
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
        match wait_for_cfg(nb, sb, options.wait, options.timeout, &declared).await {
            Ok(_) => {}
            Err(e @ Error::WaitTimeout { .. }) => return Err(e),
            Err(e) => return Err(unverified(e)),
        }
    }
    let mut warnings = Vec::new();

    // The re-plan: what was planned must now be true. The read brought up to date from the
    // monitor's updates when they can tell; else read again. A read is safe to repeat, so a
    // server that went away after the commit (restarting, a new leader) is waited for until
    // the deadline.
    if let Some(desired) = desired {
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
        let deadline = Instant::now() + options.timeout;
        let prune = diff::Options {
            prune: options.prune,
        };
        let after = loop {
            match &caught_up {
                // Patched row by row: only the rows the updates or the plan touched can
                // differ (a row's plan depends on that row alone), so only they are planned.
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
                        ..Live::default()
                    };
                    break diff::plan(&nb_rows, &live, &options.stack, prune);
                }
                Some(caught_up) => {
                    break diff::plan(desired, &caught_up.live, &options.stack, prune);
                }
                None => {}
            }
            match read_and_plan(nb, desired, &options.stack, options.prune).await {
                Ok((after, _)) => break after,
                Err(Error::Ovsdb(_) | Error::Live(live::Error::Ovsdb(_)))
                    if Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => return Err(unverified(e)),
            }
        };
        crate::timings::phase("re-read and re-plan");
        // The read holds every row of the database: freeing it row by row takes a CLI's exit
        // ~10 ms at 15k rows, so it is freed beside the rest of the work.
        std::thread::spawn(move || drop(caught_up));
        if !after.is_empty() {
            return Err(Error::NotConverged(diff::render::summary_line(&after)));
        }
        // And northd (and the chassis) must have made of it what the topology says.
        // Bindings settle after the chassis processed the change (a `cr-` port waits for
        // BFD), so look again until they do or the deadline passes.
        if let (Some(sb), true) = (sb, options.wait != WaitFor::None) {
            let deadline = Instant::now() + options.timeout;
            loop {
                let bindings = southbound::read_bindings(sb).await.map_err(unverified)?;
                let found = southbound::check(desired, &bindings, options.wait);
                if found.is_clean() || Instant::now() >= deadline {
                    if !found.errors.is_empty() {
                        return Err(Error::Southbound(found.errors));
                    }
                    warnings = found.pending;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    Ok(Report::Applied {
        plan,
        apply_id,
        warnings,
    })
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

/// The `NB_Global` row's `columns` (`None` on a database that has no such row yet).
async fn read_nb_global(nb: &Client, columns: &[&str]) -> Result<Option<Columns>, ovsdb::Error> {
    let rows = nb
        .select(Db::Northbound.schema_name(), "NB_Global", vec![], columns)
        .await?;
    Ok(rows.into_iter().next())
}

/// `NB_Global.external_ids`, read once (`None`: the NB has no `NB_Global` row yet, as a new
/// database until ovn-northd or ovn-nbctl creates it).
async fn read_ids(nb: &Client) -> Result<Option<Datum>, ovsdb::Error> {
    let row = read_nb_global(nb, &["external_ids"]).await?;
    Ok(row.map(|mut row| row.remove("external_ids").unwrap_or_else(Datum::empty_map)))
}

/// The apply marker of `stack` in `NB_Global.external_ids`.
fn marker_of(ids: Option<&Datum>, stack: &str) -> Option<Atom> {
    let key = Atom::from(transaction::marker_key(stack));
    ids?.as_map()?.get(&key).cloned()
}

/// [`read_ids`], asked again until the deadline while the database is away. A select writes
/// nothing: the client retries it once on a new connection itself, and a server that is
/// still away (restarting, electing a new leader) is asked again here until the deadline; a
/// final failure is a plain error.
async fn nb_global_ids(nb: &Client, timeout: Duration) -> Result<Option<Datum>, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        match read_ids(nb).await {
            Ok(ids) => return Ok(ids),
            Err(e) if e.is_transient() && Instant::now() >= deadline => {
                return Err(Error::Lost {
                    reason: e.to_string(),
                });
            }
            Err(e) if e.is_transient() => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Names the row whose `wait` guard at `index` failed.
fn guard_subject(plan: &Plan, ops: &[Operation], index: usize) -> Option<String> {
    match ops.get(index)? {
        Operation::Wait {
            table, conditions, ..
        } => {
            let cond = conditions.first()?;
            let key = match cond.value.as_scalar()? {
                Atom::String(name) => {
                    return Some(format!(
                        "{} {name} was created by someone else",
                        diff::render::noun(table)
                    ));
                }
                Atom::Uuid(u) => *u,
                _ => return None,
            };
            plan.read
                .rows
                .iter()
                .find(|r: &&ReadRow| r.uuid == Some(key))
                .map(|r| {
                    format!(
                        "{} was modified",
                        diff::render::subject(&r.db, &r.table, &r.key)
                    )
                })
        }
        _ => None,
    }
}

/// After a lost reply: reconnect (the client does) and read the marker until the deadline.
async fn resolve_outcome(
    nb: &Client,
    stack: &str,
    apply_id: Uuid,
    reason: String,
    timeout: Duration,
) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    loop {
        match read_ids(nb).await {
            Ok(ids) => {
                return if marker_of(ids.as_ref(), stack) == Some(Atom::from(apply_id.to_string())) {
                    Ok(())
                } else {
                    Err(Error::NotApplied { reason })
                };
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(Error::OutcomeUnknown {
                    reason,
                    marker_error: e.to_string(),
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Waits until `sb_cfg` reaches the `nb_cfg` this apply set (`sb`), or (`hv`) until every
/// chassis the topology declares has (its `Chassis_Private.nb_cfg` in the SB). `hv_cfg` is
/// the minimum over every chassis in the SB, so one stale chassis that is not part of the
/// topology would hold it back forever; it is used only when the declared chassis are unknown
/// (a saved plan) or the SB cannot be read. On timeout, names the chassis that lag.
async fn wait_for_cfg(
    nb: &Client,
    sb: Option<&Client>,
    mode: WaitFor,
    timeout: Duration,
    declared: &[String],
) -> Result<Vec<String>, Error> {
    let deadline = Instant::now() + timeout;
    let per_chassis = mode == WaitFor::Hv && sb.is_some() && !declared.is_empty();
    let column = if mode == WaitFor::Hv {
        "hv_cfg"
    } else {
        "sb_cfg"
    };
    let mut target = None;
    loop {
        let row = read_nb_global(nb, &["nb_cfg", column])
            .await?
            .unwrap_or_default();
        let int = |c: &str| row.integer(c).unwrap_or(0);
        // The nb_cfg this apply set: later applies may raise it further while we wait.
        let target = *target.get_or_insert(int("nb_cfg"));
        let lagging = match sb {
            Some(sb) if per_chassis => Some(lagging_chassis(sb, target, declared).await?),
            _ => None,
        };
        let done = match &lagging {
            Some(l) => l.is_empty(),
            None => int(column) >= target,
        };
        if done {
            return Ok(Vec::new());
        }
        if Instant::now() >= deadline {
            let lagging = match (lagging, mode, sb) {
                (Some(l), _, _) => l,
                (None, WaitFor::Hv, Some(sb)) => {
                    lagging_chassis(sb, target, &[]).await.unwrap_or_default()
                }
                _ => Vec::new(),
            };
            let what = if mode == WaitFor::Hv {
                "the chassis (hv_cfg)"
            } else {
                "ovn-northd (sb_cfg)"
            };
            return Err(Error::WaitTimeout {
                what,
                after: timeout,
                lagging,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Chassis whose `Chassis_Private.nb_cfg` is below `target`: among `declared` (a declared
/// chassis the SB does not know lags too, and says so), or among all when `declared` is empty.
async fn lagging_chassis(
    sb: &Client,
    target: i64,
    declared: &[String],
) -> Result<Vec<String>, Error> {
    let rows = sb
        .select(
            Db::Southbound.schema_name(),
            "Chassis_Private",
            vec![],
            &["name", "nb_cfg"],
        )
        .await?;
    let cfg: std::collections::BTreeMap<String, i64> = rows
        .iter()
        .filter_map(|row| {
            let name = row.string("name")?;
            Some((name.to_owned(), row.integer("nb_cfg").unwrap_or(0)))
        })
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveRow;
    use crate::rows::{Row, RowKey, Value};

    fn live_with(version: u128, addresses: &str) -> Live {
        let key = RowKey::name("vm1");
        let mut live = Live::default();
        let row = Row::new().with("addresses", Datum::scalar(Value::from(addresses)));
        let digest = crate::live::digest_of(&row);
        live.state
            .insert(Db::Northbound, "Logical_Switch_Port", key.clone(), row);
        live.rows.insert(
            (Db::Northbound, "Logical_Switch_Port".into(), key),
            LiveRow {
                uuid: Uuid::from_u128(1),
                version: Some(Uuid::from_u128(version)),
                digest,
            },
        );
        live
    }

    fn saved(live: &Live) -> Plan {
        let desired = State::new();
        diff::plan(&desired, live, "lab", diff::Options { prune: false })
    }

    /// `_version` differs on every member of a RAFT cluster: a saved plan compares content.
    #[test]
    fn a_saved_plan_compares_content_not_version() {
        let mut plan = saved(&live_with(7, "00:00:00:00:00:01 10.0.0.2"));
        // The plan reads nothing it neither wants nor owns: add the row by hand.
        let read = live_with(7, "00:00:00:00:00:01 10.0.0.2");
        let row = read
            .row(&Db::Northbound, "Logical_Switch_Port", &RowKey::name("vm1"))
            .unwrap();
        plan.read.rows.push(ReadRow {
            db: Db::Northbound,
            table: "Logical_Switch_Port".into(),
            key: RowKey::name("vm1"),
            uuid: Some(row.uuid),
            version: row.version,
            digest: Some(row.digest()),
        });
        // Same content, another server's _version: not moved.
        assert!(moved_since(&plan, &live_with(8, "00:00:00:00:00:01 10.0.0.2")).is_empty());
        // Changed content: moved.
        assert_eq!(
            moved_since(&plan, &live_with(7, "00:00:00:00:00:01 10.0.0.9")),
            ["switch port vm1 was modified"]
        );
        // A digest of the older kind (wire JSON, no prefix) cannot be compared: _version is.
        plan.read.rows[0].digest = Some("0123456789abcdef".into());
        assert!(moved_since(&plan, &live_with(7, "00:00:00:00:00:01 10.0.0.2")).is_empty());
        // A plan without digests (made before them) falls back to _version.
        plan.read.rows[0].digest = None;
        assert_eq!(
            moved_since(&plan, &live_with(8, "00:00:00:00:00:01 10.0.0.2")),
            ["switch port vm1 was modified"]
        );
    }
}

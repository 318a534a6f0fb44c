//! Applying a plan: one guarded transaction, the outcome made certain, then a re-plan.
//!
//! The steps, in order:
//! 1. take the stack's OVSDB lock (`topo_<stack>`) so two applies of one stack queue up
//!    instead of interleaving — advisory only: locks are per server, not per cluster, so
//!    correctness comes from the guards;
//! 2. read the live state and plan (or, for a saved plan, check that nothing it read moved);
//! 3. one transaction ([`transaction::build`]) guarded by `wait` on everything it touches;
//! 4. if the reply is lost ("outcome unknown"), reconnect and read the apply marker back:
//!    applied or not, never guessed, never re-sent;
//! 5. optionally wait for northd (`sb`) or the chassis (`hv`) with a deadline;
//! 6. re-read and re-plan: the plan must now be empty.

pub mod southbound;
pub mod transaction;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::diff::{self, Plan, ReadRow};
use crate::live::{self, Live};
use crate::ovsdb::{self, Atom, Client, Condition, Datum, Operation};
use crate::rows::{Db, State};

/// What `--wait` waits for after the commit, as ovn-nbctl's `--wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WaitFor {
    /// Return once the NB transaction committed.
    #[default]
    None,
    /// Until ovn-northd has processed it into the Southbound database.
    Sb,
    /// Until every chassis has processed it.
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
    /// Committed; `converged` is the re-plan's verdict.
    Applied {
        plan: Plan,
        apply_id: Uuid,
        lagging: Vec<String>,
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
    #[error("another apply of stack {stack} holds the lock `{lock}`")]
    Locked { stack: String, lock: String },
    #[error("the plan has {} conflict(s); nothing was written", .0.conflicts.len())]
    Conflicts(Box<Plan>),
    #[error("the saved plan is stale: {} row(s) moved since it was made; nothing was written", .moved.len())]
    Stale { moved: Vec<String> },
    #[error("the saved plan is for stack {saved}, not {expected}")]
    OtherStack { saved: String, expected: String },
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

/// The Northbound part of a desired state: what plan and apply compare today. Chassis rows
/// (`Db::Chassis`) are written through each chassis's own database, from targets that name
/// their remotes.
pub fn northbound(desired: &State) -> State {
    let mut nb = State::new();
    if let Some(tables) = desired.tables.get(&Db::Northbound) {
        nb.tables.insert(Db::Northbound, tables.clone());
    }
    nb
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
    let plan = diff::plan(&northbound(desired), &live, stack, diff::Options { prune });
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
            (Some(_), Some(n)) if n.version != r.version => {
                moved.push(format!("{what} was modified"))
            }
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

/// Plans (or checks a saved plan), asks `confirm`, applies, resolves the outcome, waits and
/// re-plans. `desired` is `None` for a saved plan without its topology.
pub async fn run(
    nb: &Client,
    sb: Option<&Client>,
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
    let result = run_locked(nb, sb, desired, saved, options, &lock, confirm).await;
    let _ = nb.unlock(&lock).await;
    result
}

async fn run_locked(
    nb: &Client,
    sb: Option<&Client>,
    desired: Option<&State>,
    saved: Option<Plan>,
    options: &Options,
    lock: &str,
    confirm: impl FnOnce(&Plan) -> bool,
) -> Result<Report, Error> {
    let db_name = Db::Northbound.schema_name();
    let schema = nb.get_schema(db_name).await?;
    let live = live::read_nb(nb, &schema).await?;
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
                &northbound(desired),
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
    if plan.is_empty() {
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
    };
    let ops = transaction::build(&plan, &Db::Northbound, &live, &schema, &tx)?;
    match nb.transact(db_name, &ops).await {
        Ok(_) => {}
        Err(ovsdb::Error::Transaction {
            index,
            error,
            details,
            ..
        }) if error == "timed out" => {
            // A `wait` guard failed: something the plan touched changed under it.
            let what =
                guard_subject(&plan, &ops, index).unwrap_or_else(|| details.unwrap_or(error));
            return Err(Error::Moved { what });
        }
        Err(ovsdb::Error::OutcomeUnknown { reason, .. }) => {
            resolve_outcome(nb, &plan.stack, apply_id, reason, options.timeout).await?;
        }
        Err(e) => return Err(e.into()),
    }

    let lagging = match (options.wait, sb) {
        (WaitFor::None, _) => Vec::new(),
        (mode, sb) => wait_for_cfg(nb, sb, mode, options.timeout).await?,
    };

    // The re-plan: what was planned must now be true.
    if let Some(desired) = desired {
        let (after, _) = read_and_plan(nb, desired, &options.stack, options.prune).await?;
        if !after.is_empty() {
            return Err(Error::NotConverged(diff::render::summary_line(&after)));
        }
        // And northd (and the chassis) must have made of it what the topology says.
        if let (Some(sb), true) = (sb, options.wait != WaitFor::None) {
            let bindings = southbound::read_bindings(sb).await?;
            let problems = southbound::check(&northbound(desired), &bindings, options.wait);
            if !problems.is_empty() {
                return Err(Error::Southbound(problems));
            }
        }
    }
    Ok(Report::Applied {
        plan,
        apply_id,
        lagging,
    })
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
    let key = Atom::from(transaction::marker_key(stack));
    loop {
        let read = nb
            .transact(
                Db::Northbound.schema_name(),
                &[Operation::select(
                    "NB_Global",
                    Vec::<Condition>::new(),
                    Some(vec!["external_ids".into()]),
                )],
            )
            .await;
        match read {
            Ok(results) => {
                let marker = results
                    .first()
                    .and_then(|r| r.rows().first().cloned())
                    .and_then(|row| row.get("external_ids").cloned())
                    .and_then(|ids| Datum::from_json(&ids).ok())
                    .and_then(|ids| ids.as_map().and_then(|m| m.get(&key).cloned()));
                return if marker == Some(Atom::from(apply_id.to_string())) {
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

/// Waits until `sb_cfg` (or `hv_cfg`) reaches the `nb_cfg` this apply set. On timeout for
/// `hv`, names the chassis whose `Chassis_Private.nb_cfg` lags.
async fn wait_for_cfg(
    nb: &Client,
    sb: Option<&Client>,
    mode: WaitFor,
    timeout: Duration,
) -> Result<Vec<String>, Error> {
    let deadline = Instant::now() + timeout;
    let column = if mode == WaitFor::Hv {
        "hv_cfg"
    } else {
        "sb_cfg"
    };
    loop {
        let results = nb
            .transact(
                Db::Northbound.schema_name(),
                &[Operation::select(
                    "NB_Global",
                    Vec::<Condition>::new(),
                    Some(vec!["nb_cfg".into(), column.into()]),
                )],
            )
            .await?;
        let row = results
            .first()
            .and_then(|r| r.rows().first().cloned())
            .unwrap_or_default();
        let int = |c: &str| row.get(c).and_then(|v| v.as_i64()).unwrap_or(0);
        let target = int("nb_cfg");
        if int(column) >= target {
            return Ok(Vec::new());
        }
        if Instant::now() >= deadline {
            let lagging = match (mode, sb) {
                (WaitFor::Hv, Some(sb)) => lagging_chassis(sb, target).await.unwrap_or_default(),
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

async fn lagging_chassis(sb: &Client, target: i64) -> Result<Vec<String>, Error> {
    let results = sb
        .transact(
            Db::Southbound.schema_name(),
            &[Operation::select(
                "Chassis_Private",
                Vec::<Condition>::new(),
                Some(vec!["name".into(), "nb_cfg".into()]),
            )],
        )
        .await?;
    Ok(results
        .first()
        .map(|r| r.rows().to_vec())
        .unwrap_or_default()
        .iter()
        .filter(|row| row.get("nb_cfg").and_then(|v| v.as_i64()).unwrap_or(0) < target)
        .filter_map(|row| row.get("name").and_then(|v| v.as_str()).map(str::to_owned))
        .collect())
}

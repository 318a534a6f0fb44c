//! The apply marker: `NB_Global.external_ids:topo:<stack>:apply=<id>`, written in the same
//! transaction as the rows. Read before the lock (what the read saw), under it (did another
//! apply of the stack commit since?), and after a lost reply or a refusal that may hide a
//! commit, until a member answers or the deadline passes: the marker says whether the
//! transaction committed, so topo never guesses and never re-sends.

use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{Error, transaction};
use crate::ovsdb::{self, Atom, Client, Columns, Datum};
use crate::poll::{poll_until, poll_with_backoff};
use crate::rows::Db;

/// The pause between two reads of a database that is away.
const AGAIN: Duration = Duration::from_millis(200);
/// The first pause of [`resolve_outcome`]: a restarted server is often back within it.
const FIRST: Duration = Duration::from_millis(50);

/// The `NB_Global` row's `columns` (`None` on a database that has no such row yet).
pub(super) async fn read_nb_global(
    nb: &Client,
    columns: &[&str],
) -> Result<Option<Columns>, ovsdb::Error> {
    let rows = nb
        .select(Db::Northbound.schema_name(), "NB_Global", vec![], columns)
        .await?;
    Ok(rows.into_iter().next())
}

/// `NB_Global.external_ids`, read once (`None`: the NB has no `NB_Global` row yet, as a new
/// database until ovn-northd or ovn-nbctl creates it).
pub(super) async fn read_ids(nb: &Client) -> Result<Option<Datum>, ovsdb::Error> {
    let row = read_nb_global(nb, &["external_ids"]).await?;
    Ok(row.map(|mut row| row.remove("external_ids").unwrap_or_else(Datum::empty_map)))
}

/// The apply marker of `stack` in `NB_Global.external_ids`.
pub(super) fn marker_of(ids: Option<&Datum>, stack: &str) -> Option<Atom> {
    let key = Atom::from(transaction::marker_key(stack));
    ids?.as_map()?.get(&key).cloned()
}

/// [`read_ids`], asked again until the deadline while the database is away. A select writes
/// nothing: the client retries it once on a new connection itself, and a server that is
/// still away (restarting, electing a new leader) is asked again here until the deadline; a
/// final failure is a plain error.
pub(super) async fn nb_global_ids(nb: &Client, timeout: Duration) -> Result<Option<Datum>, Error> {
    let last = poll_until(timeout, AGAIN, || async {
        match read_ids(nb).await {
            Ok(ids) => Ok(Ok(ids)),
            Err(e) if e.is_transient() => Ok(Err(e)),
            Err(e) => Err(Error::from(e)),
        }
    })
    .await?;
    last.map_err(|e| Error::Lost {
        reason: e.to_string(),
    })
}

/// How the database answered the marker read after a lost reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The marker is this apply's: the transaction committed.
    Applied,
    /// A member answered and the marker is not this apply's: it did not commit.
    NotApplied,
}

/// After a lost reply (or a refusal that may hide a commit): read the marker back until a
/// member answers or the deadline passes. Each attempt reconnects (the client tries every
/// remote and accepts only a clustered database's leader); the pauses between attempts grow
/// from [`FIRST`] to [`AGAIN`]'s five times. `reason` is why the reply was lost; when no member
/// answered before the deadline the error names the remotes and the time spent.
pub(super) async fn resolve_outcome(
    nb: &Client,
    stack: &str,
    apply_id: Uuid,
    reason: String,
    timeout: Duration,
) -> Result<Verdict, Error> {
    let start = Instant::now();
    let deadline = start + timeout;
    let last = poll_with_backoff(timeout, FIRST, AGAIN * 5, || async {
        // One read may itself wait for a leader (the client's own deadline): never past ours.
        let left = deadline.saturating_duration_since(Instant::now());
        let read = match tokio::time::timeout(left.max(FIRST), read_ids(nb)).await {
            Ok(read) => read.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {left:?}")),
        };
        Ok::<_, Error>(read)
    })
    .await?;
    match last {
        Ok(ids) if marker_of(ids.as_ref(), stack) == Some(Atom::from(apply_id.to_string())) => {
            Ok(Verdict::Applied)
        }
        Ok(_) => Ok(Verdict::NotApplied),
        Err(marker_error) => Err(Error::OutcomeUnknown {
            reason,
            remotes: nb.remotes().join(","),
            waited: start.elapsed(),
            marker_error,
        }),
    }
}

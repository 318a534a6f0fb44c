//! `--adopt`: which rows get the ownership mark ([`to_adopt`]), the one guarded transaction
//! that writes it ([`adopt_operations`], pure) and [`adopt()`], which takes the stack's lock and
//! runs it. The guards, the lock's `assert` and the mark's mutations are apply's own builders
//! (`apply::transaction`), so an adopted row is guarded and marked exactly as apply would.

use super::Error;
use crate::apply::transaction::{owner_mark, put_entries, row_guard, with_guards};
use crate::ovsdb::{Atom, Client, Condition, Operation};
use crate::rows::live::Live;
use crate::rows::{Db, RowKey, State, identity, ownership};

/// The rows `--adopt` marks: those of `desired` that exist live without this stack's mark
/// (rows of other stacks are left alone and reported).
pub(crate) fn to_adopt(
    desired: &State,
    live: &Live,
    stack: &str,
) -> (Vec<(String, RowKey)>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (db, table, key, _) in desired.rows() {
        if *db != Db::Northbound {
            continue;
        }
        let Some(row) = live.state.get(db, table, key) else {
            continue;
        };
        match ownership::owner(row) {
            Some(o) if o == stack => {}
            Some(o) => notes.push(format!("{table} {key}: owned by stack {o}; not adopted")),
            None => rows.push((table.to_owned(), key.clone())),
        }
    }
    (rows, notes)
}

/// The adopt transaction: `wait` on each row's `_version` (it must not have moved since the
/// read), the stack lock's `assert` when held, one `mutate` of `external_ids` per row (delete
/// the mark's keys, insert the mark: a map insert never overwrites), and a comment.
pub(crate) fn adopt_operations(
    rows: &[(String, RowKey)],
    live: &Live,
    stack: &str,
    lock: Option<&str>,
) -> Vec<Operation> {
    let mut guards = Vec::new();
    let mut body = Vec::new();
    for (table, key) in rows {
        let Some(r) = live.row(&Db::Northbound, table, key) else {
            continue;
        };
        guards.push(row_guard(table, r.uuid, r.version));
        // Rows OVN keeps no name for also get the key topo knows them by.
        let mutations = if identity::rule(table) == Some(identity::Rule::Tagged) {
            let [a, b] = ownership::mark(stack);
            put_entries(
                ownership::COLUMN,
                [a, b, (identity::NAME_TAG.to_owned(), key.to_string())]
                    .map(|(k, v)| (Atom::from(k), Atom::from(v))),
            )
            .into()
        } else {
            owner_mark(stack).into()
        };
        body.push(Operation::mutate(
            table,
            vec![Condition::uuid(r.uuid)],
            mutations,
        ));
    }
    let mut ops = with_guards(guards, lock, body);
    ops.push(Operation::comment(&format!(
        "topo import --adopt: stack {stack}, {} row(s)",
        rows.len()
    )));
    ops
}

/// Takes the stack's lock (as apply does) and writes the marks of `rows` in one transaction.
/// Nothing is written when the lock is held elsewhere or a row moved since `live` was read.
pub(crate) async fn adopt(
    nb: &Client,
    live: &Live,
    stack: &str,
    rows: &[(String, RowKey)],
) -> Result<(), Error> {
    let lock = crate::apply::lock_name(stack);
    let got = match nb.lock(&lock).await {
        Ok(got) => got,
        Err(source) => return Err(Error::Lock { lock, source }),
    };
    if !got {
        let _ = nb.unlock(&lock).await;
        return Err(Error::Locked {
            stack: stack.to_owned(),
            lock,
        });
    }
    let ops = adopt_operations(rows, live, stack, Some(&lock));
    let result = nb.transact(Db::Northbound.schema_name(), &ops).await;
    let _ = nb.unlock(&lock).await;
    match result {
        Ok(_) => Ok(()),
        Err(crate::ovsdb::Error::Transaction { error, .. }) if error == "timed out" => {
            Err(Error::Moved)
        }
        Err(source) => Err(Error::Adopt { source }),
    }
}

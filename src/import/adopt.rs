//! `--adopt`: which rows get the ownership mark, and the one guarded transaction that writes it.

use crate::live::Live;
use crate::ovsdb::{Atom, Columns, Condition, Datum, Mutation, Operation, WaitUntil};
use crate::rows::{Db, RowKey, State, ownership};

/// The rows `--adopt` marks: those of `desired` that exist live without this stack's mark
/// (rows of other stacks are left alone and reported).
pub fn to_adopt(desired: &State, live: &Live, stack: &str) -> (Vec<(String, RowKey)>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (db, table, key, _) in desired.rows() {
        if *db != Db::Northbound {
            continue;
        }
        let Some(row) = live.state.get(db, table, key) else {
            continue;
        };
        match crate::diff::owner(row) {
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
pub fn adopt_operations(
    rows: &[(String, RowKey)],
    live: &Live,
    stack: &str,
    lock: Option<&str>,
) -> Vec<Operation> {
    let mut guards = Vec::new();
    let mut body = Vec::new();
    let mark = ownership::mark(stack);
    for (table, key) in rows {
        let Some(r) = live.row(&Db::Northbound, table, key) else {
            continue;
        };
        let mut expect = Columns::new();
        expect.insert("_uuid".to_owned(), Datum::scalar(Atom::Uuid(r.uuid)));
        let mut columns = vec!["_uuid".to_owned()];
        if let Some(v) = r.version {
            expect.insert("_version".to_owned(), Datum::scalar(Atom::Uuid(v)));
            columns.push("_version".to_owned());
        }
        guards.push(Operation::wait(
            table,
            vec![Condition::uuid(r.uuid)],
            columns,
            WaitUntil::Equal,
            vec![expect],
        ));
        body.push(Operation::mutate(
            table,
            vec![Condition::uuid(r.uuid)],
            vec![
                Mutation::delete(
                    "external_ids",
                    Datum::set(mark.iter().map(|(k, _)| Atom::from(k.as_str()))),
                ),
                Mutation::insert(
                    "external_ids",
                    Datum::map(
                        mark.iter()
                            .map(|(k, v)| (Atom::from(k.as_str()), Atom::from(v.as_str()))),
                    ),
                ),
            ],
        ));
    }
    let mut ops = guards;
    if let Some(lock) = lock {
        ops.push(Operation::assert_lock(lock));
    }
    ops.extend(body);
    ops.push(Operation::comment(&format!(
        "topo import --adopt: stack {stack}, {} row(s)",
        rows.len()
    )));
    ops
}

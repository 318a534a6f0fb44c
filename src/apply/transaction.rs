//! Plan → one OVSDB transaction. Pure, so the operations are snapshot-tested as data.
//!
//! Shape of every apply transaction (see `shared/research/reliability-anchors.md`):
//!
//! 1. `wait` guards: each row the plan updates or deletes still has the `_version` the plan
//!    read, and each name the plan creates is still free where the schema does not index it
//!    (switch and router names are not unique in the NB schema, so nothing else would stop a
//!    duplicate; a port's name is indexed, and the server refuses a second one by itself);
//!    and the stack's apply marker is still the one the apply read (`marker_guard`: locks are
//!    per server, so this is what keeps two applies through two cluster members apart);
//! 2. `assert` of the stack's lock, when held;
//! 3. inserts (with `uuid-name`s, referenced rows first), column updates, deletes;
//! 4. the apply marker: `NB_Global.external_ids:topo:<stack>:apply = <apply id>`, written in the
//!    same transaction so that an "outcome unknown" can be resolved by reading it back (on a
//!    new database without an `NB_Global` row, the row is inserted with the marker);
//! 5. `nb_cfg += 1` when the caller will wait for northd / the chassis;
//! 6. a `comment` naming the stack, for the server log;
//! 7. `commit` with `durable: true`, so the reply comes only once the change is on disk.
//!
//! Scalars and optional columns are written with `update`; sets and maps with `mutate`
//! (`delete` what left, `insert` what came), so a transaction's size follows the change and
//! concurrent additions by others to the same set survive.
//!
//! `topo import --adopt` builds its transaction from the same pieces: `row_guard` (the
//! `wait` on a row's `_uuid` and `_version`), `with_guards` (guards, then the lock's
//! `assert`, then the body) and `owner_mark` (the ownership mark written with
//! `put_entries`, as the apply marker is).

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use crate::diff::{Action, Change, Plan};
use crate::ovsdb::{
    Atom, Columns, Condition, DatabaseSchema, Datum, Function, Mutation, Mutator, Operation,
    WaitUntil,
};
use crate::parallel::ranges_on_threads;
use crate::rows::live::Live;
use crate::rows::{Cell, Db, RowKey, Value, identity, ownership};

/// Options of the transaction.
#[derive(Debug, Clone, Default)]
pub struct TxOptions {
    /// Lock to `assert` (held by the caller).
    pub lock: Option<String>,
    /// Identifies this apply in the marker.
    pub apply_id: Uuid,
    /// Increment `NB_Global.nb_cfg` (for `--wait sb|hv`).
    pub bump_nb_cfg: bool,
    /// The NB has no `NB_Global` row yet (a new database that neither ovn-northd nor
    /// ovn-nbctl has touched): insert it, as ovn-nbctl does, instead of mutating it. A `mutate`
    /// with no row to match would silently drop the marker and the `nb_cfg` bump. The table
    /// holds at most one row, so a concurrent insert makes one of the transactions fail.
    pub create_nb_global: bool,
    /// `NB_Global.external_ids` as the apply read it (under the lock). When set, a `wait`
    /// guard keeps the stack's apply marker as it was: its value when it had one, else the
    /// whole map. Locks are per server, so two applies of a stack through two members of a
    /// cluster both get the lock; this guard lets only the first one commit.
    pub marker_seen: Option<Datum>,
}

/// The `NB_Global.external_ids` key of a stack's apply marker.
pub(crate) fn marker_key(stack: &str) -> String {
    format!("topo:{stack}:apply")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(
        "{table} {key}: refers to {target_table} {target_key}, which neither exists nor is created"
    )]
    Dangling {
        table: String,
        key: RowKey,
        target_table: String,
        target_key: RowKey,
    },
    #[error("{table} {key}: the plan updates or deletes a row the live read did not see")]
    Unread { table: String, key: RowKey },
    #[error("the {database} schema has no column {table}.{column}")]
    UnknownColumn {
        database: String,
        table: String,
        column: String,
    },
    #[error("the plan changes database {0}, which this transaction does not cover")]
    OtherDatabase(String),
}

/// From how many changes the operations are built on two threads.
const PARALLEL_MIN: usize = 2_000;

/// Into how many pieces the changes are cut then (a create costs more than a delete, so each
/// thread takes the next piece left rather than a half).
const PIECES: usize = 8;

/// One piece of the changes as operations: its guards (a row guard with the row's UUID, a
/// name guard without), then its body.
#[derive(Default)]
struct Piece {
    guards: Vec<(Option<Uuid>, Operation)>,
    body: Vec<Operation>,
}

/// The operations that apply the plan's changes to `db`.
pub fn build(
    plan: &Plan,
    db: &Db,
    live: &Live,
    schema: &DatabaseSchema,
    options: &TxOptions,
) -> Result<Vec<Operation>, BuildError> {
    build_with(plan, db, live, schema, options, PARALLEL_MIN)
}

/// [`build`], on two threads from `parallel_min` changes (a test compares both ways).
#[doc(hidden)]
pub fn build_with(
    plan: &Plan,
    db: &Db,
    live: &Live,
    schema: &DatabaseSchema,
    options: &TxOptions,
    parallel_min: usize,
) -> Result<Vec<Operation>, BuildError> {
    let changes: Vec<&Change> = plan.changes.iter().filter(|c| &c.db == db).collect();
    // uuid-names of created rows, in plan order.
    let named: BTreeMap<(&str, &RowKey), String> = changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .enumerate()
        .map(|(i, c)| ((c.table.as_str(), &c.key), format!("row{i}")))
        .collect();
    let resolve = |table: &str, key: &RowKey, v: &Value| -> Result<Atom, BuildError> {
        match v {
            Value::Atom(a) => Ok(a.clone()),
            Value::Ref(r) => {
                if let Some(name) = named.get(&(r.table.as_str(), &r.key)) {
                    return Ok(Atom::NamedUuid(name.clone()));
                }
                live.row(db, &r.table, &r.key)
                    .map(|row| Atom::Uuid(row.uuid))
                    .ok_or_else(|| BuildError::Dangling {
                        table: table.to_owned(),
                        key: key.clone(),
                        target_table: r.table.clone(),
                        target_key: r.key.clone(),
                    })
            }
        }
    };
    let wire = |table: &str, key: &RowKey, cell: &Cell| -> Result<Datum, BuildError> {
        cell.try_map_atoms(|v| resolve(table, key, v))
    };
    let uuid_of = |c: &Change| -> Result<Uuid, BuildError> {
        live.row(db, &c.table, &c.key)
            .map(|r| r.uuid)
            .ok_or_else(|| BuildError::Unread {
                table: c.table.clone(),
                key: c.key.clone(),
            })
    };

    // Each change's operations depend on that change alone: from `PARALLEL_MIN` changes
    // they are built in pieces on two threads (the other core is idle or rendering the plan
    // by now), and joined in order: the operations one thread would build.
    let piece = |changes: &[&Change]| -> Result<Piece, BuildError> {
        let mut piece = Piece::default();
        let Piece { guards, body } = &mut piece;
        for c in changes {
            match c.action {
                Action::Create => {
                    let name_indexed = schema
                        .table(&c.table)
                        .is_some_and(|t| t.indexes.iter().any(|i| i == &["name"]));
                    if identity::rule(&c.table) == Some(identity::Rule::Name) && !name_indexed {
                        // The name must still be free when the transaction commits. (Where the
                        // schema indexes the name, the server refuses a second row by itself.)
                        guards.push((
                            None,
                            Operation::wait(
                                &c.table,
                                vec![Condition::eq(
                                    "name",
                                    c.key.0.first().cloned().unwrap_or_default(),
                                )],
                                vec!["_uuid".to_owned()],
                                WaitUntil::Equal,
                                vec![],
                            ),
                        ));
                    }
                    let mut row = Columns::new();
                    for col in &c.columns {
                        if let Some(after) = &col.after {
                            row.insert(col.column.clone(), wire(&c.table, &c.key, after)?);
                        }
                    }
                    let name = named
                        .get(&(c.table.as_str(), &c.key))
                        .cloned()
                        .unwrap_or_default();
                    body.push(Operation::insert(&c.table, row).with_uuid_name(&name));
                }
                Action::Update => {
                    let uuid = uuid_of(c)?;
                    guards.push((Some(uuid), row_guard_of(c, uuid, live, db)));
                    let mut row = Columns::new();
                    let mut mutations = Vec::new();
                    for col in &c.columns {
                        let ty = schema.column_type(&c.table, &col.column).ok_or_else(|| {
                            BuildError::UnknownColumn {
                                database: schema.name.clone(),
                                table: c.table.clone(),
                                column: col.column.clone(),
                            }
                        })?;
                        let after = col
                            .after
                            .as_ref()
                            .map(|a| wire(&c.table, &c.key, a))
                            .transpose()?;
                        let before = col
                            .before
                            .as_ref()
                            .map(|b| wire(&c.table, &c.key, b))
                            .transpose()?;
                        let after = after.unwrap_or_default();
                        if ty.max == Some(1) && !ty.is_map() {
                            row.insert(col.column.clone(), after);
                        } else {
                            mutations.extend(set_mutations(&col.column, before.as_ref(), &after));
                        }
                    }
                    if !row.is_empty() {
                        body.push(Operation::update(
                            &c.table,
                            vec![Condition::uuid(uuid)],
                            row,
                        ));
                    }
                    if !mutations.is_empty() {
                        body.push(Operation::mutate(
                            &c.table,
                            vec![Condition::uuid(uuid)],
                            mutations,
                        ));
                    }
                }
                Action::Delete => {
                    let uuid = uuid_of(c)?;
                    guards.push((Some(uuid), row_guard_of(c, uuid, live, db)));
                    body.push(Operation::delete(&c.table, vec![Condition::uuid(uuid)]));
                }
            }
        }
        Ok(piece)
    };

    let pieces = if changes.len() < parallel_min.max(1) {
        vec![piece(&changes)]
    } else {
        ranges_on_threads(2, changes.len(), PIECES, |r| piece(&changes[r]))
    };
    // A row updated by two changes is guarded once, where it was first.
    let mut guards = Vec::new();
    let mut body = Vec::new();
    let mut guarded: BTreeSet<Uuid> = BTreeSet::new();
    for piece in pieces {
        let piece = piece?;
        for (uuid, guard) in piece.guards {
            if uuid.is_none_or(|u| guarded.insert(u)) {
                guards.push(guard);
            }
        }
        body.extend(piece.body);
    }

    if *db == Db::Northbound
        && !options.create_nb_global
        && let Some(seen) = &options.marker_seen
    {
        guards.push(marker_guard(&plan.stack, seen));
    }
    let mut ops = with_guards(guards, options.lock.as_deref(), body);
    if *db == Db::Northbound {
        let key = Atom::from(marker_key(&plan.stack));
        if options.create_nb_global {
            let mut row = Columns::new();
            row.insert(
                "external_ids".to_owned(),
                Datum::map([(key, Atom::from(options.apply_id.to_string()))]),
            );
            if options.bump_nb_cfg {
                row.insert("nb_cfg".to_owned(), Datum::scalar(Atom::Integer(1)));
            }
            ops.push(Operation::insert("NB_Global", row));
        } else {
            let mut mutations = Vec::from(put_entries(
                "external_ids",
                [(key, Atom::from(options.apply_id.to_string()))],
            ));
            if options.bump_nb_cfg {
                mutations.push(Mutation::new(
                    "nb_cfg",
                    Mutator::Add,
                    Datum::scalar(Atom::Integer(1)),
                ));
            }
            ops.push(Operation::mutate("NB_Global", vec![], mutations));
        }
    }
    ops.push(Operation::comment(&format!(
        "topo apply: stack {} ({})",
        plan.stack, options.apply_id
    )));
    // Committed to disk before the reply: an acknowledged apply survives a server crash.
    ops.push(Operation::Commit { durable: true });
    Ok(ops)
}

/// The `wait` that `NB_Global` still holds the stack's apply marker `seen` showed: the
/// row whose `external_ids` include the marker as seen (or, when there was none, equal the
/// whole map as seen: a key's absence has no condition of its own) must still exist.
pub(crate) fn marker_guard(stack: &str, seen: &Datum) -> Operation {
    let key = Atom::from(marker_key(stack));
    let condition = match seen.as_map().and_then(|m| m.get(&key)) {
        Some(value) => Condition::new(
            "external_ids",
            Function::Includes,
            Datum::map([(key, value.clone())]),
        ),
        None => Condition::new("external_ids", Function::Eq, seen.clone()),
    };
    Operation::wait(
        "NB_Global",
        vec![condition],
        vec!["_uuid".to_owned()],
        WaitUntil::NotEqual,
        vec![],
    )
}

/// The `wait` guard of the row `c` updates or deletes, read as `uuid`.
fn row_guard_of(c: &Change, uuid: Uuid, live: &Live, db: &Db) -> Operation {
    let version = live.row(db, &c.table, &c.key).and_then(|r| r.version);
    row_guard(&c.table, uuid, version)
}

/// The `wait` that guards a row read as `uuid` at `version`: the transaction fails (and
/// writes nothing) if the row is gone or changed since. Without a `_version` (a server that
/// does not send it), only the row's existence is checked.
pub(crate) fn row_guard(table: &str, uuid: Uuid, version: Option<Uuid>) -> Operation {
    let mut row = Columns::new();
    row.insert("_uuid".to_owned(), Datum::scalar(Atom::Uuid(uuid)));
    let mut columns = vec!["_uuid".to_owned()];
    if let Some(v) = version {
        row.insert("_version".to_owned(), Datum::scalar(Atom::Uuid(v)));
        columns.push("_version".to_owned());
    }
    Operation::wait(
        table,
        vec![Condition::uuid(uuid)],
        columns,
        WaitUntil::Equal,
        vec![row],
    )
}

/// A guarded transaction's operations: the guards first, then the `assert` of the stack's
/// lock when held, then the body.
pub(crate) fn with_guards(
    guards: Vec<Operation>,
    lock: Option<&str>,
    body: Vec<Operation>,
) -> Vec<Operation> {
    let mut ops = guards;
    if let Some(lock) = lock {
        ops.push(Operation::assert_lock(lock));
    }
    ops.extend(body);
    ops
}

/// The mutations that set `entries` in the map `column`, leaving its other keys alone: delete
/// the keys, then insert the entries (a map `insert` never overwrites an existing key, RFC
/// 7047 §5.1).
pub(crate) fn put_entries<const N: usize>(
    column: &str,
    entries: [(Atom, Atom); N],
) -> [Mutation; 2] {
    [
        Mutation::delete(column, Datum::set(entries.iter().map(|(k, _)| k.clone()))),
        Mutation::insert(column, Datum::map(entries)),
    ]
}

/// The mutations that write the ownership mark of `stack` (`topo:stack`, `topo:version`) into
/// a row's `external_ids`, keeping every other key: how `topo import --adopt` takes rows over.
pub(crate) fn owner_mark(stack: &str) -> [Mutation; 2] {
    put_entries(
        ownership::COLUMN,
        ownership::mark(stack).map(|(k, v)| (Atom::from(k), Atom::from(v))),
    )
}

/// `mutate` operations that turn `before` into `after` for a set or map column.
fn set_mutations(column: &str, before: Option<&Datum>, after: &Datum) -> Vec<Mutation> {
    let mut out = Vec::new();
    match (before, after) {
        (Some(Datum::Map(b)), Datum::Map(a)) => {
            let gone: BTreeSet<Atom> = b
                .iter()
                .filter(|(k, v)| a.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
                .collect();
            let new: BTreeMap<Atom, Atom> = a
                .iter()
                .filter(|(k, v)| b.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !gone.is_empty() {
                out.push(Mutation::delete(column, Datum::Set(gone.into())));
            }
            if !new.is_empty() {
                out.push(Mutation::insert(column, Datum::Map(new.into())));
            }
        }
        (Some(Datum::Set(b)), Datum::Set(a)) => {
            let gone: BTreeSet<Atom> = b.difference(a).cloned().collect();
            let new: BTreeSet<Atom> = a.difference(b).cloned().collect();
            if !gone.is_empty() {
                out.push(Mutation::delete(column, Datum::Set(gone.into())));
            }
            if !new.is_empty() {
                out.push(Mutation::insert(column, Datum::Set(new.into())));
            }
        }
        (_, after) => {
            // No before value of the same kind (the column was read empty or absent): nothing
            // is known to delete, so every value of `after` is inserted.
            if !after.is_empty() {
                out.push(Mutation::insert(column, after.clone()));
            }
        }
    }
    out
}

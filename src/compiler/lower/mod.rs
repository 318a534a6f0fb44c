//! Turns a validated model into the desired rows: Northbound tables and, per chassis, the
//! `Open_vSwitch` settings and provider bridges.
//!
//! Lowering never fails: every user mistake is caught by `check`. Rows are keyed by natural
//! identity (`rows::identity`), reference each other by key, and carry the ownership mark.
//! Everything is ordered, so the same model gives the same rows.

mod chassis;
mod router;
mod switch;

use crate::ovsdb::{Atom, Datum};
use crate::rows::{Cell, Db, Row, RowKey, RowRef, State, Value, ownership};

use super::model::Model;

/// The rows that realise `model`.
pub fn lower(model: &Model) -> State {
    let mut cx = Lowering {
        stack: &model.stack,
        state: State::new(),
    };
    switch::lower(&mut cx, model);
    router::lower(&mut cx, model);
    chassis::lower(&mut cx, model);
    cx.state
}

struct Lowering<'a> {
    stack: &'a str,
    state: State,
}

impl Lowering<'_> {
    /// Inserts a row with the ownership mark added to its `external_ids`.
    fn insert(&mut self, db: Db, table: &str, key: RowKey, mut row: Row) {
        row.set("external_ids", self.mark());
        let previous = self.state.insert(db, table, key, row);
        debug_assert!(
            previous.is_none(),
            "invariant: check rejects duplicate {table} keys"
        );
    }

    fn mark(&self) -> Cell {
        Datum::map(
            ownership::mark(self.stack)
                .into_iter()
                .map(|(k, v)| (Value::from(k), Value::from(v))),
        )
    }

    fn nb(&mut self, table: &str, key: RowKey, row: Row) {
        self.insert(Db::Northbound, table, key, row);
    }
}

fn string(s: impl Into<String>) -> Cell {
    Datum::scalar(Value::Atom(Atom::String(s.into())))
}

fn integer(i: i64) -> Cell {
    Datum::scalar(Value::Atom(Atom::Integer(i)))
}

fn boolean(b: bool) -> Cell {
    Datum::scalar(Value::Atom(Atom::Boolean(b)))
}

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Cell {
    Datum::set(items.into_iter().map(|s| Value::from(s.into())))
}

fn map<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Cell {
    Datum::map(
        pairs
            .into_iter()
            .map(|(k, v)| (Value::from(k.into()), Value::from(v.into()))),
    )
}

fn reference(table: &str, key: RowKey) -> Value {
    Value::Ref(RowRef {
        table: table.to_owned(),
        key,
    })
}

fn references(table: &str, keys: impl IntoIterator<Item = RowKey>) -> Cell {
    Datum::set(keys.into_iter().map(|k| reference(table, k)))
}

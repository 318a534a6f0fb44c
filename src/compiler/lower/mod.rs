//! Turns a validated model into the desired state: Northbound rows and, per chassis, the
//! typed chassis section (`Open_vSwitch` settings, mappings and provider bridges).
//!
//! Lowering never fails: every user mistake is caught by `check`. Rows are keyed by natural
//! identity (`rows::identity`), reference each other by key, and carry the ownership mark.
//! Everything is ordered, so the same model gives the same rows.

mod chassis;
mod router;
mod services;
mod switch;

use crate::ovsdb::{Atom, Datum};
use crate::rows::{Cell, Db, Row, RowKey, RowRef, State, Value, ownership};

use super::model::Model;

/// The rows that realise `model`.
pub(crate) fn lower(model: &Model) -> State {
    let mut cx = Lowering {
        stack: &model.stack,
        state: State::new(),
    };
    switch::lower(&mut cx, model);
    router::lower(&mut cx, model);
    services::lower(&mut cx, model);
    chassis::lower(&mut cx, model);
    chassis::lower_vteps(&mut cx, model);
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
    Value::Ref(Box::new(RowRef {
        table: table.to_owned(),
        key,
    }))
}

fn references(table: &str, keys: impl IntoIterator<Item = RowKey>) -> Cell {
    Datum::set(keys.into_iter().map(|k| reference(table, k)))
}

#[cfg(test)]
mod tests {
    use crate::ovsdb::Datum;
    use crate::rows::{Db, RowKey, Value};

    fn compile(yaml: &str) -> crate::rows::State {
        let loaded = crate::spec::load_str("t.yaml", yaml);
        let (state, diags) = crate::compiler::compile(&loaded.topology);
        assert!(diags.items.is_empty(), "{diags:?}");
        state.expect("rows")
    }

    fn lsp(state: &crate::rows::State, name: &str) -> crate::rows::Row {
        state
            .get(&Db::Northbound, "Logical_Switch_Port", &RowKey::name(name))
            .cloned()
            .unwrap_or_else(|| panic!("no LSP {name}"))
    }

    #[test]
    fn router_ports_take_names_addresses_and_nat_addresses_as_written() {
        let state = compile(
            "name: s\nchassis:\n  gw: { encap: { type: geneve, ip: 10.0.0.1 }, bridge-mappings: { physnet: br-ex } }\n\
             switches:\n  ext:\n    ports:\n      ln: { type: localnet, network: physnet }\n  \
             int: {}\nrouters:\n  r:\n    chassis: gw\n    ports:\n      \
             - { switch: ext, ip: 10.0.1.1/24, name: lrp-ext, switch-port: ext-port, \
             switch-port-addresses: [\"00:00:00:00:00:07\"], nat-addresses: none }\n      \
             - { switch: int, ip: 10.0.2.1/24 }\n",
        );
        assert!(
            state
                .get(
                    &Db::Northbound,
                    "Logical_Router_Port",
                    &RowKey::name("lrp-ext")
                )
                .is_some()
        );
        let ext = lsp(&state, "ext-port");
        assert_eq!(
            ext.get("addresses"),
            Some(&Datum::set([Value::from("00:00:00:00:00:07")]))
        );
        assert_eq!(
            ext.get("options"),
            Some(&Datum::map([(
                Value::from("router-port"),
                Value::from("lrp-ext")
            )]))
        );
        // The defaults: derived names, `router` addresses.
        let int = lsp(&state, "int-r");
        assert_eq!(
            int.get("addresses"),
            Some(&Datum::set([Value::from("router")]))
        );
    }

    #[test]
    fn gateway_chassis_may_be_named_the_ovsdbapp_way() {
        let state = compile(
            "name: s\nchassis:\n  gw: { encap: { type: geneve, ip: 10.0.0.1 } }\n\
             switches:\n  ext: {}\nrouters:\n  r:\n    ports:\n      \
             - { switch: ext, ip: 10.0.1.1/24, gateway: { chassis: { gw: 5 }, names: ovsdbapp } }\n",
        );
        let gcs: Vec<String> = state
            .tables
            .get(&Db::Northbound)
            .and_then(|t| t.get("Gateway_Chassis"))
            .map(|rows| rows.keys().map(ToString::to_string).collect())
            .unwrap_or_default();
        assert_eq!(gcs, ["r-ext_gw"]);
    }

    #[test]
    fn a_peer_follows_the_other_sides_port_name() {
        let state = compile(
            "name: s\nswitches: {}\nrouters:\n  a:\n    ports:\n      \
             - { peer: b, ip: 10.0.0.1/30, name: a-to-b }\n  b:\n    ports:\n      \
             - { peer: a, ip: 10.0.0.2/30 }\n",
        );
        let b = state
            .get(&Db::Northbound, "Logical_Router_Port", &RowKey::name("b-a"))
            .expect("b-a");
        assert_eq!(b.get("peer"), Some(&Datum::scalar(Value::from("a-to-b"))));
    }
}

//! The self-check: the imported file compiled and planned against the read it came from.

use crate::ovsdb::Datum;
use crate::rows::live::Live;
use crate::rows::{Cell, State, Value, identity, ownership};

/// Compiles `yaml` and plans it against `live` as if every live row it names carried the
/// mark: what a plan would change after `--adopt`. Returns the compiled desired state (for
/// adopt) and a note per problem or change.
pub(crate) fn self_check(yaml: &str, live: &Live, stack: &str) -> (Option<State>, Vec<String>) {
    let loaded = crate::spec::load_str("imported.yaml", yaml);
    let (state, diags) = crate::compiler::compile(&loaded.topology);
    let mut notes: Vec<String> = diags
        .items
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        .map(|d| format!("the imported topology does not validate: {}", d.message))
        .collect();
    if loaded
        .diagnostics
        .items
        .iter()
        .any(|d| d.severity == crate::diagnostics::Severity::Error)
    {
        notes.push("the imported topology does not parse (a bug in topo import)".to_owned());
    }
    let Some(state) = state else {
        return (None, notes);
    };
    let adopted = adopted(&state, live, stack);
    let plan = crate::diff::plan(
        &state,
        &adopted,
        stack,
        crate::diff::Options { prune: false },
    );
    for c in &plan.changes {
        let cols: Vec<String> = c
            .columns
            .iter()
            .map(|col| {
                format!(
                    "{}: {} → {}",
                    col.column,
                    col.before
                        .as_ref()
                        .map_or("(none)".to_owned(), ToString::to_string),
                    col.after
                        .as_ref()
                        .map_or("(none)".to_owned(), ToString::to_string)
                )
            })
            .collect();
        notes.push(format!(
            "a plan of the import would {} {} {}{}",
            match c.action {
                crate::diff::Action::Create => "create",
                crate::diff::Action::Update => "update",
                crate::diff::Action::Delete => "delete",
            },
            c.table,
            c.key,
            if cols.is_empty() || c.action != crate::diff::Action::Update {
                String::new()
            } else {
                format!(" ({})", cols.join("; "))
            }
        ));
    }
    for c in &plan.conflicts {
        notes.push(format!("a plan of the import would conflict: {c:?}"));
    }
    (Some(state), notes)
}

/// `live` with the mark added to the `external_ids` of every row `desired` names.
fn adopted(desired: &State, live: &Live, stack: &str) -> Live {
    let mut out = live.clone();
    for (db, table, key, _) in desired.rows() {
        if let Some(row) = out.state.get_mut(db, table, key) {
            if ownership::owner(row).is_some_and(|o| o != stack) {
                continue;
            }
            let mut ids = row
                .get("external_ids")
                .and_then(Datum::as_map)
                .cloned()
                .unwrap_or_default();
            for (k, v) in ownership::mark(stack) {
                ids.insert(Value::from(k), Value::from(v));
            }
            if identity::rule(table) == Some(identity::Rule::Tagged) {
                ids.insert(
                    Value::from(identity::NAME_TAG),
                    Value::from(key.to_string()),
                );
            }
            row.set("external_ids", Cell::Map(ids));
        }
    }
    out
}

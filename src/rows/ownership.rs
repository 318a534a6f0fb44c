//! The ownership mark topo writes into `external_ids` of every row it creates.
//!
//! `topo:stack=<name>` says which stack owns a row; `topo:version=<n>` says which scheme wrote
//! the mark, so later versions can migrate marks they understand and refuse ones they don't.
//! topo never updates or deletes a row without its own stack's mark.

use super::{Row, Value};
use crate::ovsdb::Atom;

/// The column that carries the mark.
pub(crate) const COLUMN: &str = "external_ids";
/// Every key topo writes starts with this; other keys belong to other tools.
pub(crate) const PREFIX: &str = "topo:";

/// `external_ids` key naming the owning stack.
pub(crate) const STACK_KEY: &str = "topo:stack";
/// `external_ids` key naming the ownership scheme version.
pub(crate) const VERSION_KEY: &str = "topo:version";
/// The current ownership scheme.
pub(crate) const SCHEME_VERSION: &str = "1";

/// The `external_ids` entries that mark a row as owned by `stack`.
pub(crate) fn mark(stack: &str) -> [(String, String); 2] {
    [
        (STACK_KEY.to_owned(), stack.to_owned()),
        (VERSION_KEY.to_owned(), SCHEME_VERSION.to_owned()),
    ]
}

/// The stack that owns `row`, from its `external_ids`.
pub(crate) fn owner(row: &Row) -> Option<String> {
    let ids = row.get(COLUMN)?.as_map()?;
    ids.get(&Value::Atom(Atom::from(STACK_KEY)))
        .and_then(|v| match v {
            Value::Atom(Atom::String(s)) => Some(s.clone()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovsdb::Datum;

    #[test]
    fn mark_is_recognised() {
        let ids = mark("lab")
            .into_iter()
            .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str())));
        let row = Row {
            columns: [(COLUMN.to_owned(), Datum::map(ids))].into_iter().collect(),
        };
        assert_eq!(owner(&row).as_deref(), Some("lab"));
        assert_ne!(owner(&row).as_deref(), Some("other"));
        assert_eq!(owner(&Row::default()), None);
    }
}

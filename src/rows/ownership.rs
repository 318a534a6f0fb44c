//! The ownership mark topo writes into `external_ids` of every row it creates.
//!
//! `topo:stack=<name>` says which stack owns a row; `topo:version=<n>` says which scheme wrote
//! the mark, so later versions can migrate marks they understand and refuse ones they don't.
//! topo never updates or deletes a row without its own stack's mark.

use std::collections::BTreeMap;

use crate::ovsdb::Atom;

/// The column that carries the mark.
pub const COLUMN: &str = "external_ids";
/// Every key topo writes starts with this; other keys belong to other tools.
pub const PREFIX: &str = "topo:";

/// `external_ids` key naming the owning stack.
pub const STACK_KEY: &str = "topo:stack";
/// `external_ids` key naming the ownership scheme version.
pub const VERSION_KEY: &str = "topo:version";
/// The current ownership scheme.
pub const SCHEME_VERSION: &str = "1";

/// The `external_ids` entries that mark a row as owned by `stack`.
pub fn mark(stack: &str) -> [(String, String); 2] {
    [
        (STACK_KEY.to_owned(), stack.to_owned()),
        (VERSION_KEY.to_owned(), SCHEME_VERSION.to_owned()),
    ]
}

/// The stack that owns a row with these `external_ids`, if any.
pub fn owner(external_ids: &BTreeMap<Atom, Atom>) -> Option<&str> {
    external_ids
        .get(&Atom::from(STACK_KEY))
        .and_then(Atom::as_str)
}

/// Whether a row with these `external_ids` belongs to `stack`.
pub fn is_owned_by(external_ids: &BTreeMap<Atom, Atom>, stack: &str) -> bool {
    owner(external_ids) == Some(stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_is_recognised() {
        let ids: BTreeMap<Atom, Atom> = mark("lab")
            .into_iter()
            .map(|(k, v)| (Atom::from(k), Atom::from(v)))
            .collect();
        assert!(is_owned_by(&ids, "lab"));
        assert!(!is_owned_by(&ids, "other"));
        assert_eq!(owner(&BTreeMap::new()), None);
    }
}

//! Names of everything a lab creates, derived from a short random lab id, so two labs (or
//! parallel tests) never collide: namespaces are `topo-<id>-<kind>-<name>`; interfaces live
//! inside those namespaces under short fixed names.

/// Prefix of every namespace any lab creates.
pub(crate) const NETNS_PREFIX: &str = "topo-";

/// A fresh lab id: 6 lowercase hex digits.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..6].to_owned()
}

/// Namespace kinds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// NB/SB ovsdb-server and ovn-northd.
    Central,
    /// The underlay segment joining the chassis.
    Underlay,
    Chassis,
    Vm,
    /// A physical network's bridge.
    Network,
    /// An outside host on a physical network.
    Host,
    /// An emulated hardware VTEP.
    Vtep,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Central => "central",
            Kind::Underlay => "underlay",
            Kind::Chassis => "ch",
            Kind::Vm => "vm",
            Kind::Network => "net",
            Kind::Host => "host",
            Kind::Vtep => "vtep",
        }
    }
}

/// The namespace name of `name` of `kind` in lab `id`.
pub fn netns(id: &str, kind: Kind, name: &str) -> String {
    match kind {
        Kind::Central | Kind::Underlay => format!("{NETNS_PREFIX}{id}-{}", kind.tag()),
        _ => format!("{NETNS_PREFIX}{id}-{}-{name}", kind.tag()),
    }
}

/// Whether namespace `ns` belongs to lab `id`.
pub fn is_of_lab(id: &str, ns: &str) -> bool {
    ns.strip_prefix(NETNS_PREFIX)
        .and_then(|r| r.strip_prefix(id))
        .is_some_and(|r| r.starts_with('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_per_lab() {
        let a = new_id();
        assert_eq!(a.len(), 6);
        assert_eq!(netns("ab12cd", Kind::Chassis, "ch1"), "topo-ab12cd-ch-ch1");
        assert_eq!(netns("ab12cd", Kind::Central, ""), "topo-ab12cd-central");
        assert!(is_of_lab("ab12cd", "topo-ab12cd-vm-vm1"));
        assert!(!is_of_lab("ab12c", "topo-ab12cd-vm-vm1"));
        assert!(!is_of_lab("ab12cd", "other"));
    }
}

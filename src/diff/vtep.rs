//! The VTEP side of a plan: the stack's [`Wanted`](crate::rows::vtep::Wanted) against a
//! VTEP database's [`Current`], compared the same way for plan, drift and a saved plan's
//! staleness check. Pure.
//!
//! What counts is what `ovn-controller-vtep` and the switch would see: the physical switch
//! and its single tunnel address, the logical switches the bindings name, and each binding.
//! A binding the stack wrote (its port's ownership mark lists the VLAN) and no longer wants
//! is removed; bindings the topology does not name and the stack did not write (others',
//! the operator's) are no change.

use super::{BindingChange, VtepChange};
use crate::rows::vtep::{Current, Target};

/// What apply would change on `target`, whose database shows `current`; `None` when nothing.
pub(crate) fn change_of(target: &Target, current: &Current) -> Option<VtepChange> {
    let wanted = &target.wanted;
    let want_ips = vec![wanted.tunnel_ip.clone()];
    let tunnel_ips =
        (current.tunnel_ips != want_ips).then(|| (current.tunnel_ips.clone(), want_ips.clone()));
    let logical_switches_added: Vec<String> = wanted
        .logical_switches()
        .into_iter()
        .filter(|ls| !current.logical_switches.contains(ls))
        .collect();
    let mut bindings = Vec::new();
    let mut missing_ports = Vec::new();
    for (port, vlans) in &wanted.bindings {
        let have = current.ports.get(port);
        if have.is_none() {
            missing_ports.push(port.clone());
        }
        for (vlan, ls) in vlans {
            let before = have.and_then(|h| h.get(vlan)).cloned();
            if before.as_ref() != Some(ls) {
                bindings.push(BindingChange {
                    port: port.clone(),
                    vlan: *vlan,
                    before,
                    after: Some(ls.clone()),
                });
            }
        }
    }
    for (port, have) in &current.ports {
        let wanted_here = wanted.bindings.get(port);
        for vlan in current.owned(port, &target.stack) {
            if wanted_here.is_some_and(|w| w.contains_key(&vlan)) {
                continue;
            }
            if let Some(ls) = have.get(&vlan) {
                bindings.push(BindingChange {
                    port: port.clone(),
                    vlan,
                    before: Some(ls.clone()),
                    after: None,
                });
            }
        }
    }
    bindings.sort_by(|a, b| (&a.port, a.vlan).cmp(&(&b.port, b.vlan)));
    if current.switch_exists
        && tunnel_ips.is_none()
        && logical_switches_added.is_empty()
        && bindings.is_empty()
    {
        return None;
    }
    Some(VtepChange {
        vtep: target.name.clone(),
        remote: target.remote.clone(),
        switch_created: !current.switch_exists,
        tunnel_ips,
        logical_switches_added,
        bindings,
        missing_ports,
        tunnel_ip: wanted.tunnel_ip.clone(),
        stack: target.stack.clone(),
        wanted_bindings: wanted.bindings.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::rows::vtep::Wanted;

    fn target() -> Target {
        Target {
            name: "vtep1".into(),
            remote: "unix:/x".into(),
            stack: "s".into(),
            wanted: Wanted {
                tunnel_ip: "192.0.2.30".into(),
                bindings: BTreeMap::from([("p0".into(), BTreeMap::from([(0, "ls-a".into())]))]),
            },
        }
    }

    #[test]
    fn in_sync_is_no_change_and_others_bindings_are_kept() {
        let current = Current {
            switch_exists: true,
            tunnel_ips: vec!["192.0.2.30".into()],
            logical_switches: ["ls-a".to_owned(), "other".to_owned()].into(),
            ports: BTreeMap::from([(
                "p0".into(),
                BTreeMap::from([(0, "ls-a".into()), (7, "other".into())]),
            )]),
            marks: BTreeMap::from([(
                "p0".into(),
                BTreeMap::from([("topo:other-stack:vlan-bindings".into(), "7".into())]),
            )]),
        };
        assert_eq!(change_of(&target(), &current), None);
    }

    #[test]
    fn a_binding_the_stack_wrote_and_no_longer_wants_is_removed_others_stay() {
        let current = Current {
            switch_exists: true,
            tunnel_ips: vec!["192.0.2.30".into()],
            logical_switches: ["ls-a".to_owned(), "ls-b".to_owned(), "op".to_owned()].into(),
            ports: BTreeMap::from([
                (
                    "p0".into(),
                    BTreeMap::from([(0, "ls-a".into()), (5, "ls-b".into()), (9, "op".into())]),
                ),
                ("p1".into(), BTreeMap::from([(3, "ls-b".into())])),
            ]),
            marks: BTreeMap::from([
                (
                    "p0".into(),
                    BTreeMap::from([("topo:s:vlan-bindings".into(), "0,5".into())]),
                ),
                (
                    "p1".into(),
                    BTreeMap::from([("topo:s:vlan-bindings".into(), "3".into())]),
                ),
            ]),
        };
        let c = change_of(&target(), &current).expect("a change");
        let removed: Vec<(&str, i64, Option<&str>)> = c
            .bindings
            .iter()
            .map(|b| (b.port.as_str(), b.vlan, b.after.as_deref()))
            .collect();
        // VLAN 9 on p0 is the operator's (not in the mark): kept.
        assert_eq!(removed, vec![("p0", 5, None), ("p1", 3, None)]);
    }

    #[test]
    fn an_empty_database_needs_everything() {
        let c = change_of(&target(), &Current::default()).expect("a change");
        assert!(c.switch_created);
        assert_eq!(c.logical_switches_added, vec!["ls-a".to_owned()]);
        assert_eq!(c.missing_ports, vec!["p0".to_owned()]);
        assert_eq!(c.bindings.len(), 1);
        assert_eq!(c.bindings[0].before, None);
    }
}

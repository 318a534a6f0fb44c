//! The VTEP side of a plan: the stack's [`Wanted`](crate::rows::vtep::Wanted) against a
//! VTEP database's [`Current`], compared the same way for plan, drift and a saved plan's
//! staleness check. Pure.
//!
//! What counts is what `ovn-controller-vtep` and the switch would see: the physical switch
//! and its single tunnel address, the logical switches the bindings name, and each binding.
//! Bindings the topology does not name (others', the operator's) are no change: apply never
//! removes them.

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
                    after: ls.clone(),
                });
            }
        }
    }
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
        };
        assert_eq!(change_of(&target(), &current), None);
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

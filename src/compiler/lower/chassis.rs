//! The chassis section: what the topology wants in each chassis's own `Open_vSwitch`
//! database, as the typed [`Wanted`] value plan, drift and apply share (not rows: the
//! database is shared with whatever else runs on the chassis, so apply edits keys, entries
//! and set members one by one; `rows::chassis` says how, and what rows that makes).

use std::collections::BTreeMap;

use super::Lowering;
use crate::compiler::model::Model;
use crate::rows::chassis::{Declared, Wanted};

pub(super) fn lower(cx: &mut Lowering, model: &Model) {
    for (name, ch) in &model.chassis {
        let mut settings = BTreeMap::from([
            (
                "ovn-encap-type".to_owned(),
                ch.encap_type.as_str().to_owned(),
            ),
            ("ovn-encap-ip".to_owned(), ch.encap_ip.to_string()),
        ]);
        if let Some(r) = &ch.ovn_remote {
            settings.insert("ovn-remote".to_owned(), r.clone());
        }
        let wanted = Wanted {
            bridge_mappings: ch.bridge_mappings.clone(),
            bridges: ch.bridges.clone(),
            settings,
        };
        cx.state.chassis.insert(
            name.clone(),
            Declared {
                stack: model.stack.clone(),
                wanted,
                remote: ch.remote.clone(),
            },
        );
    }
}

/// The VTEP section: per physical switch, its tunnel address and VLAN bindings.
pub(super) fn lower_vteps(cx: &mut Lowering, model: &Model) {
    for (name, v) in &model.vteps {
        cx.state.vteps.insert(
            name.clone(),
            crate::rows::vtep::Declared {
                stack: model.stack.clone(),
                wanted: crate::rows::vtep::Wanted {
                    tunnel_ip: v.tunnel_ip.to_string(),
                    bindings: v.bindings.clone(),
                },
                remote: v.remote.clone(),
            },
        );
    }
}

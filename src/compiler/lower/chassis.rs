//! Chassis settings: the `Open_vSwitch` external_ids `ovn-controller` reads, and the
//! provider bridges (with their NIC ports) that `ovn-bridge-mappings` names.
//!
//! The `Open_vSwitch` row and its `bridges` set are shared with whatever else runs on the
//! chassis (br-int, operator bridges): it lists only what topo manages, and apply must add
//! these keys and members to the live row (mutate), never overwrite it. The live mappings
//! topo does not own are merged in at plan time (see `docs/topology.md`).

use std::collections::BTreeMap;

use super::{Lowering, map, references, string};
use crate::compiler::model::Model;

use crate::rows::{Db, Row, RowKey, identity};

pub(super) fn lower(cx: &mut Lowering, model: &Model) {
    for (name, ch) in &model.chassis {
        let db = Db::Chassis(name.clone());
        let mut ids: BTreeMap<String, String> = BTreeMap::from([
            ("system-id".to_owned(), name.clone()),
            (
                "ovn-encap-type".to_owned(),
                ch.encap_type.as_str().to_owned(),
            ),
            ("ovn-encap-ip".to_owned(), ch.encap_ip.to_string()),
        ]);
        if !ch.bridge_mappings.is_empty() {
            let mappings: Vec<String> = ch
                .bridge_mappings
                .iter()
                .map(|(net, br)| format!("{net}:{br}"))
                .collect();
            ids.insert("ovn-bridge-mappings".to_owned(), mappings.join(","));
        }
        if let Some(r) = &ch.ovn_remote {
            ids.insert("ovn-remote".to_owned(), r.clone());
        }
        for (k, v) in crate::rows::ownership::mark(&model.stack) {
            ids.insert(k, v);
        }
        let bridges: Vec<RowKey> = ch
            .bridges
            .keys()
            .map(|b| RowKey::name(b.as_str()))
            .collect();
        let mut ovs = Row::new().with("external_ids", map(ids));
        if !bridges.is_empty() {
            ovs.set("bridges", references("Bridge", bridges));
        }
        // Inserted directly: `insert` would replace the external_ids built above.
        cx.state.insert(
            db.clone(),
            "Open_vSwitch",
            RowKey::name(identity::SINGLETON),
            ovs,
        );

        for (bridge, nics) in &ch.bridges {
            // `ovs-vsctl add-br` gives a bridge its own internal port of the same name.
            let mut ports = vec![RowKey::name(bridge.as_str())];
            ports.extend(nics.iter().map(|n| RowKey::name(n.as_str())));
            cx.insert(
                db.clone(),
                "Bridge",
                RowKey::name(bridge.as_str()),
                Row::new()
                    .with("name", string(bridge.as_str()))
                    .with("ports", references("Port", ports)),
            );
            for (port, internal) in
                std::iter::once((bridge, true)).chain(nics.iter().map(|n| (n, false)))
            {
                cx.insert(
                    db.clone(),
                    "Port",
                    RowKey::name(port.as_str()),
                    Row::new().with("name", string(port.as_str())).with(
                        "interfaces",
                        references("Interface", [RowKey::name(port.as_str())]),
                    ),
                );
                let mut iface = Row::new().with("name", string(port.as_str()));
                if internal {
                    iface.set("type", string("internal"));
                }
                cx.insert(db.clone(), "Interface", RowKey::name(port.as_str()), iface);
            }
        }
    }
}

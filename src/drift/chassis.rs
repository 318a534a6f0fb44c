//! Drift on the chassis side, seen from the Southbound database: what the topology says
//! about chassis that the chassis themselves do not show. Pure.
//!
//! - a chassis of the topology that is not registered in the Southbound;
//! - a registered chassis whose `ovn-bridge-mappings` (as ovn-controller publishes them in
//!   `Chassis.other_config`) lack, or map elsewhere, a network the topology maps;
//! - a Gateway_Chassis, HA_Chassis or gateway router (`options:chassis`) of the topology that
//!   names a chassis absent from the Southbound.

use std::collections::BTreeMap;

use crate::live::southbound::SbChassis;
use crate::rows::{Db, State};

/// Findings, one sentence each, in a stable order, from the desired state (its chassis
/// section and Northbound rows) and the chassis the Southbound shows.
pub(crate) fn chassis_drift(desired: &State, sb: &[SbChassis]) -> Vec<String> {
    let sb: BTreeMap<&str, &SbChassis> = sb.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut out = Vec::new();
    for (name, declared) in &desired.chassis {
        let Some(registered) = sb.get(name.as_str()) else {
            out.push(format!("chassis {name} is not registered in the Southbound (is ovn-controller running there?)"));
            continue;
        };
        let live = registered.bridge_mappings();
        for (network, bridge) in &declared.wanted.bridge_mappings {
            match live.get(network) {
                Some(b) if b == bridge => {}
                Some(b) => out.push(format!("chassis {name} maps network {network} to {b}, the topology to {bridge}")),
                None => out.push(format!("chassis {name} does not map network {network} (the topology maps it to {bridge})")),
            }
        }
    }
    let Some(nb) = desired.tables.get(&Db::Northbound) else {
        return out;
    };
    let mut named = Vec::new();
    for table in ["Gateway_Chassis", "HA_Chassis"] {
        for (key, row) in nb.get(table).into_iter().flatten() {
            if let Some(ch) = row.text("chassis_name") {
                named.push((
                    format!("{} {key}", crate::diff::render::noun(table)),
                    ch.to_owned(),
                ));
            }
        }
    }
    for (key, row) in nb.get("Logical_Router").into_iter().flatten() {
        if let Some(ch) = row.map_text("options", "chassis") {
            named.push((format!("gateway router {key}"), ch.to_owned()));
        }
    }
    for (what, ch) in named {
        if !sb.contains_key(ch.as_str()) {
            out.push(format!(
                "{what} names chassis {ch}, which is not in the Southbound"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(text: &str) -> State {
        let loaded = crate::spec::load_str("t.yaml", text);
        let (model, diags) = crate::compiler::check(&loaded.topology);
        assert!(!diags.has_errors());
        crate::compiler::lower(&model.unwrap())
    }

    #[test]
    fn missing_chassis_and_mappings_are_reported() {
        let state = desired(
            "name: t\nchassis:\n  gw1: { encap: { type: geneve, ip: 172.17.0.1 }, bridge-mappings: { ext: br-ex } }\n  hv1: { encap: { type: geneve, ip: 172.17.0.2 } }\nrouters:\n  gw: { chassis: gw1 }\n",
        );
        let mut sb = vec![SbChassis {
            name: "gw1".to_owned(),
            published: BTreeMap::from([(
                "ovn-bridge-mappings".to_owned(),
                "physnet:br-p, ext:br-other".to_owned(),
            )]),
            ..SbChassis::default()
        }];
        let found = chassis_drift(&state, &sb);
        assert_eq!(
            found,
            vec![
                "chassis gw1 maps network ext to br-other, the topology to br-ex".to_owned(),
                "chassis hv1 is not registered in the Southbound (is ovn-controller running there?)".to_owned(),
            ]
        );
        sb.clear();
        let found = chassis_drift(&state, &sb);
        assert!(found.iter().any(|f| f == "gateway router gw names chassis gw1, which is not in the Southbound"), "{found:?}");
    }
}

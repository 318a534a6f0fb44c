//! Drift on the chassis side, seen from the Southbound database: what the topology says
//! about chassis that the chassis themselves do not show. Pure.
//!
//! - a chassis of the topology that is not registered in the Southbound;
//! - a registered chassis whose `ovn-bridge-mappings` (as ovn-controller publishes them in
//!   `Chassis.other_config`) lack, or map elsewhere, a network the topology maps;
//! - a Gateway_Chassis, HA_Chassis or gateway router (`options:chassis`) of the topology that
//!   names a chassis absent from the Southbound.

use std::collections::BTreeMap;

use crate::apply::chassis::parse_mappings;
use crate::compiler::Model;
use crate::rows::{Db, State};

/// A registered chassis as the Southbound shows it: its published bridge mappings.
pub type SbChassis = BTreeMap<String, String>;

/// Findings, one sentence each, in a stable order.
pub fn chassis_drift(
    model: &Model,
    desired: &State,
    sb: &BTreeMap<String, SbChassis>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, c) in &model.chassis {
        let Some(mappings) = sb.get(name) else {
            out.push(format!("chassis {name} is not registered in the Southbound (is ovn-controller running there?)"));
            continue;
        };
        let live = parse_mappings(
            mappings
                .get("ovn-bridge-mappings")
                .map_or("", String::as_str),
        );
        for (network, bridge) in &c.bridge_mappings {
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
        if !sb.contains_key(&ch) {
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

    fn model_of(text: &str) -> (Model, State) {
        let loaded = crate::spec::load_str("t.yaml", text);
        let (model, diags) = crate::compiler::check(&loaded.topology);
        assert!(!diags.has_errors());
        let model = model.unwrap();
        let state = crate::compiler::lower(&model);
        (model, state)
    }

    #[test]
    fn missing_chassis_and_mappings_are_reported() {
        let (model, state) = model_of(
            "name: t\nchassis:\n  gw1: { encap: { type: geneve, ip: 172.17.0.1 }, bridge-mappings: { ext: br-ex } }\n  hv1: { encap: { type: geneve, ip: 172.17.0.2 } }\nrouters:\n  gw: { chassis: gw1 }\n",
        );
        let mut sb = BTreeMap::new();
        sb.insert(
            "gw1".to_owned(),
            SbChassis::from([(
                "ovn-bridge-mappings".to_owned(),
                "ext:br-other,physnet:br-p".to_owned(),
            )]),
        );
        let found = chassis_drift(&model, &state, &sb);
        assert_eq!(
            found,
            vec![
                "chassis gw1 maps network ext to br-other, the topology to br-ex".to_owned(),
                "chassis hv1 is not registered in the Southbound (is ovn-controller running there?)".to_owned(),
            ]
        );
        sb.clear();
        let found = chassis_drift(&model, &state, &sb);
        assert!(found.iter().any(|f| f == "gateway router gw names chassis gw1, which is not in the Southbound"), "{found:?}");
    }
}

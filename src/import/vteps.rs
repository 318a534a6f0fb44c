//! Hardware VTEPs. A Southbound chassis that `ovn-controller-vtep` registered for a physical
//! switch (`other_config:is-vtep=true`) is a `vteps` entry, not a `chassis` one (it runs no
//! ovn-controller; topo writes its own `hardware_vtep` database): its tunnel IP from its
//! encap, and its ports' VLAN bindings from that database when the CLI could read it
//! ([`Input::vtep_bindings`](super::Input)). A binding to a VTEP logical switch that no `vtep`
//! port of the Northbound names for that switch is left out with a note, as the language
//! refuses it (`topo::vtep::unbound-logical-switch`).

use std::collections::BTreeSet;

use super::yaml::Node;
use super::{Cx, col_map, col_str};
use crate::live::southbound::SbChassis;

/// The VTEP logical switches the Northbound's `vtep` ports name on physical switch `vtep`.
fn named_logical_switches(cx: &Cx, vtep: &str) -> BTreeSet<String> {
    cx.nb("Logical_Switch_Port")
        .filter(|(_, row)| col_str(row, "type").as_deref() == Some("vtep"))
        .filter_map(|(_, row)| {
            let options = col_map(row, "options");
            (options.get("vtep-physical-switch").map(String::as_str) == Some(vtep))
                .then(|| options.get("vtep-logical-switch").cloned())
                .flatten()
        })
        .collect()
}

pub(super) fn vteps(cx: &mut Cx) -> Vec<(String, Node)> {
    let registered: Vec<SbChassis> = cx
        .input
        .chassis
        .unwrap_or_default()
        .iter()
        .filter(|c| c.is_vtep())
        .cloned()
        .collect();
    let mut out = Vec::new();
    for c in registered {
        let name = c.name.clone();
        let Some(ip) = c.encaps.first().map(|e| e.ip.clone()) else {
            cx.note(format!(
                "VTEP {name}: registered in the Southbound without an encap; not imported"
            ));
            continue;
        };
        let mut fields = vec![("tunnel-ip".to_owned(), Node::str(ip))];
        match cx.input.vtep_bindings.get(&name) {
            Some(ports) => {
                let named = named_logical_switches(cx, &name);
                let mut port_nodes = Vec::new();
                for (port, vlans) in ports {
                    let mut bindings = Vec::new();
                    for (vlan, ls) in vlans {
                        if named.contains(ls) {
                            bindings.push((vlan.to_string(), Node::str(ls.as_str())));
                        } else {
                            cx.note(format!(
                                "VTEP {name}: port {port} VLAN {vlan} is bound to VTEP logical \
                                 switch {ls}, which no vtep port of the Northbound names; not \
                                 imported"
                            ));
                        }
                    }
                    if !bindings.is_empty() {
                        port_nodes.push((
                            port.clone(),
                            Node::Flow(vec![("vlan-bindings".to_owned(), Node::Flow(bindings))]),
                        ));
                    }
                }
                if !port_nodes.is_empty() {
                    fields.push(("ports".to_owned(), Node::Map(port_nodes)));
                }
            }
            None => cx.note(format!(
                "VTEP {name}: its VLAN bindings are in its own hardware_vtep database, which was \
                 not read (give --lab, or a topo.toml target's [targets.<name>.vteps.{name}] \
                 remote); imported without `ports`"
            )),
        }
        out.push((name, Node::Map(fields)));
    }
    out
}

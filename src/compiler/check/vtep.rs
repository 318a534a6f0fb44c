//! Hardware VTEPs: the tunnel address, the management remote, and each VLAN binding, which
//! must name a VTEP logical switch that a `type: vtep` port ties to a logical switch.

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use crate::compiler::model::Vtep;
use crate::diagnostics::{Code, Diagnostic};
use crate::spec::types::PortType;

impl Checker<'_> {
    pub(super) fn vteps(&mut self) {
        let t = self.t;
        // (physical switch, VTEP logical switch) pairs the `type: vtep` ports name.
        let mut tied: BTreeSet<(String, String)> = BTreeSet::new();
        for (_, sw) in t.switches.iter() {
            for (_, p) in sw.value.ports.iter() {
                if p.value.ty.as_ref().map(|t| t.value) != Some(PortType::Vtep) {
                    continue;
                }
                if let (Some(ps), Some(ls)) =
                    (&p.value.vtep_physical_switch, &p.value.vtep_logical_switch)
                {
                    tied.insert((ps.value.clone(), ls.value.clone()));
                }
            }
        }
        for (name, vtep) in t.vteps.iter() {
            self.name("VTEP", name);
            let ip = self.ip(&vtep.tunnel_ip);
            if let Some(remote) = &vtep.remote {
                let ok = ["unix:", "tcp:", "ssl:"]
                    .iter()
                    .any(|p| remote.value.starts_with(p));
                if !ok {
                    self.push(
                        Diagnostic::error(
                            Code::ValueNotAllowed,
                            format!("`{}` is not an OVSDB remote", remote.value),
                        )
                        .at(remote.span, "expected `unix:`, `tcp:` or `ssl:`")
                        .help("write e.g. `tcp:192.0.2.30:6640`"),
                    );
                }
            }
            let mut bindings = BTreeMap::new();
            for (port, p) in vtep.ports.iter() {
                self.name("VTEP port", port);
                let mut vlans = BTreeMap::new();
                for (vlan, ls) in p.value.vlan_bindings.iter() {
                    self.name("VTEP logical switch", ls);
                    match vlan.value.parse::<i64>() {
                        Ok(v) if (0..=4095).contains(&v) => {
                            vlans.insert(v, ls.value.clone());
                        }
                        _ => self.push(
                            Diagnostic::error(
                                Code::ValueVlanRange,
                                format!("`{}` is not a VLAN", vlan.value),
                            )
                            .at(vlan.span, "expected a number from 0 to 4095")
                            .help("a binding is `VLAN: logical-switch`; 0 binds untagged frames"),
                        ),
                    }
                    if !tied.contains(&(name.value.clone(), ls.value.clone())) {
                        self.push(
                            Diagnostic::error(
                                Code::VtepUnboundLogicalSwitch,
                                format!(
                                    "no `type: vtep` port ties VTEP logical switch `{}` of `{}` to a logical switch",
                                    ls.value, name.value
                                ),
                            )
                            .at(ls.span, "bound here")
                            .help(format!(
                                "add a port `type: vtep` with `vtep-physical-switch: {}` and `vtep-logical-switch: {}` to the logical switch it extends",
                                name.value, ls.value
                            )),
                        );
                    }
                }
                bindings.insert(port.value.clone(), vlans);
            }
            if let Some(ip) = ip {
                self.model.vteps.insert(
                    name.value.clone(),
                    Vtep {
                        tunnel_ip: ip,
                        remote: vtep.remote.as_ref().map(|r| r.value.clone()),
                        bindings,
                    },
                );
            }
        }
    }
}

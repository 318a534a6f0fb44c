//! The Southbound outcome of an apply: what ovn-northd and the chassis made of it.
//!
//! After `--wait sb` every logical port topo wrote must have a `Port_Binding`, distributed
//! gateway ports their `cr-<lrp>` chassisredirect port, and gateway routers' ports must be
//! `l3gateway` bindings on the chassis the topology chose. After `--wait hv` the bindings
//! must also sit where the topology put them: VIFs with a chassis on that chassis, `cr-`
//! ports on the highest-priority gateway chassis (when that chassis is registered).
//!
//! This is the one place in apply that knows OVN's tables: it checks OVN's own outcome.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::{Error, WaitFor};
use crate::ovsdb::{Atom, Client, ColumnsExt};
use crate::rows::{Db, State, Value};

/// One Port_Binding as the checks need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Binding {
    pub kind: String,
    /// Name of the chassis it is bound to, if any.
    pub chassis: Option<String>,
    pub options: BTreeMap<String, String>,
}

/// Reads `Port_Binding` (by logical port) with chassis names resolved.
pub(crate) async fn read_bindings(sb: &Client) -> Result<BTreeMap<String, Binding>, Error> {
    let db = Db::Southbound.schema_name();
    // Both reads in flight at once on the one connection.
    let (chassis, bindings) = tokio::try_join!(
        crate::live::southbound::all(sb),
        sb.select(
            db,
            "Port_Binding",
            vec![],
            &["logical_port", "type", "chassis", "options"],
        ),
    )?;
    let chassis: BTreeMap<Uuid, String> = chassis
        .into_iter()
        .filter_map(|c| Some((c.uuid?, c.name)))
        .collect();
    let mut out = BTreeMap::new();
    for row in &bindings {
        let Some(port) = row.string("logical_port") else {
            continue;
        };
        out.insert(
            port.to_owned(),
            Binding {
                kind: row.string("type").unwrap_or_default().to_owned(),
                chassis: row.uuid("chassis").and_then(|u| chassis.get(&u).cloned()),
                options: row.string_map("options"),
            },
        );
    }
    Ok(out)
}

/// What the Southbound shows against the topology.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Findings {
    /// Wrong: a missing binding, a port on the wrong chassis.
    pub errors: Vec<String>,
    /// Not there yet: a VIF no interface has claimed (is the VM plugged in?), a `cr-` port
    /// waiting for BFD between the gateway chassis.
    pub pending: Vec<String>,
}

impl Findings {
    pub(crate) fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.pending.is_empty()
    }
}

/// What differs between the topology and the Southbound outcome, in words. Pure.
pub(crate) fn check(
    desired: &State,
    bindings: &BTreeMap<String, Binding>,
    wait: WaitFor,
) -> Findings {
    let mut problems = Vec::new();
    let mut pending = Vec::new();
    let Some(nb) = desired.tables.get(&Db::Northbound) else {
        return Findings::default();
    };
    let empty = BTreeMap::new();
    let table = |t: &str| nb.get(t).unwrap_or(&empty);
    let hv = wait == WaitFor::Hv;

    for (key, lsp) in table("Logical_Switch_Port") {
        let name = key.to_string();
        let Some(b) = bindings.get(&name) else {
            problems.push(format!("switch port {name} has no Port_Binding"));
            continue;
        };
        if let (true, Some(want)) = (
            hv,
            lsp.map_text("options", "requested-chassis")
                .map(str::to_owned),
        ) {
            match b.chassis.as_deref() {
                Some(on) if on == want => {}
                Some(on) => problems.push(format!("switch port {name} is bound to {on} instead of chassis {want}")),
                None => pending.push(format!(
                    "switch port {name} is not bound yet: no interface with external_ids:iface-id={name} on chassis {want}?"
                )),
            }
        }
    }

    // Gateway routers: their ports become l3gateway bindings on the router's chassis.
    let mut gateway_of_port: BTreeMap<String, String> = BTreeMap::new();
    for router in table("Logical_Router").values() {
        let Some(chassis) = router.map_text("options", "chassis").map(str::to_owned) else {
            continue;
        };
        for port in router
            .get("ports")
            .and_then(|c| c.as_set())
            .into_iter()
            .flatten()
        {
            if let Value::Ref(r) = port {
                gateway_of_port.insert(r.key.to_string(), chassis.clone());
            }
        }
    }
    let gateway_chassis = table("Gateway_Chassis");
    for (key, lrp) in table("Logical_Router_Port") {
        let name = key.to_string();
        let Some(b) = bindings.get(&name) else {
            problems.push(format!("router port {name} has no Port_Binding"));
            continue;
        };
        if let Some(chassis) = gateway_of_port.get(&name) {
            let on = b.options.get("l3gateway-chassis");
            if b.kind != "l3gateway" || on != Some(chassis) {
                problems.push(format!(
                    "router port {name} of a gateway router should be an l3gateway binding on {chassis}, \
                     found type {:?} on {}",
                    b.kind,
                    on.map_or("no chassis", String::as_str)
                ));
            }
        }
        let has_gc = lrp.get("gateway_chassis").is_some_and(|c| !c.is_empty());
        let has_ha = lrp.get("ha_chassis_group").is_some_and(|c| !c.is_empty());
        if !(has_gc || has_ha) {
            continue;
        }
        let cr = format!("cr-{name}");
        let Some(crb) = bindings.get(&cr) else {
            problems.push(format!(
                "distributed gateway port {name} has no {cr} chassisredirect binding"
            ));
            continue;
        };
        if hv && has_gc {
            // The highest-priority gateway chassis that is registered should hold it.
            let mut candidates: Vec<(i64, String)> = lrp
                .get("gateway_chassis")
                .and_then(|c| c.as_set())
                .into_iter()
                .flatten()
                .filter_map(|v| match v {
                    Value::Ref(r) => gateway_chassis.get(&r.key),
                    _ => None,
                })
                .filter_map(|gc| {
                    let prio = match gc.get("priority")?.as_scalar()? {
                        Value::Atom(Atom::Integer(i)) => *i,
                        _ => 0,
                    };
                    Some((prio, gc.text("chassis_name").map(str::to_owned)?))
                })
                .collect();
            candidates.sort();
            if let Some((_, want)) = candidates.last() {
                match crb.chassis.as_deref() {
                    Some(on) if on == want => {}
                    Some(on) => problems.push(format!(
                        "{cr} is bound to {on} instead of the highest-priority gateway chassis {want}"
                    )),
                    None => pending.push(format!(
                        "{cr} is not bound yet: the gateway chassis claim it once BFD is up between them"
                    )),
                }
            }
        }
    }
    Findings {
        errors: problems,
        pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovsdb::Datum;
    use crate::rows::{Row, RowKey, RowRef};

    fn s(v: &str) -> crate::rows::Cell {
        Datum::scalar(Value::from(v))
    }

    #[test]
    fn missing_and_misplaced_bindings_are_reported() {
        let mut desired = State::new();
        let nb = Db::Northbound;
        desired.insert(
            nb.clone(),
            "Logical_Switch_Port",
            RowKey::name("vm1"),
            Row::new().with("name", s("vm1")).with(
                "options",
                Datum::map([(Value::from("requested-chassis"), Value::from("hv1"))]),
            ),
        );
        desired.insert(
            nb.clone(),
            "Logical_Switch_Port",
            RowKey::name("vm2"),
            Row::new().with("name", s("vm2")),
        );
        desired.insert(
            nb.clone(),
            "Logical_Router",
            RowKey::name("gw"),
            Row::new()
                .with(
                    "options",
                    Datum::map([(Value::from("chassis"), Value::from("hv1"))]),
                )
                .with(
                    "ports",
                    Datum::set([Value::Ref(Box::new(RowRef {
                        table: "Logical_Router_Port".into(),
                        key: RowKey::name("gw-ext"),
                    }))]),
                ),
        );
        desired.insert(
            nb.clone(),
            "Logical_Router_Port",
            RowKey::name("gw-ext"),
            Row::new(),
        );
        let mut bindings = BTreeMap::new();
        bindings.insert(
            "vm1".to_owned(),
            Binding {
                kind: String::new(),
                chassis: Some("hv2".into()),
                options: BTreeMap::new(),
            },
        );
        bindings.insert(
            "gw-ext".to_owned(),
            Binding {
                kind: "patch".into(),
                chassis: None,
                options: BTreeMap::new(),
            },
        );

        let sb_only = check(&desired, &bindings, WaitFor::Sb).errors;
        assert_eq!(sb_only.len(), 2, "{sb_only:?}");
        assert!(sb_only[0].contains("vm2 has no Port_Binding"));
        assert!(sb_only[1].contains("l3gateway binding on hv1"));
        let hv = check(&desired, &bindings, WaitFor::Hv).errors;
        assert!(
            hv.iter()
                .any(|p| p.contains("vm1 is bound to hv2 instead of chassis hv1")),
            "{hv:?}"
        );
        // Not bound at all is pending (an unplugged VM), not wrong.
        bindings.get_mut("vm1").unwrap().chassis = None;
        let unplugged = check(&desired, &bindings, WaitFor::Hv);
        assert!(
            unplugged
                .pending
                .iter()
                .any(|p| p.contains("vm1 is not bound yet")),
            "{unplugged:?}"
        );
    }
}

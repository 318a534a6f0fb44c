//! Logical routers, their ports, gateway chassis, HA chassis groups, routes, policies, NAT.

use std::collections::BTreeMap;

use super::{Lowering, integer, map, reference, references, string, strings};
use crate::compiler::model::{Gateway, Link, Model};
use crate::compiler::naming::gateway_chassis_name;
use crate::ovsdb::Datum;
use crate::rows::{Row, RowKey, identity};

pub(super) fn lower(cx: &mut Lowering, model: &Model) {
    for (group, members) in &model.ha_groups {
        let mut keys = Vec::new();
        for (chassis, prio) in members {
            let key = identity::ha_chassis_key(group, chassis);
            keys.push(key.clone());
            let row = Row::new()
                .with("chassis_name", string(chassis.as_str()))
                .with("priority", integer(*prio));
            cx.nb("HA_Chassis", key, row);
        }
        let row = Row::new()
            .with("name", string(group.as_str()))
            .with("ha_chassis", references("HA_Chassis", keys));
        cx.nb("HA_Chassis_Group", RowKey::name(group.as_str()), row);
    }
    for (name, r) in &model.routers {
        let mut lrps = Vec::new();
        for (lrp, p) in &r.ports {
            lrps.push(RowKey::name(lrp.as_str()));
            let mut row = Row::new()
                .with("name", string(lrp.as_str()))
                .with("mac", string(p.mac.to_string()))
                .with(
                    "networks",
                    strings(p.networks.iter().map(ToString::to_string)),
                );
            if let Link::Peer { port, .. } = &p.link {
                row.set("peer", string(port.as_str()));
            }
            if !p.ipv6_ra.is_empty() {
                row.set("ipv6_ra_configs", map(p.ipv6_ra.clone()));
            }
            match &p.gateway {
                Some(Gateway::Chassis(prios)) => {
                    let mut gcs = Vec::new();
                    for (chassis, prio) in prios {
                        let gc = if p.ovsdbapp_gateway_names {
                            format!("{lrp}_{chassis}")
                        } else {
                            gateway_chassis_name(lrp, chassis)
                        };
                        gcs.push(RowKey::name(gc.as_str()));
                        let gc_row = Row::new()
                            .with("name", string(gc.as_str()))
                            .with("chassis_name", string(chassis.as_str()))
                            .with("priority", integer(*prio));
                        cx.nb("Gateway_Chassis", RowKey::name(gc), gc_row);
                    }
                    row.set("gateway_chassis", references("Gateway_Chassis", gcs));
                }
                Some(Gateway::HaGroup(g)) => row.set(
                    "ha_chassis_group",
                    Datum::set([reference("HA_Chassis_Group", RowKey::name(g.as_str()))]),
                ),
                None => {}
            }
            cx.nb("Logical_Router_Port", RowKey::name(lrp.as_str()), row);
        }

        let mut routes = Vec::new();
        for route in &r.routes {
            let prefix = route.prefix.to_string();
            let nexthop = route.nexthop.to_string();
            let policy = route.policy.map(|p| p.as_str());
            let key = identity::route_key(name, &prefix, &nexthop, policy);
            let mut row = Row::new()
                .with("ip_prefix", string(prefix))
                .with("nexthop", string(nexthop));
            if let Some(p) = policy {
                row.set("policy", string(p));
            }
            if let Some(op) = &route.output_port {
                row.set("output_port", string(op.as_str()));
            }
            routes.push(key.clone());
            cx.nb("Logical_Router_Static_Route", key, row);
        }

        let mut policies = Vec::new();
        for p in &r.policies {
            let key = identity::policy_key(name, p.priority, &p.matches);
            let mut row = Row::new()
                .with("priority", integer(p.priority))
                .with("match", string(p.matches.as_str()))
                .with("action", string(p.action.as_str()));
            match p.nexthops.as_slice() {
                [] => {}
                [one] => row.set("nexthop", string(one.to_string())),
                many => row.set("nexthops", strings(many.iter().map(ToString::to_string))),
            }
            policies.push(key.clone());
            cx.nb("Logical_Router_Policy", key, row);
        }

        let mut nats = Vec::new();
        for n in &r.nat {
            let ext = n.external_ip.to_string();
            let key = identity::nat_key(name, n.ty.as_str(), &ext, &n.logical_ip);
            let mut row = Row::new()
                .with("type", string(n.ty.as_str()))
                .with("external_ip", string(ext))
                .with("logical_ip", string(n.logical_ip.as_str()));
            if let Some(lp) = &n.logical_port {
                row.set("logical_port", string(lp.as_str()));
            }
            if let Some(m) = n.external_mac {
                row.set("external_mac", string(m.to_string()));
            }
            if let Some(gp) = &n.gateway_port {
                row.set(
                    "gateway_port",
                    Datum::set([reference("Logical_Router_Port", RowKey::name(gp.as_str()))]),
                );
            }
            nats.push(key.clone());
            cx.nb("NAT", key, row);
        }

        let mut row = Row::new()
            .with("name", string(name.as_str()))
            .with("ports", references("Logical_Router_Port", lrps))
            .with(
                "static_routes",
                references("Logical_Router_Static_Route", routes),
            )
            .with("policies", references("Logical_Router_Policy", policies))
            .with("nat", references("NAT", nats))
            .with(
                "load_balancer",
                references(
                    "Load_Balancer",
                    r.load_balancers.iter().map(|l| RowKey::name(l.as_str())),
                ),
            );
        let mut options = BTreeMap::new();
        if let Some(c) = &r.chassis {
            options.insert("chassis", c.clone());
        }
        if !options.is_empty() {
            row.set("options", map(options));
        }
        cx.nb("Logical_Router", RowKey::name(name.as_str()), row);
    }
}

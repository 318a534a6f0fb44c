//! A topology's lab: the [`LabSpec`] a topology file implies.
//!
//! - every chassis of the topology becomes a lab chassis with its encap IP;
//! - every `lab.networks` entry becomes a physical network with its hosts, wired to each
//!   chassis whose `bridge-mappings` maps it, through the NIC the chassis's `bridges` names;
//! - every VIF port with a `chassis` and a static MAC and IPv4 address becomes a VM, with its
//!   switch's prefix length and, as default route, the router port on that switch;
//! - the topology's `checks` become the lab's checks.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

use super::error::LabError;
use super::spec::{ChassisSpec, CheckSpec, Expect, LabSpec, NetworkSpec, VmSpec};
use crate::compiler::model::{Link, Model};
use crate::spec::types::{Expect as TopologyExpect, PortType};

/// The lab of a checked topology.
pub fn lab_spec(model: &Model) -> Result<LabSpec, LabError> {
    let v4 = |what: String, ip: IpAddr| match ip {
        IpAddr::V4(a) => Ok(a),
        IpAddr::V6(_) => Err(LabError::Spec(format!(
            "{what} {ip}: the lab runs IPv4 only"
        ))),
    };
    let mut chassis = Vec::new();
    for (name, c) in &model.chassis {
        chassis.push(ChassisSpec {
            name: name.clone(),
            encap_ip: v4(format!("chassis `{name}` encap"), c.encap_ip)?,
        });
    }

    let mut networks = Vec::new();
    for (name, net) in &model.lab {
        let IpNet::V4(subnet) = net.subnet else {
            return Err(LabError::Spec(format!(
                "lab network `{name}`: the lab runs IPv4 only"
            )));
        };
        let mut hosts = BTreeMap::new();
        for (host, ip) in &net.hosts {
            hosts.insert(host.clone(), v4(format!("host `{host}`"), *ip)?);
        }
        let mut mapped_on = BTreeMap::new();
        let mut nics = BTreeMap::new();
        for (ch, c) in &model.chassis {
            let Some(bridge) = c.bridge_mappings.get(name) else {
                continue;
            };
            mapped_on.insert(ch.clone(), bridge.clone());
            if let Some(nic) = c.bridges.get(bridge).and_then(|n| n.first()) {
                nics.insert(ch.clone(), nic.clone());
            }
        }
        // A tagged localnet puts the network's hosts on that VLAN (when all tags agree).
        let tags: std::collections::BTreeSet<i64> = model
            .switches
            .values()
            .flat_map(|s| s.ports.values())
            .filter(|p| p.kind == PortType::Localnet && p.network.as_deref() == Some(name.as_str()))
            .filter_map(|p| p.tag)
            .collect();
        let vlan = match tags.iter().collect::<Vec<_>>().as_slice() {
            [one] => u16::try_from(**one).ok(),
            _ => None,
        };
        networks.push(NetworkSpec {
            name: name.clone(),
            subnet,
            hosts,
            mapped_on,
            nics,
            vlan,
        });
    }

    let mut vms = Vec::new();
    for (switch_name, switch) in &model.switches {
        for (port, p) in &switch.ports {
            let (PortType::Vif, Some(ch), Some(mac)) = (p.kind, &p.chassis, &p.mac) else {
                continue;
            };
            let Some(ip) = p.ips.iter().find_map(|ip| match ip {
                IpAddr::V4(a) => Some(*a),
                IpAddr::V6(_) => None,
            }) else {
                continue;
            };
            let prefix = switch.subnet.map_or(24, |s| s.prefix_len());
            let ip = Ipv4Net::new(ip, prefix).map_err(|e| LabError::Spec(e.to_string()))?;
            vms.push(VmSpec {
                name: port.clone(),
                chassis: ch.clone(),
                mac: mac.to_string(),
                ip,
                gateway: gateway_on(model, switch_name, ip),
            });
        }
    }

    let checks = model
        .checks
        .iter()
        .map(|c| {
            let expect = match (c.expect, c.source_ip) {
                (TopologyExpect::Reachable, _) => Expect::Reachable,
                (TopologyExpect::Unreachable, _) => Expect::Unreachable,
                (TopologyExpect::SourceIp, Some(ip)) => {
                    Expect::SourceIp(v4(format!("check {} → {}", c.from, c.to), ip)?)
                }
                (TopologyExpect::SourceIp, None) => {
                    return Err(LabError::Spec(format!(
                        "check {} → {}: source-ip without an address",
                        c.from, c.to
                    )));
                }
            };
            Ok(CheckSpec {
                from: c.from.clone(),
                to: c.to.clone(),
                expect,
            })
        })
        .collect::<Result<Vec<_>, LabError>>()?;

    let spec = LabSpec {
        name: model.stack.clone(),
        underlay_prefix: underlay_prefix(&chassis),
        chassis,
        networks,
        vms,
        checks,
    };
    spec.validate()?;
    Ok(spec)
}

/// The address of a router port on `switch` whose network holds `ip`.
fn gateway_on(model: &Model, switch: &str, ip: Ipv4Net) -> Option<Ipv4Addr> {
    model
        .routers
        .values()
        .flat_map(|r| r.ports.values())
        .find_map(|p| {
            if p.link != Link::Switch(switch.to_owned()) {
                return None;
            }
            p.networks.iter().find_map(|n| match n {
                IpNet::V4(n) if n.contains(&ip.addr()) => Some(n.addr()),
                _ => None,
            })
        })
}

/// The longest prefix that holds every encap IP (at most /24, at least /8).
fn underlay_prefix(chassis: &[ChassisSpec]) -> u8 {
    let Some(first) = chassis.first() else {
        return 24;
    };
    (8..=24)
        .rev()
        .find(|len| {
            Ipv4Net::new(first.encap_ip, *len)
                .map(|n| n.trunc())
                .is_ok_and(|net| chassis.iter().all(|c| net.contains(&c.encap_ip)))
        })
        .unwrap_or(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_of(path: &str) -> Model {
        let loaded = crate::spec::load_paths(&[std::path::PathBuf::from(path)]);
        assert!(!loaded.diagnostics.has_errors(), "{path} loads");
        let (model, diags) = crate::compiler::check(&loaded.topology);
        assert!(!diags.has_errors(), "{path} checks");
        model.expect("a model")
    }

    #[test]
    fn the_gateway_router_example_becomes_a_lab() {
        let spec = lab_spec(&model_of("examples/topologies/gateway-router.yaml")).unwrap();
        assert_eq!(spec.chassis.len(), 2);
        let net = spec
            .networks
            .iter()
            .find(|n| n.name == "externalnet")
            .unwrap();
        assert_eq!(
            net.mapped_on.get("master").map(String::as_str),
            Some("br-ens8")
        );
        assert_eq!(net.nics.get("master").map(String::as_str), Some("ens8"));
        let vm = spec.vms.iter().find(|v| v.name == "ls1-vm1").unwrap();
        assert_eq!(vm.ip.to_string(), "10.10.10.2/24");
        assert_eq!(vm.gateway, Some(Ipv4Addr::new(10, 10, 10, 1)));
        assert!(!spec.checks.is_empty());
    }

    #[test]
    fn every_example_makes_a_valid_lab() {
        for entry in std::fs::read_dir("examples/topologies").unwrap() {
            let path = entry.unwrap().path();
            let spec = lab_spec(&model_of(path.to_str().unwrap()));
            assert!(spec.is_ok(), "{}: {:?}", path.display(), spec.err());
        }
    }
}

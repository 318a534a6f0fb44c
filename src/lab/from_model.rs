//! Building a [`LabSpec`] from a checked topology ([`crate::compiler::Model`]): the chassis
//! and their encap IPs, `lab.networks` with the chassis whose `bridge-mappings` name them
//! (the NIC is the first port the topology lists for that provider bridge, e.g. `ens8` of
//! `bridges: { br-ens8: [ens8] }`), every VIF port with a `chassis` as a VM (its MAC, IP,
//! prefix and default route from the router port on its switch), and the `checks`.
//! A port with `dynamic` addresses gets a VM without an address: OVN picks it at apply time,
//! and the VM takes it then (`lab::dynamic`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

use super::error::LabError;
use super::spec::{
    Balanced, ChassisSpec, CheckSpec, DEFAULT_CONNECTIONS, DhcpExpect, Expect, LabSpec,
    NetworkSpec, VmSpec, VtepSpec,
};
use crate::compiler::model::{Link, Model};
use crate::spec::types::{Expect as TopoExpect, PortType};

fn v4(ip: IpAddr, what: &str) -> Result<Ipv4Addr, LabError> {
    match ip {
        IpAddr::V4(a) => Ok(a),
        IpAddr::V6(_) => Err(LabError::Spec(format!(
            "{what} {ip}: the lab supports IPv4 only"
        ))),
    }
}

/// The longest prefix (at most /24) whose network holds every encap IP.
fn underlay_prefix(ips: &[Ipv4Addr]) -> u8 {
    let Some(first) = ips.first() else { return 24 };
    (8..=24)
        .rev()
        .find(|p| {
            Ipv4Net::new(*first, *p)
                .map(|n| n.trunc())
                .is_ok_and(|n| ips.iter().all(|ip| n.contains(ip)))
        })
        .unwrap_or(8)
}

/// The VLAN of each host of physical network `network`: the `tag` of the localnet port on
/// that network whose switch subnet holds the host's address, or the one tag all of the
/// network's localnet ports share.
fn host_vlans(
    model: &Model,
    network: &str,
    hosts: &BTreeMap<String, Ipv4Addr>,
) -> BTreeMap<String, u16> {
    let localnets: Vec<(Option<Ipv4Net>, Option<u16>)> = model
        .switches
        .values()
        .flat_map(|sw| sw.ports.values().map(move |p| (sw.subnet, p)))
        .filter(|(_, p)| p.kind == PortType::Localnet && p.network.as_deref() == Some(network))
        .map(|(subnet, p)| (subnet, p.tag.and_then(|t| u16::try_from(t).ok())))
        .collect();
    let shared = match localnets.first() {
        Some((_, tag)) if localnets.iter().all(|(_, t)| t == tag) => *tag,
        _ => None,
    };
    hosts
        .iter()
        .filter_map(|(h, ip)| {
            let tag = localnets
                .iter()
                .find(|(subnet, _)| subnet.is_some_and(|s| s.contains(ip)))
                .map_or(shared, |(_, tag)| *tag)?;
            Some((h.clone(), tag))
        })
        .collect()
}

impl LabSpec {
    /// The lab that brings `model` to life. Fails on what the lab cannot build (IPv6-only
    /// addresses, a VM without a MAC or a static IPv4 address).
    pub fn from_model(model: &Model) -> Result<LabSpec, LabError> {
        let mut chassis = Vec::new();
        for (name, c) in &model.chassis {
            chassis.push(ChassisSpec {
                name: name.clone(),
                encap_ip: v4(c.encap_ip, &format!("chassis `{name}` encap IP"))?,
            });
        }
        let mut encaps: Vec<Ipv4Addr> = chassis.iter().map(|c| c.encap_ip).collect();

        let mut vteps = Vec::new();
        for (name, v) in &model.vteps {
            let tunnel_ip = v4(v.tunnel_ip, &format!("VTEP `{name}` tunnel IP"))?;
            encaps.push(tunnel_ip);
            let mut hosts = BTreeMap::new();
            for (h, host) in model.lab_vtep_hosts.iter().filter(|(_, h)| &h.vtep == name) {
                let IpNet::V4(ip) = host.ip else {
                    return Err(LabError::Spec(format!(
                        "lab host `{h}`: the lab supports IPv4 only"
                    )));
                };
                hosts.insert(h.clone(), (host.port.clone(), ip));
            }
            vteps.push(VtepSpec {
                name: name.clone(),
                tunnel_ip,
                ports: v.bindings.keys().cloned().collect(),
                hosts,
            });
        }

        let mut networks = Vec::new();
        for (name, net) in &model.lab {
            let IpNet::V4(subnet) = net.subnet else {
                return Err(LabError::Spec(format!(
                    "lab network `{name}`: the lab supports IPv4 subnets only"
                )));
            };
            let mut hosts = BTreeMap::new();
            for (h, ip) in &net.hosts {
                hosts.insert(h.clone(), v4(*ip, &format!("lab host `{h}`"))?);
            }
            let mut mapped_on = BTreeMap::new();
            let mut nics = BTreeMap::new();
            for (ch, c) in &model.chassis {
                if let Some(bridge) = c.bridge_mappings.get(name) {
                    mapped_on.insert(ch.clone(), bridge.clone());
                    if let Some(nic) = c.bridges.get(bridge).and_then(|n| n.first()) {
                        nics.insert(ch.clone(), nic.clone());
                    }
                }
            }
            let vlans = host_vlans(model, name, &hosts);
            // The hosts' default route: the first router port address on this network.
            let gateway = model
                .routers
                .values()
                .flat_map(|r| r.ports.values())
                .flat_map(|p| p.networks.iter())
                .find_map(|n| match n {
                    IpNet::V4(n) if subnet.contains(&n.addr()) => Some(n.addr()),
                    _ => None,
                });
            networks.push(NetworkSpec {
                name: name.clone(),
                subnet,
                hosts,
                mapped_on,
                nics,
                vlans,
                gateway,
            });
        }

        let mut vms = Vec::new();
        for (switch_name, switch) in &model.switches {
            // The router ports on this switch: (address with prefix).
            let gateways: Vec<Ipv4Net> = model
                .routers
                .values()
                .flat_map(|r| r.ports.values())
                .filter(|p| matches!(&p.link, Link::Switch(s) if s == switch_name))
                .flat_map(|p| p.networks.iter())
                .filter_map(|n| match n {
                    IpNet::V4(n) => Some(*n),
                    IpNet::V6(_) => None,
                })
                .collect();
            for (port, p) in &switch.ports {
                let Some(ch) = &p.chassis else { continue };
                if p.kind != PortType::Vif {
                    continue;
                }
                if p.dynamic {
                    // OVN assigns the address at apply time: the VM learns it then.
                    let Some(subnet) = switch.subnet else {
                        return Err(LabError::Spec(format!(
                            "port `{port}` on chassis `{ch}` has dynamic addresses but switch `{switch_name}` has no IPv4 `subnet`"
                        )));
                    };
                    vms.push(VmSpec {
                        name: port.clone(),
                        chassis: ch.clone(),
                        mac: p.mac.as_ref().map(ToString::to_string).unwrap_or_default(),
                        ip: Ipv4Net::new(Ipv4Addr::UNSPECIFIED, subnet.prefix_len())
                            .map_err(|e| LabError::Spec(e.to_string()))?,
                        gateway: gateways
                            .iter()
                            .find(|n| n.trunc() == subnet.trunc())
                            .map(|n| n.addr()),
                        dynamic: true,
                    });
                    continue;
                }
                let mac = p.mac.as_ref().ok_or_else(|| {
                    LabError::Spec(format!(
                        "port `{port}` on chassis `{ch}` needs a `mac` for the lab"
                    ))
                })?;
                let ip = p
                    .ips
                    .iter()
                    .find_map(|ip| match ip {
                        IpAddr::V4(a) => Some(*a),
                        IpAddr::V6(_) => None,
                    })
                    .ok_or_else(|| {
                        LabError::Spec(format!(
                            "port `{port}` on chassis `{ch}` needs a static IPv4 `ip` for the lab"
                        ))
                    })?;
                let router = gateways.iter().find(|n| n.contains(&ip));
                let prefix = router
                    .map(|n| n.prefix_len())
                    .or_else(|| {
                        switch
                            .subnet
                            .filter(|s| s.contains(&ip))
                            .map(|s| s.prefix_len())
                    })
                    .unwrap_or(24);
                vms.push(VmSpec {
                    name: port.clone(),
                    chassis: ch.clone(),
                    mac: mac.to_string(),
                    ip: Ipv4Net::new(ip, prefix).map_err(|e| LabError::Spec(e.to_string()))?,
                    gateway: router.map(|n| n.addr()),
                    dynamic: false,
                });
            }
        }

        let mut checks = Vec::new();
        for c in &model.checks {
            let label = || format!("check {} -> {}", c.from, c.to);
            let v4_opt = |ip: Option<IpAddr>, what: &str| ip.map(|ip| v4(ip, what)).transpose();
            let expect = match c.expect {
                TopoExpect::Reachable => Expect::Reachable,
                TopoExpect::Unreachable => Expect::Unreachable,
                TopoExpect::SourceIp => {
                    let ip = c.source_ip.ok_or_else(|| {
                        LabError::Spec(format!("{}: `source-ip` needs the address", label()))
                    })?;
                    Expect::SourceIp(v4(ip, "source-ip")?)
                }
                TopoExpect::Dhcp => Expect::Dhcp(DhcpExpect {
                    address: v4_opt(c.address, "dhcp address")?,
                    router: v4_opt(c.router, "dhcp router")?,
                    dns: v4_opt(c.dns, "dhcp dns")?,
                }),
                TopoExpect::Balanced => Expect::Balanced(Balanced {
                    backends: c.backends.clone(),
                    backend_port: c.backend_port,
                    connections: c.connections.unwrap_or(DEFAULT_CONNECTIONS),
                    stop_backend: c.stop_backend.clone(),
                }),
            };
            checks.push(CheckSpec {
                name: c.name.clone(),
                from: c.from.clone(),
                to: c.to.clone(),
                expect,
                port: c.port,
            });
        }

        let spec = LabSpec {
            name: if model.stack.is_empty() {
                "lab".into()
            } else {
                model.stack.clone()
            },
            underlay_prefix: underlay_prefix(&encaps),
            chassis,
            networks,
            vms,
            checks,
            vteps,
        };
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(path: &str) -> Model {
        let loaded = crate::spec::load_paths(&[std::path::PathBuf::from(path)]);
        assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
        let (model, diags) = crate::compiler::check(&loaded.topology);
        model.unwrap_or_else(|| panic!("{diags:?}"))
    }

    #[test]
    fn the_seed_gateway_router_becomes_a_lab() {
        let spec = LabSpec::from_model(&model("examples/topologies/gateway-router.yaml")).unwrap();
        assert_eq!(spec.chassis.len(), 2);
        assert_eq!(spec.underlay_prefix, 24);
        let net = &spec.networks[0];
        assert_eq!(net.name, "externalnet");
        assert_eq!(net.mapped_on["master"], "br-ens8");
        assert_eq!(net.nics["master"], "ens8");
        assert_eq!(net.hosts["client"], Ipv4Addr::new(10, 10, 40, 10));
        let vm = spec.vms.iter().find(|v| v.name == "ls2-vm1").unwrap();
        assert_eq!(vm.chassis, "node1");
        assert_eq!(vm.ip.to_string(), "10.10.20.2/24");
        assert_eq!(vm.gateway, Some(Ipv4Addr::new(10, 10, 20, 1)));
        assert_eq!(vm.mac, "00:00:00:00:00:03");
        assert!(
            spec.checks
                .iter()
                .any(|c| c.expect == Expect::SourceIp(Ipv4Addr::new(10, 10, 40, 1)))
        );
        // `to` may be a plain address.
        assert!(spec.checks.iter().any(|c| c.to == "10.10.10.2"));
    }

    const SERVICES: &str = r#"
name: s
chassis:
  hv1: { encap: { type: geneve, ip: 172.17.42.20 } }
switches:
  ls1:
    subnet: 10.0.0.0/24
    ports:
      vm1: { mac: "00:00:00:00:00:01", ip: 10.0.0.11, chassis: hv1 }
      web1: { mac: "00:00:00:00:00:02", ip: 10.0.0.12, chassis: hv1 }
      web2: { mac: "00:00:00:00:00:03", ip: 10.0.0.13, chassis: hv1 }
routers:
  lr1:
    ports:
      - { switch: ls1, ip: 10.0.0.1/24 }
checks:
  - { name: ssh, from: vm1, to: web1, expect: reachable, port: 22/tcp }
  - { name: lease, from: vm1, expect: dhcp, dns: 10.0.0.53 }
  - { name: web, from: vm1, to: 172.16.0.10, port: 80/tcp, expect: balanced,
      backends: [web1, web2], backend-port: 8080, stop-backend: web2 }
"#;

    #[test]
    fn port_dhcp_and_balanced_checks_reach_the_lab() {
        let loaded = crate::spec::load_str("s.yaml", SERVICES);
        let (model, diags) = crate::compiler::check(&loaded.topology);
        let model = model.unwrap_or_else(|| panic!("{diags:?}"));
        let spec = LabSpec::from_model(&model).unwrap();
        let c = &spec.checks;
        assert_eq!(c[0].name.as_deref(), Some("ssh"));
        assert_eq!(c[0].port.map(|p| p.to_string()).as_deref(), Some("22/tcp"));
        assert_eq!(
            c[1].expect,
            Expect::Dhcp(DhcpExpect {
                address: None,
                router: None,
                dns: Some(Ipv4Addr::new(10, 0, 0, 53)),
            })
        );
        assert!(c[1].to.is_empty());
        assert_eq!(
            c[2].expect,
            Expect::Balanced(Balanced {
                backends: vec!["web1".into(), "web2".into()],
                backend_port: Some(8080),
                connections: DEFAULT_CONNECTIONS,
                stop_backend: Some("web2".into()),
            })
        );
    }

    #[test]
    fn check_fields_on_the_wrong_kind_are_refused() {
        for (from, to, code) in [
            (
                "from: vm1, expect: dhcp, dns",
                "from: vm1, to: web1, expect: reachable, dns",
                "topo::value::not-allowed",
            ),
            (
                "{ name: lease, from: vm1, expect: dhcp",
                "{ name: lease, from: vm1, to: web1, expect: dhcp",
                "topo::value::not-allowed",
            ),
            (
                "backends: [web1, web2], backend-port: 8080, stop-backend: web2",
                "backends: [web1], backend-port: 8080",
                "topo::value::missing",
            ),
            (
                "stop-backend: web2",
                "stop-backend: vm1",
                "topo::ref::unknown-endpoint",
            ),
            ("port: 22/tcp", "port: 22/icmp", "topo::check::bad-port"),
            ("name: web,", "name: ssh,", "topo::name::duplicate"),
        ] {
            let text = SERVICES.replace(from, to);
            assert_ne!(text, SERVICES, "{from}");
            let loaded = crate::spec::load_str("s.yaml", &text);
            let (_, diags) = crate::compiler::check(&loaded.topology);
            let codes: Vec<&str> = diags.items.iter().map(|d| d.code.as_str()).collect();
            assert_eq!(codes, [code], "{to}");
        }
    }

    #[test]
    fn every_example_topology_becomes_a_lab() {
        let mut seen = 0;
        for entry in std::fs::read_dir("examples/topologies").unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let p = path.to_str().unwrap();
                LabSpec::from_model(&model(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
                seen += 1;
            }
        }
        assert!(seen >= 5);
    }

    #[test]
    fn hosts_behind_a_tagged_localnet_sit_on_its_vlan() {
        let spec = LabSpec::from_model(&model("examples/topologies/vlan-provider.yaml")).unwrap();
        let net = &spec.networks[0];
        assert_eq!(net.vlans["gateway"], 100);
        assert_eq!(net.nics["hv1"], "eth1");
    }

    #[test]
    fn underlay_prefix_covers_every_encap() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(
            underlay_prefix(&[ip("172.17.42.160"), ip("172.17.42.161")]),
            24
        );
        assert_eq!(underlay_prefix(&[ip("172.17.42.1"), ip("172.17.43.1")]), 23);
        assert_eq!(underlay_prefix(&[ip("172.17.42.1"), ip("172.17.44.1")]), 21);
        assert_eq!(underlay_prefix(&[]), 24);
    }
}

//! Building a [`LabSpec`] from a checked topology ([`crate::compiler::Model`]): the chassis
//! and their encap IPs, `lab.networks` with the chassis whose `bridge-mappings` name them
//! (the NIC is the first port the topology lists for that provider bridge, e.g. `ens8` of
//! `bridges: { br-ens8: [ens8] }`), every VIF port with a `chassis` as a VM (its MAC, IP,
//! prefix and default route from the router port on its switch; the same for each IPv6
//! address), hosts with their IPv4 and IPv6 addresses, and the `checks`.
//! A port with `dynamic` addresses gets a VM without an address: OVN picks it at apply time,
//! and the VM takes its IPv4 address then (`lab::dynamic`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

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
    /// VMs and hosts, a VM without a MAC or a static IPv4 address).
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
            let mut ipv6_hosts = BTreeMap::new();
            for (h, ips) in &net.hosts {
                let ip = ips
                    .iter()
                    .find_map(|ip| match ip {
                        IpAddr::V4(a) => Some(*a),
                        IpAddr::V6(_) => None,
                    })
                    .ok_or_else(|| {
                        LabError::Spec(format!("lab host `{h}` needs an IPv4 address for the lab"))
                    })?;
                hosts.insert(h.clone(), ip);
                let v6: Vec<Ipv6Addr> = ips
                    .iter()
                    .filter_map(|ip| match ip {
                        IpAddr::V6(a) => Some(*a),
                        IpAddr::V4(_) => None,
                    })
                    .collect();
                if !v6.is_empty() {
                    ipv6_hosts.insert(h.clone(), v6);
                }
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
            // The hosts' default routes: the first router port address on this network, of
            // each family.
            let router_nets = || {
                model
                    .routers
                    .values()
                    .flat_map(|r| r.ports.values())
                    .flat_map(|p| p.networks.iter())
            };
            let gateway = router_nets().find_map(|n| match n {
                IpNet::V4(n) if subnet.contains(&n.addr()) => Some(n.addr()),
                _ => None,
            });
            let ipv6_gateway = router_nets().find_map(|n| match n {
                IpNet::V6(n) if net.ipv6_prefix.is_some_and(|p| p.contains(&n.addr())) => {
                    Some(n.addr())
                }
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
                ipv6_prefix: net.ipv6_prefix,
                ipv6_hosts,
                ipv6_gateway,
            });
        }

        let mut vms = Vec::new();
        for (switch_name, switch) in &model.switches {
            // The router ports on this switch: (address with prefix).
            let router_nets: Vec<&IpNet> = model
                .routers
                .values()
                .flat_map(|r| r.ports.values())
                .filter(|p| matches!(&p.link, Link::Switch(s) if s == switch_name))
                .flat_map(|p| p.networks.iter())
                .collect();
            let gateways: Vec<Ipv4Net> = router_nets
                .iter()
                .filter_map(|n| match n {
                    IpNet::V4(n) => Some(*n),
                    IpNet::V6(_) => None,
                })
                .collect();
            let gateways6: Vec<Ipv6Net> = router_nets
                .iter()
                .filter_map(|n| match n {
                    IpNet::V6(n) => Some(*n),
                    IpNet::V4(_) => None,
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
                        // OVN's dynamic IPv6 (from `ipv6-prefix`) is not taken by the lab.
                        ipv6: Vec::new(),
                        ipv6_gateway: None,
                        dynamic: true,
                    });
                    continue;
                }
                if !model.chassis.contains_key(ch) {
                    return Err(LabError::Spec(format!(
                        "port `{port}` is bound to chassis `{ch}`, which is `managed: false`: \
                         the lab starts only the chassis the stack configures (give `{ch}` an \
                         `encap`, or bind the port elsewhere)"
                    )));
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
                // IPv6: each address with the prefix of the router port or the switch's
                // `ipv6-prefix` holding it (else /64), the default route via the router port.
                let mut ipv6 = Vec::new();
                let mut ipv6_gateway = None;
                for a in p.ips.iter().filter_map(|ip| match ip {
                    IpAddr::V6(a) => Some(*a),
                    IpAddr::V4(_) => None,
                }) {
                    let router = gateways6.iter().find(|n| n.contains(&a));
                    let prefix = router
                        .map(|n| n.prefix_len())
                        .or_else(|| {
                            switch
                                .ipv6_prefix
                                .filter(|s| s.contains(&a))
                                .map(|s| s.prefix_len())
                        })
                        .unwrap_or(64);
                    ipv6.push(Ipv6Net::new(a, prefix).map_err(|e| LabError::Spec(e.to_string()))?);
                    ipv6_gateway = ipv6_gateway.or(router.map(|n| n.addr()));
                }
                vms.push(VmSpec {
                    name: port.clone(),
                    chassis: ch.clone(),
                    mac: mac.to_string(),
                    ip: Ipv4Net::new(ip, prefix).map_err(|e| LabError::Spec(e.to_string()))?,
                    gateway: router.map(|n| n.addr()),
                    ipv6,
                    ipv6_gateway,
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
                    Expect::SourceIp(ip)
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
                .any(|c| c.expect == Expect::SourceIp(Ipv4Addr::new(10, 10, 40, 1).into()))
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
    fn dual_stack_vms_and_hosts_get_their_ipv6_addresses_and_routes() {
        let spec = LabSpec::from_model(&model("examples/topologies/dual-stack.yaml")).unwrap();
        let vm = spec.vms.iter().find(|v| v.name == "ls2-vm1").unwrap();
        assert_eq!(vm.ip.to_string(), "10.10.20.2/24");
        let v6: Vec<String> = vm.ipv6.iter().map(ToString::to_string).collect();
        assert_eq!(v6, ["fd00:20::2/64"]);
        assert_eq!(vm.ipv6_gateway, Some("fd00:20::1".parse().unwrap()));
        let net = &spec.networks[0];
        assert_eq!(net.hosts["client"], Ipv4Addr::new(10, 10, 40, 10));
        assert_eq!(
            net.ipv6_hosts["client"],
            ["fd00:40::10".parse::<Ipv6Addr>().unwrap()]
        );
        assert_eq!(net.ipv6_prefix, Some("fd00:40::/64".parse().unwrap()));
        assert_eq!(net.gateway, Some(Ipv4Addr::new(10, 10, 40, 1)));
        assert_eq!(net.ipv6_gateway, Some("fd00:40::1".parse().unwrap()));
        let snat = spec
            .checks
            .iter()
            .find(|c| c.name.as_deref() == Some("snat-v6"))
            .unwrap();
        assert_eq!(snat.expect, Expect::SourceIp("fd00:40::1".parse().unwrap()));
        // An IPv6 `to` that is an endpoint's address is that endpoint.
        assert_eq!(
            spec.owner_of("fd00:20::2".parse().unwrap()),
            Some("ls2-vm1")
        );
        assert_eq!(
            spec.owner_of("fd00:40::10".parse().unwrap()),
            Some("client")
        );
        assert_eq!(spec.owner_of("fd00:99::9".parse().unwrap()), None);
    }

    #[test]
    fn a_vm_ipv6_prefix_comes_from_the_switch_without_a_router() {
        let text = SERVICES
            .replace(
                "subnet: 10.0.0.0/24",
                "subnet: 10.0.0.0/24\n    ipv6-prefix: fd00:1::/80",
            )
            .replace("ip: 10.0.0.11,", "ips: [10.0.0.11, \"fd00:1::11\"],");
        let loaded = crate::spec::load_str("s.yaml", &text);
        let (model, diags) = crate::compiler::check(&loaded.topology);
        let model = model.unwrap_or_else(|| panic!("{diags:?}"));
        let spec = LabSpec::from_model(&model).unwrap();
        let vm = &spec.vms.iter().find(|v| v.name == "vm1").unwrap();
        assert_eq!(vm.ipv6[0].to_string(), "fd00:1::11/80");
        // lr1 has no IPv6 network on ls1: no IPv6 default route.
        assert_eq!(vm.ipv6_gateway, None);
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

//! Properties: compile is deterministic, generated valid topologies compile, and the loader
//! and checker never panic on arbitrary input.

use proptest::prelude::*;

use topo::compiler;
use topo::compiler::output::to_json;
use topo::spec;

/// How the external side of a generated topology is built.
#[derive(Debug, Clone, Copy)]
pub enum External {
    /// lr1 reaches the outside through a join switch and gateway router `edge` (the seed).
    GatewayRouter,
    /// lr1's port on `ext` is a distributed gateway port with gateway chassis priorities.
    GatewayChassis,
    /// The same with an HA chassis group.
    HaGroup,
}

/// The knobs of a generated valid topology.
#[derive(Debug, Clone)]
pub struct Shape {
    pub tenants: usize,
    pub vifs: usize,
    pub gateway: External,
    pub ipv6: bool,
    pub vlan: Option<u16>,
    pub dynamic: bool,
    pub ecmp: bool,
    pub policies: usize,
    pub floating_ips: bool,
}

/// A valid topology: `tenants` switches with `vifs` VIFs each on a distributed router `lr1`,
/// SNAT per tenant, and the external side chosen by `gateway`.
pub fn topology(shape: &Shape) -> String {
    let mut s = String::from(
        "name: gen\nchassis:\n  gw1: { encap: { type: geneve, ip: 172.16.0.1 }, bridge-mappings: { ext: br-ext } }\n  gw2: { encap: { type: geneve, ip: 172.16.0.4 }, bridge-mappings: { ext: br-ext } }\n  hv1: { encap: { type: geneve, ip: 172.16.0.2 }, bridge-mappings: { ext: br-ext } }\n  hv2: { encap: { type: geneve, ip: 172.16.0.3 }, bridge-mappings: { ext: br-ext } }\nha-chassis-groups:\n  ha1: { gw1: 20, gw2: 10 }\nswitches:\n  ext:\n    subnet: 100.64.0.0/10\n    ports:\n",
    );
    match shape.vlan {
        Some(tag) => s.push_str(&format!(
            "      ext-ln: {{ type: localnet, network: ext, tag: {tag} }}\n"
        )),
        None => s.push_str("      ext-ln: { type: localnet, network: ext }\n"),
    }
    if let External::GatewayRouter = shape.gateway {
        s.push_str("  join: { subnet: 169.254.0.0/24 }\n");
    }
    for t in 0..shape.tenants {
        let (a, b) = (t / 256, t % 256);
        s.push_str(&format!("  t{t}:\n    subnet: 10.{a}.{b}.0/24\n"));
        if shape.ipv6 {
            s.push_str(&format!("    ipv6-prefix: \"fd00:{a:x}:{b:x}::/64\"\n"));
        }
        s.push_str("    ports:\n");
        for v in 0..shape.vifs {
            let hv = if v % 2 == 0 { "hv1" } else { "hv2" };
            if shape.dynamic && v == 0 {
                s.push_str(&format!(
                    "      t{t}-vm{v}: {{ dynamic: true, chassis: {hv} }}\n"
                ));
                continue;
            }
            let v6 = if shape.ipv6 {
                format!(", \"fd00:{a:x}:{b:x}::{:x}\"", v + 10)
            } else {
                String::new()
            };
            s.push_str(&format!(
                "      t{t}-vm{v}: {{ mac: \"0a:00:{a:02x}:{b:02x}:00:{v:02x}\", ips: [10.{a}.{b}.{}{v6}], chassis: {hv}, port-security: true }}\n",
                v + 10
            ));
        }
    }
    s.push_str("routers:\n  lr1:\n    ports:\n");
    match shape.gateway {
        External::GatewayRouter => s.push_str("      - { switch: join, ip: 169.254.0.1/24 }\n"),
        External::GatewayChassis => s.push_str(
            "      - { switch: ext, ip: 100.64.0.1/10, gateway: { chassis: { gw1: 20, gw2: 10 } } }\n",
        ),
        External::HaGroup => s.push_str(
            "      - { switch: ext, ip: 100.64.0.1/10, gateway: { ha-group: ha1 } }\n",
        ),
    }
    for t in 0..shape.tenants {
        let (a, b) = (t / 256, t % 256);
        let v6 = if shape.ipv6 {
            format!(", \"fd00:{a:x}:{b:x}::1/64\"")
        } else {
            String::new()
        };
        s.push_str(&format!(
            "      - {{ switch: t{t}, ips: [10.{a}.{b}.1/24{v6}] }}\n"
        ));
    }
    let (nexthop, second) = match shape.gateway {
        External::GatewayRouter => ("169.254.0.2", "169.254.0.3"),
        _ => ("100.64.0.254", "100.64.0.253"),
    };
    s.push_str("    routes:\n");
    if shape.ecmp {
        s.push_str(&format!(
            "      - {{ prefix: 0.0.0.0/0, nexthop: {nexthop}, ecmp: true }}\n"
        ));
        s.push_str(&format!(
            "      - {{ prefix: 0.0.0.0/0, nexthop: {second}, ecmp: true }}\n"
        ));
    } else {
        s.push_str(&format!(
            "      - {{ prefix: 0.0.0.0/0, nexthop: {nexthop} }}\n"
        ));
    }
    if shape.policies > 0 {
        s.push_str("    policies:\n");
        for p in 0..shape.policies {
            s.push_str(&format!(
                "      - {{ priority: {}, match: \"ip4.src == 10.0.{p}.0/24\", action: drop }}\n",
                1000 + p
            ));
        }
    }
    let nat_router = match shape.gateway {
        External::GatewayRouter => {
            s.push_str("  edge:\n    chassis: gw1\n    ports:\n");
            s.push_str("      - { switch: join, ip: 169.254.0.2/24 }\n");
            s.push_str("      - { switch: ext, ip: 100.64.0.1/10 }\n");
            s.push_str("    routes:\n");
            for t in 0..shape.tenants {
                let (a, b) = (t / 256, t % 256);
                s.push_str(&format!(
                    "      - {{ prefix: 10.{a}.{b}.0/24, nexthop: 169.254.0.1 }}\n"
                ));
            }
            true
        }
        _ => false,
    };
    let _ = nat_router;
    s.push_str("    nat:\n");
    for t in 0..shape.tenants {
        let (a, b) = (t / 256, t % 256);
        s.push_str(&format!(
            "      - {{ type: snat, logical-ip: 10.{a}.{b}.0/24, external-ip: 100.64.{}.{} }}\n",
            1 + t / 256,
            t % 256
        ));
        if shape.floating_ips && shape.vifs > 1 {
            let distributed = match shape.gateway {
                External::GatewayRouter => String::new(),
                _ => format!(
                    ", logical-port: t{t}-vm1, external-mac: \"0a:01:{a:02x}:{b:02x}:00:01\""
                ),
            };
            s.push_str(&format!(
                "      - {{ type: dnat_and_snat, logical-ip: 10.{a}.{b}.11, external-ip: 100.65.{}.{}{distributed} }}\n",
                t / 256,
                t % 256
            ));
        }
    }
    s
}

fn shapes() -> impl Strategy<Value = Shape> {
    (
        1usize..10,
        0usize..5,
        prop_oneof![
            Just(External::GatewayRouter),
            Just(External::GatewayChassis),
            Just(External::HaGroup)
        ],
        any::<bool>(),
        proptest::option::of(1u16..4096),
        any::<bool>(),
        any::<bool>(),
        0usize..3,
        any::<bool>(),
    )
        .prop_map(
            |(tenants, vifs, gateway, ipv6, vlan, dynamic, ecmp, policies, floating_ips)| Shape {
                tenants,
                vifs,
                gateway,
                ipv6,
                vlan,
                dynamic,
                ecmp,
                policies,
                floating_ips,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn generated_topologies_compile_without_diagnostics_and_deterministically(shape in shapes()) {
        let text = topology(&shape);
        let loaded = spec::load_str("gen.yaml", &text);
        prop_assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let (a, diags) = compiler::compile(&loaded.topology);
        prop_assert!(diags.is_empty(), "{}\n{}", text, super::render(&loaded, &diags));
        let (b, _) = compiler::compile(&spec::load_str("gen.yaml", &text).topology);
        let (a, b) = (to_json(&a.unwrap()), to_json(&b.unwrap()));
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    }

    #[test]
    fn the_loader_and_checker_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let loaded = spec::load_str("fuzz.yaml", &text);
        let _ = compiler::compile(&loaded.topology);
    }

    /// Mutations of a valid example: whatever the diagnostics, no panic, and a diagnostic's
    /// place is always inside the file.
    #[test]
    fn the_checker_never_panics_on_edited_examples(pos in 0usize..4000, byte in any::<u8>()) {
        let text = std::fs::read_to_string(super::root().join("examples/topologies/floating-ip.yaml")).unwrap();
        let mut bytes = text.into_bytes();
        let i = pos % bytes.len();
        bytes[i] = byte;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let loaded = spec::load_str("edit.yaml", &text);
        let (_, diags) = compiler::compile(&loaded.topology);
        for d in loaded.diagnostics.items.iter().chain(diags.items.iter()) {
            if let Some(l) = &d.primary {
                prop_assert!(l.span.offset + l.span.len <= text.len() + 1);
            }
        }
    }
}

/// The generator is a real test input: its output is valid for every gateway kind, and a
/// one-byte slip in it is caught.
#[test]
fn the_generator_covers_every_gateway_kind() {
    for gateway in [
        External::GatewayRouter,
        External::GatewayChassis,
        External::HaGroup,
    ] {
        let shape = Shape {
            tenants: 3,
            vifs: 3,
            gateway,
            ipv6: true,
            vlan: Some(100),
            dynamic: true,
            ecmp: true,
            policies: 2,
            floating_ips: true,
        };
        let text = topology(&shape);
        let (state, diags) = compiler::compile(&spec::load_str("gen.yaml", &text).topology);
        assert!(diags.is_empty(), "{gateway:?}: {diags:?}");
        let state = state.unwrap();
        assert!(state.len() >= 35, "{gateway:?}: {} rows", state.len());
        let broken = text.replace("nexthop: 169.254.0.1", "nexthop: 169.254.9.1");
        if matches!(gateway, External::GatewayRouter) {
            let (_, diags) = compiler::compile(&spec::load_str("gen.yaml", &broken).topology);
            assert!(diags.has_errors());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Splitting a topology into two files (switches in one, routers in the other) changes
    /// nothing in the rows.
    #[test]
    fn splitting_into_files_gives_the_same_rows(shape in shapes()) {
        let text = topology(&shape);
        let at = text.find("\nrouters:\n").unwrap() + 1;
        let (a, b) = text.split_at(at);
        let whole = compiler::compile(&spec::load_str("all.yaml", &text).topology).0.unwrap();
        let loaded = spec::load_files(vec![("a.yaml".into(), a.into()), ("b.yaml".into(), b.into())]);
        prop_assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let split = compiler::compile(&loaded.topology).0.unwrap();
        prop_assert_eq!(
            serde_json::to_string(&to_json(&whole)).unwrap(),
            serde_json::to_string(&to_json(&split)).unwrap()
        );
    }
}

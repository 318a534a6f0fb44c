//! Properties: compile is deterministic, generated valid topologies compile, and the loader
//! and checker never panic on arbitrary input.

use proptest::prelude::*;

use topo::compiler;
use topo::compiler::output::to_json;
use topo::spec;

/// A valid topology of `tenants` tenants: a switch with `vifs` VIFs, a port on a shared
/// distributed router with one gateway port, and an SNAT rule each.
pub fn generated(tenants: usize, vifs: usize) -> String {
    let mut s = String::from(
        "name: gen\nchassis:\n  gw1: { encap: { type: geneve, ip: 172.16.0.1 }, bridge-mappings: { ext: br-ext } }\n  hv1: { encap: { type: geneve, ip: 172.16.0.2 } }\nswitches:\n  ext:\n    subnet: 100.64.0.0/10\n    ports:\n      ext-ln: { type: localnet, network: ext }\n",
    );
    for t in 0..tenants {
        let (a, b) = (t / 256, t % 256);
        s.push_str(&format!(
            "  t{t}:\n    subnet: 10.{a}.{b}.0/24\n    ports:\n"
        ));
        for v in 0..vifs {
            s.push_str(&format!(
                "      t{t}-vm{v}: {{ mac: \"0a:00:{:02x}:{:02x}:00:{:02x}\", ip: 10.{a}.{b}.{}, chassis: hv1 }}\n",
                a,
                b,
                v,
                v + 10
            ));
        }
    }
    s.push_str("routers:\n  lr1:\n    ports:\n      - { switch: ext, ip: 100.64.0.1/10, gateway: { chassis: { gw1: 1 } } }\n");
    for t in 0..tenants {
        let (a, b) = (t / 256, t % 256);
        s.push_str(&format!(
            "      - {{ switch: t{t}, ip: 10.{a}.{b}.1/24 }}\n"
        ));
    }
    s.push_str("    nat:\n");
    for t in 0..tenants {
        let (a, b) = (t / 256, t % 256);
        s.push_str(&format!(
            "      - {{ type: snat, logical-ip: 10.{a}.{b}.0/24, external-ip: 100.{}.{}.{} }}\n",
            64 + t / 65536,
            (t / 256) % 256,
            t % 256 + if t == 0 { 2 } else { 0 }
        ));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn generated_topologies_compile_deterministically(tenants in 1usize..12, vifs in 0usize..5) {
        let text = generated(tenants, vifs);
        let loaded = spec::load_str("gen.yaml", &text);
        prop_assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let (a, diags) = compiler::compile(&loaded.topology);
        prop_assert!(diags.is_empty(), "{:?}", diags);
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

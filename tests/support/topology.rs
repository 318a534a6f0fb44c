//! Topologies and counts shared by the fault tests (`tests/apply/crash.rs` and the torture
//! tier): a generated topology of `n` tenants, the rows a stack owns and duplicate names, each
//! counted by `_uuid` (a `select` without `_uuid` folds duplicate rows into one).

use std::collections::BTreeMap;

/// A topology of `n` tenants: a switch with 3 VIFs each, all on one distributed router.
/// Rows: per tenant 1 switch + 3 VIFs + 1 router-type LSP + 1 router port; plus the router.
pub fn tenants(n: usize) -> (String, usize) {
    tenants_named(n, "")
}

/// [`tenants`] with every switch and port name prefixed by `prefix` (variants of one stack
/// that share no name).
pub fn tenants_named(n: usize, prefix: &str) -> (String, usize) {
    let mut y = String::from(
        "name: big\nchassis:\n  hv1: { encap: { type: geneve, ip: 172.17.42.20 } }\n  \
         hv2: { encap: { type: geneve, ip: 172.17.42.21 } }\nswitches:\n",
    );
    for i in 0..n {
        let (a, b) = (i / 256, i % 256);
        y += &format!("  {prefix}t{i}:\n    subnet: 10.{a}.{b}.0/24\n    ports:\n");
        for j in 1..=3 {
            y += &format!(
                "      {prefix}t{i}-vm{j}: {{ mac: \"02:00:00:{a:02x}:{b:02x}:{j:02x}\", ip: 10.{a}.{b}.{}, chassis: hv1 }}\n",
                10 + j
            );
        }
    }
    y += &format!("routers:\n  {prefix}lr:\n    ports:\n");
    for i in 0..n {
        let (a, b) = (i / 256, i % 256);
        y += &format!("      - {{ switch: {prefix}t{i}, ip: 10.{a}.{b}.1/24 }}\n");
    }
    (y, n * 6 + 1)
}

/// The rows of every NB table the stack owns (marked `topo:stack`), at `remote` (of a
/// cluster, pass the leader's: a follower may answer from a copy that lags).
pub fn owned_rows_at(remote: &str, stack: &str) -> usize {
    // Only tables with `external_ids` can hold the mark.
    let schema: serde_json::Value = serde_json::from_str(
        &super::ovn_tools::ovsdb_client(&["get-schema", remote, "OVN_Northbound"])
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap();
    let ops: Vec<serde_json::Value> = topo::live::NB_TABLES
        .iter()
        .filter(|t| !schema["tables"][**t]["columns"]["external_ids"].is_null())
        .map(|t| {
            serde_json::json!({
                "op": "select",
                "table": t,
                "where": [["external_ids", "includes", ["map", [["topo:stack", stack]]]]],
                "columns": ["_uuid"],
            })
        })
        .collect();
    let mut request = vec![serde_json::json!("OVN_Northbound")];
    request.extend(ops);
    let reply = super::ovn_tools::transact(remote, &serde_json::json!(request))
        .unwrap_or_else(|e| panic!("{e}"));
    reply
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rows"].as_array().map_or(0, Vec::len))
        .sum()
}

/// Names that more than one `Logical_Switch` or `Logical_Router` row carries (the schema
/// indexes neither), with their counts; rows told apart by `_uuid`.
pub fn duplicate_names(remote: &str) -> BTreeMap<String, usize> {
    let ops: Vec<serde_json::Value> = ["Logical_Switch", "Logical_Router"]
        .iter()
        .map(|t| serde_json::json!({"op": "select", "table": t, "where": [], "columns": ["_uuid", "name"]}))
        .collect();
    let mut request = vec![serde_json::json!("OVN_Northbound")];
    request.extend(ops);
    let reply = super::ovn_tools::transact(remote, &serde_json::json!(request))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (table, result) in ["switch", "router"].iter().zip(reply.as_array().unwrap()) {
        for row in result["rows"].as_array().into_iter().flatten() {
            let name = row["name"].as_str().unwrap_or_default();
            *counts.entry(format!("{table} {name}")).or_default() += 1;
        }
    }
    counts.retain(|_, n| *n > 1);
    counts
}

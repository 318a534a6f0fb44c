//! Gateways on chassis whose `ovn-bridge-mappings` the topology does not declare, checked
//! against what those chassis publish in the Southbound (`Chassis.other_config`). Pure.
//!
//! validate cannot know whether such a chassis (`managed: false`, or declared without
//! `bridge-mappings`) reaches the gateway's physical network; ovn-controller publishes its
//! mappings, so plan, drift and apply look there. A chassis that lacks the network is an
//! error when it carries the gateway's traffic (its only chassis, or the highest priority,
//! which OVN makes active) and the topology did not acknowledge it (`unmapped-ok`); a
//! warning otherwise (a backup, or acknowledged). A chassis not registered yet cannot be
//! confirmed: a warning.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compiler::model::{GatewayNeed, GatewayRole};
use crate::live::southbound::SbChassis;

/// How much a finding matters: an error blocks apply, a warning does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// What the Southbound showed of a gateway's chassis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Problem {
    /// The chassis publishes `ovn-bridge-mappings` without the gateway's network.
    Unmapped,
    /// No `Chassis` row of that name: its mappings cannot be confirmed.
    Unregistered,
}

/// One gateway whose chassis the Southbound shows without its network (or does not show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayFinding {
    pub severity: Severity,
    pub problem: Problem,
    pub chassis: String,
    /// The gateway port (LRP, or the l2gateway LSP).
    pub port: String,
    /// The physical networks of the gateway's switch.
    pub networks: Vec<String>,
    pub role: GatewayRole,
    /// The chassis's `unmapped-ok` names the network.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
    /// The finding in one sentence, naming the chassis, the port and the network.
    pub message: String,
}

/// The findings for `needs` against the registered chassis, in the topology's order.
pub(crate) fn check(needs: &[GatewayNeed], sb: &[SbChassis]) -> Vec<GatewayFinding> {
    let sb: BTreeMap<&str, &SbChassis> = sb.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut out = Vec::new();
    for need in needs {
        let list = need.networks.join(", ");
        let finding = |severity, problem, message| GatewayFinding {
            severity,
            problem,
            chassis: need.chassis.clone(),
            port: need.port.clone(),
            networks: need.networks.clone(),
            role: need.role,
            acknowledged: need.acknowledged,
            message,
        };
        let Some(registered) = sb.get(need.chassis.as_str()) else {
            out.push(finding(
                Severity::Warning,
                Problem::Unregistered,
                format!(
                    "chassis {} ({}, {}) is not registered in the Southbound: cannot confirm it maps {list}",
                    need.chassis,
                    need.what,
                    need.role.word()
                ),
            ));
            continue;
        };
        let live = registered.bridge_mappings();
        if need.networks.iter().any(|n| live.get(n).is_some()) {
            continue;
        }
        let blocks = need.role != GatewayRole::Backup && !need.acknowledged;
        let why = if need.acknowledged {
            "acknowledged by unmapped-ok"
        } else if blocks {
            "the port's traffic to the physical network would be dropped"
        } else {
            "used only if the chassis above it fail"
        };
        out.push(finding(
            if blocks {
                Severity::Error
            } else {
                Severity::Warning
            },
            Problem::Unmapped,
            format!(
                "chassis {} ({}, {}) does not map {list} in the Southbound (ovn-bridge-mappings {:?}): gateway port {} cannot reach {list} there; {why}",
                need.chassis,
                need.what,
                need.role.word(),
                registered
                    .published
                    .get(crate::rows::chassis::MAPPINGS_KEY)
                    .map_or("", String::as_str),
                need.port
            ),
        ));
    }
    out
}

/// Whether any finding blocks apply.
pub(crate) fn blocking(findings: &[GatewayFinding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(chassis: &str, role: GatewayRole, acknowledged: bool) -> GatewayNeed {
        GatewayNeed {
            chassis: chassis.to_owned(),
            port: "lr1-lslocal".to_owned(),
            what: "gateway chassis of `lr1-lslocal`, priority 2".to_owned(),
            networks: vec!["externalnet".to_owned()],
            role,
            acknowledged,
        }
    }

    fn sb(name: &str, mappings: &str) -> SbChassis {
        SbChassis {
            name: name.to_owned(),
            published: BTreeMap::from([("ovn-bridge-mappings".to_owned(), mappings.to_owned())]),
            ..SbChassis::default()
        }
    }

    #[test]
    fn the_active_chassis_without_the_network_is_an_error_unless_acknowledged() {
        let live = [sb("node1", "physnet:br-p")];
        let found = check(&[need("node1", GatewayRole::Active, false)], &live);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].problem, Problem::Unmapped);
        for word in ["node1", "lr1-lslocal", "externalnet"] {
            assert!(found[0].message.contains(word), "{}", found[0].message);
        }
        assert!(blocking(&found));
        let found = check(&[need("node1", GatewayRole::Active, true)], &live);
        assert_eq!(found[0].severity, Severity::Warning);
        let found = check(&[need("node1", GatewayRole::Only, false)], &live);
        assert_eq!(found[0].severity, Severity::Error);
    }

    #[test]
    fn a_backup_warns_a_mapped_chassis_is_silent_an_absent_one_cannot_be_confirmed() {
        let found = check(
            &[need("node1", GatewayRole::Backup, false)],
            &[sb("node1", "")],
        );
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(!blocking(&found));
        let mapped = [sb("node1", "physnet:br-p, externalnet:br-ens8")];
        assert!(check(&[need("node1", GatewayRole::Active, false)], &mapped).is_empty());
        let found = check(&[need("node1", GatewayRole::Active, false)], &[]);
        assert_eq!(found[0].problem, Problem::Unregistered);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    /// A gateway router (`chassis`) and an l2gateway port on chassis whose mappings the
    /// topology does not declare are each their gateway's only chassis: validate warns, and
    /// the Southbound without the network makes an error.
    #[test]
    fn gateway_routers_and_l2gateways_are_checked_the_same_way() {
        let text = "name: t\nchassis:\n  master: { encap: { type: geneve, ip: 172.17.0.1 }, bridge-mappings: { externalnet: br-ens8 } }\n  node1: { managed: false }\n  gw2: { encap: { type: geneve, ip: 172.17.0.2 } }\nswitches:\n  lslocal:\n    ports:\n      lslocal-localnet: { type: localnet, network: externalnet }\n  ls1:\n    ports:\n      ls1-l2gw: { type: l2gateway, network: externalnet, chassis: gw2 }\nrouters:\n  lr2:\n    chassis: node1\n    ports:\n      - { switch: lslocal, ip: 10.10.40.1/24 }\n";
        let loaded = crate::spec::load_str("t.yaml", text);
        let (model, diags) = crate::compiler::check(&loaded.topology);
        let codes: Vec<&str> = diags.items.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "topo::chassis::gateway-unverified",
                "topo::chassis::gateway-unverified"
            ],
            "{diags:?}"
        );
        let model = model.unwrap();
        let needs: Vec<(&str, &str, GatewayRole)> = model
            .gateway_needs
            .iter()
            .map(|n| (n.chassis.as_str(), n.port.as_str(), n.role))
            .collect();
        assert_eq!(
            needs,
            [
                ("node1", "lr2-lslocal", GatewayRole::Only),
                ("gw2", "ls1-l2gw", GatewayRole::Only),
            ]
        );
        let found = check(
            &model.gateway_needs,
            &[sb("node1", "physnet:br-p"), sb("gw2", "")],
        );
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|f| f.severity == Severity::Error));
        assert!(
            found[0].message.contains("gateway router `lr2`"),
            "{}",
            found[0].message
        );
        assert!(
            found[1].message.contains("l2gateway chassis of `ls1-l2gw`"),
            "{}",
            found[1].message
        );
    }
}

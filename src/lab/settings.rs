//! The chassis settings `topo apply` writes through a chassis's own Open_vSwitch database,
//! exactly as an operator would with `ovs-vsctl`: provider bridges with their NICs and
//! `external_ids:ovn-bridge-mappings`. The lab uses the same function, so the path apply
//! takes is the one the lab tests.

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::LabError;
use super::vswitch::{BridgeSpec, PortSpec, Vswitch};

/// What one chassis needs to reach physical networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChassisSettings {
    /// Physical network name -> provider bridge (`ovn-bridge-mappings`).
    pub bridge_mappings: BTreeMap<String, String>,
    /// Provider bridge -> the NICs to add to it.
    pub provider_bridges: BTreeMap<String, Vec<String>>,
    /// `datapath_type` of provider bridges: `netdev` in the lab, empty (the kernel
    /// datapath) on a real chassis.
    pub datapath_type: String,
}

/// `ovn-bridge-mappings` as ovn-controller reads it: `net1:br1,net2:br2`.
pub fn mappings_value(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(n, b)| format!("{n}:{b}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes `settings` into the Open_vSwitch database at `remote` (creating missing bridges
/// and ports, setting the mappings) and waits until `ovs-vswitchd` has applied them.
pub async fn write(
    remote: &str,
    settings: &ChassisSettings,
    deadline: Duration,
) -> Result<(), LabError> {
    let vs = Vswitch::connect(remote, deadline).await?;
    for (bridge, nics) in &settings.provider_bridges {
        let ports: Vec<PortSpec> = nics.iter().map(|n| PortSpec::system(n)).collect();
        vs.ensure_bridge(
            &BridgeSpec {
                name: bridge.clone(),
                datapath_type: settings.datapath_type.clone(),
                ..BridgeSpec::default()
            },
            &ports,
        )
        .await?;
    }
    if !settings.bridge_mappings.is_empty() {
        let ids = BTreeMap::from([(
            "ovn-bridge-mappings".to_owned(),
            mappings_value(&settings.bridge_mappings),
        )]);
        vs.set_external_ids(&ids).await?;
    }
    vs.wait_applied(deadline).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_are_comma_separated_pairs() {
        let m = BTreeMap::from([
            ("physnet".to_owned(), "br-ex".to_owned()),
            ("externalnet".to_owned(), "br-ens8".to_owned()),
        ]);
        assert_eq!(mappings_value(&m), "externalnet:br-ens8,physnet:br-ex");
    }
}

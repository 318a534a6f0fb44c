//! VMs of ports with `dynamic` addresses. `up` plugs them in without an address (the
//! interface with its `iface-id` is enough for ovn-controller to bind the port, so
//! `topo apply --wait hv` sees them bound); before checks run, each takes the address OVN
//! assigned, from the Northbound `Logical_Switch_Port.dynamic_addresses` (`MAC IPv4 ...`):
//! its MAC on `eth0`, the IPv4 address with the switch's prefix, the default route via the
//! router port on its switch. A port without `dynamic_addresses` yet (not applied) is left
//! as it is: checks from or to it fail, saying it has no address.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::command::run;
use super::error::LabError;
use super::netns;
use super::state::LabState;
use super::vm::IFNAME;
use crate::ovsdb::{Client, ColumnsExt, Condition, ConnectOptions};

/// `dynamic_addresses` as OVN writes it: `"0a:00:00:00:00:01 10.0.0.10"` (IPv6 may follow).
fn parse(addresses: &str) -> Option<(String, Ipv4Addr)> {
    let mut words = addresses.split_whitespace();
    let mac = words.next()?.to_owned();
    let ip = words.find_map(|w| w.parse::<Ipv4Addr>().ok())?;
    Some((mac, ip))
}

/// Gives each dynamic VM of `state` the address OVN assigned it, if it changed; saves the
/// state when one did. Returns one line per VM addressed (`tenant-vm3: 10.0.0.10`).
pub async fn learn(state: &mut LabState) -> Result<Vec<String>, LabError> {
    let dynamic: Vec<_> = state
        .spec
        .vms
        .iter()
        .filter(|v| v.dynamic)
        .cloned()
        .collect();
    if dynamic.is_empty() {
        return Ok(Vec::new());
    }
    let options = ConnectOptions {
        database: Some("OVN_Northbound".into()),
        ..ConnectOptions::default()
    };
    let nb = Client::connect(&state.nb, options)
        .await
        .map_err(|e| LabError::ovsdb("connect", &state.nb, e))?;
    let mut done = Vec::new();
    for vm in &dynamic {
        let rows = nb
            .select(
                "OVN_Northbound",
                "Logical_Switch_Port",
                vec![Condition::eq("name", vm.name.as_str())],
                &["dynamic_addresses"],
            )
            .await
            .map_err(|e| LabError::ovsdb("select Logical_Switch_Port", &state.nb, e))?;
        let Some((mac, ip)) = rows
            .first()
            .and_then(|r| r.string("dynamic_addresses"))
            .and_then(parse)
        else {
            continue;
        };
        let Some(ep) = state.endpoints.get_mut(&vm.name) else {
            continue;
        };
        if ep.ip == ip && ep.mac.as_deref() == Some(mac.as_str()) {
            continue;
        }
        let ns = ep.netns.clone();
        let addr =
            Ipv4Net::new(ip, vm.ip.prefix_len()).map_err(|e| LabError::Spec(e.to_string()))?;
        netns::set_mac(&ns, IFNAME, &mac)?;
        run(&["ip", "-n", &ns, "addr", "flush", "dev", IFNAME])?;
        netns::add_addr(&ns, IFNAME, addr)?;
        if let Some(gw) = vm.gateway {
            run(&[
                "ip",
                "-n",
                &ns,
                "route",
                "replace",
                "default",
                "via",
                &gw.to_string(),
            ])?;
        }
        ep.ip = ip;
        ep.mac = Some(mac.clone());
        done.push(format!("{}: {ip} ({mac})", vm.name));
    }
    nb.close().await;
    if !done.is_empty() {
        state.save()?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_addresses_parse() {
        assert_eq!(
            parse("0a:00:00:00:00:01 10.0.0.10"),
            Some(("0a:00:00:00:00:01".into(), "10.0.0.10".parse().unwrap()))
        );
        assert_eq!(
            parse("0a:00:00:00:00:01 10.0.0.10 fd00::1").map(|p| p.1),
            "10.0.0.10".parse().ok()
        );
        assert_eq!(parse("0a:00:00:00:00:01"), None);
        assert_eq!(parse(""), None);
    }
}

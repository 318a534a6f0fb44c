//! The validated model: names resolved, addresses parsed, names derived.
//!
//! Built by `check` only when a topology has no errors, so lowering can trust it: every
//! reference names an existing object, every address parsed, every range is respected.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::naming::Mac;
use crate::spec::types::{
    AclAction, Direction, EncapType, Expect, LbProtocol, NatType, PolicyAction, PortType,
    RoutePolicy, Severity,
};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    pub stack: String,
    pub chassis: BTreeMap<String, Chassis>,
    /// physical switch -> VTEP
    pub vteps: BTreeMap<String, Vtep>,
    /// group -> chassis -> priority
    pub ha_groups: BTreeMap<String, BTreeMap<String, i64>>,
    pub switches: BTreeMap<String, Switch>,
    pub routers: BTreeMap<String, Router>,
    /// name -> addresses, as OVN writes them
    pub address_sets: BTreeMap<String, Vec<String>>,
    pub port_groups: BTreeMap<String, PortGroup>,
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    pub lab: BTreeMap<String, LabNetwork>,
    /// lab host behind a VTEP port -> where it sits
    pub lab_vtep_hosts: BTreeMap<String, LabVtepHost>,
    pub checks: Vec<Check>,
    /// Gateways on chassis whose `ovn-bridge-mappings` this topology does not declare:
    /// checked against the Southbound by plan, drift and apply (`diff::gateways`).
    pub gateway_needs: Vec<GatewayNeed>,
}

/// A gateway that needs a physical network on a chassis whose mappings the topology does not
/// declare (`managed: false`, or declared without `bridge-mappings`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GatewayNeed {
    pub chassis: String,
    /// The port that is the gateway: the LRP of a distributed gateway port or of a gateway
    /// router's port on that switch, or the l2gateway LSP.
    pub port: String,
    /// What makes the chassis a gateway, in the topology's words.
    pub what: String,
    /// The physical networks of the gateway's switch (one of them is enough).
    pub networks: Vec<String>,
    pub role: GatewayRole,
    /// The chassis's `unmapped-ok` names one of `networks`.
    pub acknowledged: bool,
}

/// Where a chassis stands among a gateway's candidates. OVN makes the highest priority the
/// active one (`Gateway_Chassis.priority`, `HA_Chassis.priority`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum GatewayRole {
    /// The gateway's one chassis (a gateway router, an l2gateway port, a single gateway
    /// chassis).
    Only,
    /// The highest priority among several (or tied for it): the one that carries the traffic.
    Active,
    /// A lower priority: used only when the ones above it fail.
    Backup,
}

impl GatewayRole {
    pub(crate) fn word(self) -> &'static str {
        match self {
            GatewayRole::Only => "its only chassis",
            GatewayRole::Active => "the highest priority, the active one",
            GatewayRole::Backup => "a backup",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chassis {
    pub encap_type: EncapType,
    pub encap_ip: IpAddr,
    pub bridge_mappings: BTreeMap<String, String>,
    pub bridges: BTreeMap<String, Vec<String>>,
    pub remote: Option<String>,
    pub ovn_remote: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Vtep {
    pub tunnel_ip: IpAddr,
    pub remote: Option<String>,
    /// physical port -> VLAN -> VTEP logical switch
    pub bindings: BTreeMap<String, BTreeMap<i64, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Switch {
    pub subnet: Option<Ipv4Net>,
    pub ipv6_prefix: Option<Ipv6Net>,
    /// `ipv6-prefix` was written as an address (`fd00:9::`, ovn-nb(5)'s form): written so.
    pub ipv6_prefix_bare: bool,
    pub exclude_ips: Vec<String>,
    pub ports: BTreeMap<String, SwitchPort>,
    pub acls: Vec<Acl>,
    pub qos: Vec<Qos>,
    pub load_balancers: Vec<String>,
    pub dhcp4: Option<DhcpOptions>,
    pub dhcp6: Option<DhcpOptions>,
    /// host name -> addresses
    pub dns_records: BTreeMap<String, Vec<IpAddr>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Acl {
    pub direction: Direction,
    pub priority: i64,
    pub matches: String,
    pub action: AclAction,
    pub log: bool,
    pub severity: Option<Severity>,
    pub name: Option<String>,
    pub label: Option<i64>,
    pub meter: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Qos {
    pub direction: Direction,
    pub priority: i64,
    pub matches: String,
    pub rate: Option<i64>,
    pub burst: Option<i64>,
    pub dscp: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortGroup {
    pub ports: Vec<String>,
    pub acls: Vec<Acl>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadBalancer {
    pub protocol: Option<LbProtocol>,
    /// VIP -> backends, as OVN writes them (`10.0.0.10:80`, `[fd00::10]:80`)
    pub vips: BTreeMap<String, Vec<String>>,
    pub health_check: Option<HealthCheck>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthCheck {
    /// `interval`, `timeout`, `success_count`, `failure_count`, as written
    pub options: BTreeMap<String, String>,
    /// backend IP -> `<port>:<source ip>` (`ip_port_mappings`)
    pub mappings: BTreeMap<String, String>,
}

/// One `DHCP_Options` row.
#[derive(Debug, Clone, PartialEq)]
pub struct DhcpOptions {
    pub cidr: IpNet,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwitchPort {
    pub kind: PortType,
    pub mac: Option<Mac>,
    pub ips: Vec<IpAddr>,
    pub dynamic: bool,
    pub unknown: bool,
    /// `port_security` entries, already rendered.
    pub port_security: Vec<String>,
    /// vif: requested chassis; l2gateway: gateway chassis.
    pub chassis: Option<String>,
    pub network: Option<String>,
    pub tag: Option<i64>,
    pub ha_group: Option<String>,
    pub vtep_physical_switch: Option<String>,
    pub vtep_logical_switch: Option<String>,
    pub parents: Vec<String>,
    pub enabled: Option<bool>,
    /// Left out of the switch's DHCP (`dhcp: false`).
    pub no_dhcp: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Router {
    /// Gateway router: bound to this chassis.
    pub chassis: Option<String>,
    /// By LRP name.
    pub ports: BTreeMap<String, RouterPort>,
    pub routes: Vec<Route>,
    pub policies: Vec<Policy>,
    pub nat: Vec<Nat>,
    pub load_balancers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Switch(String),
    /// Peered directly with router `router`, whose port is `port`.
    Peer {
        router: String,
        port: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouterPort {
    pub link: Link,
    pub mac: Mac,
    /// Address with prefix length, as OVN's `networks`.
    pub networks: Vec<IpNet>,
    pub gateway: Option<Gateway>,
    /// `Gateway_Chassis` rows named `<lrp>_<chassis>` (ovsdbapp) instead of `<lrp>-<chassis>`.
    pub ovsdbapp_gateway_names: bool,
    /// Switch links: the router-type LSP's name.
    pub lsp: Option<String>,
    /// Switch links: the LSP's `addresses` (`["router"]` unless written).
    pub lsp_addresses: Vec<String>,
    /// Switch links: `options:nat-addresses` as written (`None`: topo's default; `Some(None)`:
    /// left out).
    pub nat_addresses: Option<Option<String>>,
    /// `ipv6_ra_configs`
    pub ipv6_ra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Gateway {
    /// chassis -> priority
    Chassis(BTreeMap<String, i64>),
    HaGroup(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub prefix: IpNet,
    pub nexthop: IpAddr,
    pub policy: Option<RoutePolicy>,
    pub output_port: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub priority: i64,
    pub matches: String,
    pub action: PolicyAction,
    pub nexthops: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Nat {
    pub ty: NatType,
    pub external_ip: IpAddr,
    /// An address or (snat) a network, as written canonically.
    pub logical_ip: String,
    pub logical_port: Option<String>,
    pub external_mac: Option<Mac>,
    pub gateway_port: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabVtepHost {
    pub vtep: String,
    pub port: String,
    pub ip: IpNet,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabNetwork {
    pub subnet: IpNet,
    pub ipv6_prefix: Option<Ipv6Net>,
    /// host -> its addresses, as written (at most one IPv4)
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: Option<String>,
    pub from: String,
    /// Empty for `dhcp`.
    pub to: String,
    pub expect: Expect,
    pub source_ip: Option<IpAddr>,
    pub port: Option<crate::lab::spec::L4Port>,
    /// `dhcp`: what the lease must give.
    pub address: Option<IpAddr>,
    pub router: Option<IpAddr>,
    pub dns: Option<IpAddr>,
    /// `balanced`.
    pub backends: Vec<String>,
    pub backend_port: Option<u16>,
    pub connections: Option<u32>,
    pub stop_backend: Option<String>,
}

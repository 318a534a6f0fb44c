//! The topology file as written: serde types in OVN's words.
//!
//! Every value a user writes is an [`Sp`] so diagnostics can point at it. Types are plain
//! structs with `deny_unknown_fields` (no flatten, no untagged or internally tagged enums:
//! those lose spans). Addresses stay strings here; `compiler::check` parses them so a bad one
//! gets a diagnostic of its own instead of a generic YAML error. The doc comments become the
//! JSON Schema descriptions editors show.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::map::Map;
use super::spanned::Sp;

/// A topology file. Several files (or a directory) are merged into one topology.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Topology {
    /// The stack: written as `topo:stack=<name>` into `external_ids` of every row topo creates.
    pub name: Option<Sp<String>>,
    /// The chassis (hypervisors and gateways), by OVN chassis name (`system-id`).
    #[serde(default)]
    pub chassis: Map<Sp<Chassis>>,
    /// HA chassis groups: group name -> { chassis name: priority }.
    #[serde(default)]
    pub ha_chassis_groups: Map<Map<Sp<i64>>>,
    /// Logical switches, by name.
    #[serde(default)]
    pub switches: Map<Sp<Switch>>,
    /// Logical routers, by name.
    #[serde(default)]
    pub routers: Map<Sp<Router>>,
    /// Address sets (`Address_Set`): name -> addresses and networks (IPv4 and IPv6). A match
    /// names one as `$name`.
    #[serde(default)]
    pub address_sets: Map<Vec<Sp<String>>>,
    /// Port groups (`Port_Group`), the security groups of OVN: member ports and their ACLs. A
    /// match names one as `@name` (its ports) or `$name_ip4` / `$name_ip6` (their addresses).
    #[serde(default)]
    pub port_groups: Map<Sp<PortGroup>>,
    /// Load balancers (`Load_Balancer`), attached to switches and routers by name.
    #[serde(default)]
    pub load_balancers: Map<Sp<LoadBalancer>>,
    /// Hardware VTEP gateways (`hardware_vtep` database), by physical switch name
    /// (`Physical_Switch.name`, also the Southbound chassis `ovn-controller-vtep` registers).
    #[serde(default)]
    pub vteps: Map<Sp<Vtep>>,
    /// Names that matches may use although another tool manages them.
    pub external: Option<Sp<External>>,
    /// The physical side of the bundled lab (`topo lab`, `topo verify`); no OVN rows.
    pub lab: Option<Sp<Lab>>,
    /// Connectivity checks `topo verify` runs in the lab.
    #[serde(default)]
    pub checks: Vec<Sp<Check>>,
    /// The keys the loader skipped as unknown (and reported): where, in which object (in
    /// words), and the key. A check that would report the key it likely misspells as missing
    /// stays quiet.
    #[serde(skip)]
    #[schemars(skip)]
    pub unknown_keys: Vec<(crate::source::Span, String, String)>,
}

/// One chassis: what `ovn-controller` reads from its `Open_vSwitch` external_ids.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Chassis {
    /// `false`: a chassis this stack does not configure (another tool or team runs it), named
    /// only so that gateways and ports may refer to it; it takes no settings, and plan checks
    /// in the Southbound that it maps the networks its gateways need. Default `true`.
    pub managed: Option<Sp<bool>>,
    /// Tunnel encapsulation: `ovn-encap-type` and `ovn-encap-ip` (required unless
    /// `managed: false`).
    pub encap: Option<Sp<Encap>>,
    /// Physical networks this chassis is known not to map although a gateway on it is
    /// attached to them: what `plan` finds missing there is then a warning, never an error.
    #[serde(default)]
    pub unmapped_ok: Vec<Sp<String>>,
    /// Physical network name -> provider bridge (`ovn-bridge-mappings`).
    #[serde(default)]
    pub bridge_mappings: Map<Sp<String>>,
    /// Provider bridges topo creates on the chassis -> the NIC ports to add to them.
    #[serde(default)]
    pub bridges: Map<Vec<Sp<String>>>,
    /// How topo reaches this chassis's own Open_vSwitch database (`unix:`, `tcp:`, `ssl:`).
    pub remote: Option<Sp<String>>,
    /// The Southbound database ovn-controller connects to (`ovn-remote`).
    pub ovn_remote: Option<Sp<String>>,
}

/// A hardware VTEP: what topo writes into its own `hardware_vtep` database.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Vtep {
    /// The switch's VXLAN tunnel endpoint (`Physical_Switch.tunnel_ips`).
    pub tunnel_ip: Sp<String>,
    /// How topo reaches the switch's VTEP database (`unix:`, `tcp:`, `ssl:`).
    pub remote: Option<Sp<String>>,
    /// Physical ports (`Physical_Port`, which the switch itself publishes) by name.
    #[serde(default)]
    pub ports: Map<Sp<VtepPort>>,
}

/// A VTEP physical port: its VLAN bindings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VtepPort {
    /// VLAN (0-4095; 0: untagged) -> VTEP logical switch (`Physical_Port.vlan_bindings`); the
    /// name is the `vtep-logical-switch` of a `type: vtep` port naming this switch.
    #[serde(default)]
    pub vlan_bindings: Map<Sp<String>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Encap {
    /// `ovn-encap-type`.
    #[serde(rename = "type")]
    pub ty: Sp<EncapType>,
    /// `ovn-encap-ip`: this chassis's tunnel endpoint address.
    pub ip: Sp<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EncapType {
    Geneve,
    Vxlan,
    Stt,
}

impl EncapType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EncapType::Geneve => "geneve",
            EncapType::Vxlan => "vxlan",
            EncapType::Stt => "stt",
        }
    }
}

/// A logical switch (`Logical_Switch`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Switch {
    /// IPv4 subnet (`other_config:subnet`), e.g. `10.10.10.0/24`.
    pub subnet: Option<Sp<String>>,
    /// IPv6 prefix (`other_config:ipv6_prefix`), e.g. `fd00:10::/64`.
    pub ipv6_prefix: Option<Sp<String>>,
    /// Addresses OVN must not assign dynamically (`other_config:exclude_ips`): `10.0.0.5` or
    /// `10.0.0.10..10.0.0.20`.
    #[serde(default)]
    pub exclude_ips: Vec<Sp<String>>,
    /// Logical switch ports, by their OVN name (`Logical_Switch_Port.name`, the VIF's
    /// `iface-id`). Router ports are derived from `routers`, never written here.
    #[serde(default)]
    pub ports: Map<Sp<Port>>,
    /// ACLs on the switch (`Logical_Switch.acls`); port groups carry their own.
    #[serde(default)]
    pub acls: Vec<Sp<Acl>>,
    /// QoS rules (`Logical_Switch.qos_rules`): rate limits and DSCP marking.
    #[serde(default)]
    pub qos: Vec<Sp<Qos>>,
    /// Load balancers applied on the switch (`load_balancer`), by name.
    #[serde(default)]
    pub load_balancers: Vec<Sp<String>>,
    /// OVN's native DHCP for the switch's VIF ports (`DHCP_Options`, referenced from each
    /// port's `dhcpv4_options` / `dhcpv6_options`).
    pub dhcp: Option<Sp<Dhcp>>,
    /// DNS records OVN answers on the switch (`DNS.records`, `Logical_Switch.dns_records`):
    /// host name -> its addresses.
    #[serde(default)]
    pub dns_records: Map<Vec<Sp<String>>>,
}

/// An ACL (`ACL`), on a switch or a port group. Its key is (direction, priority, match):
/// unique per switch or port group.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Acl {
    /// `from-lport` (traffic leaving the VM) or `to-lport` (traffic to the VM).
    pub direction: Sp<Direction>,
    /// 0..32767, higher first.
    pub priority: Sp<i64>,
    /// An OVN logical flow match, e.g. `ip4.src == $admins && tcp.dst == 22`.
    #[serde(rename = "match")]
    pub matches: Sp<String>,
    pub action: Sp<AclAction>,
    /// Log packets that match (`log`).
    pub log: Option<Sp<bool>>,
    /// The log's severity (`severity`).
    pub severity: Option<Sp<Severity>>,
    /// The log's name (`name`), at most 63 characters.
    pub name: Option<Sp<String>>,
    /// A label copied into the connection tracking entry (`label`), 0..4294967295.
    pub label: Option<Sp<i64>>,
    /// A meter limiting the logs (`meter`), by name.
    pub meter: Option<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    FromLport,
    ToLport,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::FromLport => "from-lport",
            Direction::ToLport => "to-lport",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AclAction {
    Allow,
    AllowRelated,
    AllowStateless,
    Drop,
    Reject,
    Pass,
}

impl AclAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AclAction::Allow => "allow",
            AclAction::AllowRelated => "allow-related",
            AclAction::AllowStateless => "allow-stateless",
            AclAction::Drop => "drop",
            AclAction::Reject => "reject",
            AclAction::Pass => "pass",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Alert,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Alert => "alert",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
            Severity::Info => "info",
            Severity::Debug => "debug",
        }
    }
}

/// A QoS rule (`QoS`): a rate limit, a DSCP mark, or both, for the packets that match.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Qos {
    pub direction: Sp<Direction>,
    /// 0..32767, higher first.
    pub priority: Sp<i64>,
    #[serde(rename = "match")]
    pub matches: Sp<String>,
    /// Rate limit in kbps (`bandwidth:rate`).
    pub rate: Option<Sp<i64>>,
    /// Burst in kilobits (`bandwidth:burst`), with `rate`.
    pub burst: Option<Sp<i64>>,
    /// DSCP value to mark, 0..63 (`action:dscp`).
    pub dscp: Option<Sp<i64>>,
}

/// A port group (`Port_Group`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PortGroup {
    /// Member ports, by name (ports of this topology's switches).
    #[serde(default)]
    pub ports: Vec<Sp<String>>,
    /// The group's ACLs (`Port_Group.acls`).
    #[serde(default)]
    pub acls: Vec<Sp<Acl>>,
}

/// A load balancer (`Load_Balancer`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoadBalancer {
    /// `tcp` (OVN's default), `udp` or `sctp`.
    pub protocol: Option<Sp<LbProtocol>>,
    /// VIP -> backends: `"10.0.0.10:80": ["10.0.1.11:8080", ...]`, or without ports
    /// (`"10.0.0.10": ["10.0.1.11"]`); IPv6 as `"[fd00::10]:80"`.
    #[serde(default)]
    pub vips: Map<Vec<Sp<String>>>,
    /// Health checks of every VIP's backends (`Load_Balancer_Health_Check`); backends that
    /// fail are taken out of service. Needs VIPs with ports and backends that are ports of
    /// this topology.
    pub health_check: Option<Sp<HealthCheck>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LbProtocol {
    Tcp,
    Udp,
    Sctp,
}

impl LbProtocol {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LbProtocol::Tcp => "tcp",
            LbProtocol::Udp => "udp",
            LbProtocol::Sctp => "sctp",
        }
    }
}

/// A load balancer's health check (`options` of `Load_Balancer_Health_Check`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HealthCheck {
    /// Seconds between probes (`interval`).
    pub interval: Option<Sp<i64>>,
    /// Seconds to wait for an answer (`timeout`).
    pub timeout: Option<Sp<i64>>,
    /// Answers in a row that bring a backend back (`success_count`).
    pub success_count: Option<Sp<i64>>,
    /// Failures in a row that take a backend out (`failure_count`).
    pub failure_count: Option<Sp<i64>>,
    /// The addresses probes come from, one unused address per backend subnet
    /// (`ip_port_mappings`: each backend maps to its port and the source in its subnet).
    #[serde(default)]
    pub source_ips: Vec<Sp<String>>,
}

/// DHCP for a switch's VIF ports: DHCPv4 on `subnet`, DHCPv6 on `ipv6-prefix`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dhcp {
    pub v4: Option<Sp<Dhcp4>>,
    pub v6: Option<Sp<Dhcp6>>,
}

/// DHCPv4 options (`DHCP_Options.options`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dhcp4 {
    /// The network served (`cidr`); the switch's `subnet` when absent.
    pub cidr: Option<Sp<String>>,
    /// The default gateway handed out (`router`).
    pub router: Option<Sp<String>>,
    /// The DHCP server's address (`server_id`); `router` when absent.
    pub server_id: Option<Sp<String>>,
    /// The DHCP server's MAC (`server_mac`); derived from the switch's name when absent.
    pub server_mac: Option<Sp<String>>,
    /// Lease time in seconds (`lease_time`); 3600 when absent.
    pub lease_time: Option<Sp<i64>>,
    /// DNS servers (`dns_server`).
    #[serde(default)]
    pub dns_server: Vec<Sp<String>>,
    /// The domain name (`domain_name`).
    pub domain_name: Option<Sp<String>>,
    /// Interface MTU (`mtu`).
    pub mtu: Option<Sp<i64>>,
    /// Further options as OVN names them (`ovn-nb(5)`, DHCP_Options TABLE), e.g.
    /// `ntp_server: "{10.0.0.4}"`.
    #[serde(default)]
    pub options: Map<Sp<String>>,
}

/// DHCPv6 options (`DHCP_Options.options`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dhcp6 {
    /// The network served (`cidr`); the switch's `ipv6-prefix` when absent.
    pub cidr: Option<Sp<String>>,
    /// The DHCPv6 server's MAC (`server_id`); derived from the switch's name when absent.
    pub server_id: Option<Sp<String>>,
    /// DNS servers (`dns_server`).
    #[serde(default)]
    pub dns_server: Vec<Sp<String>>,
    /// The domain search list (`domain_search`).
    pub domain_search: Option<Sp<String>>,
    /// Hand out only other configuration, not addresses (`dhcpv6_stateless`).
    pub stateless: Option<Sp<bool>>,
    /// Further options as OVN names them.
    #[serde(default)]
    pub options: Map<Sp<String>>,
}

/// Names defined outside this topology that its matches may use.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct External {
    /// Port groups another tool manages (`@name`, `$name_ip4`, `$name_ip6`).
    #[serde(default)]
    pub port_groups: Vec<Sp<String>>,
    /// Address sets another tool manages (`$name`).
    #[serde(default)]
    pub address_sets: Vec<Sp<String>>,
}

/// A logical switch port (`Logical_Switch_Port`). Which keys apply depends on `type`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Port {
    /// The port type; a VM or container interface (`vif`) when absent.
    #[serde(rename = "type")]
    pub ty: Option<Sp<PortType>>,
    /// Ethernet address (first word of `addresses`).
    pub mac: Option<Sp<String>>,
    /// One IP address (in `addresses`); `virtual`: the virtual IP.
    pub ip: Option<Sp<String>>,
    /// Several IP addresses (IPv4 and IPv6) instead of `ip`.
    #[serde(default)]
    pub ips: Vec<Sp<String>>,
    /// Let OVN assign the addresses (`addresses: dynamic` or `<mac> dynamic`).
    pub dynamic: Option<Sp<bool>>,
    /// Also accept unknown destination MACs (`unknown` in `addresses`).
    pub unknown: Option<Sp<bool>>,
    /// `port_security`: `true` (the port's addresses), `false` (none, OVN's default), or an
    /// explicit list of `"<mac> [ip...]"` entries.
    pub port_security: Option<Sp<PortSecurity>>,
    /// vif: the chassis to bind on (`options:requested-chassis`); l2gateway: the gateway
    /// chassis (`options:l2gateway-chassis`).
    pub chassis: Option<Sp<String>>,
    /// localnet, l2gateway: the physical network (`options:network_name`).
    pub network: Option<Sp<String>>,
    /// localnet, l2gateway: the VLAN (`tag_request`), 1..4095.
    pub tag: Option<Sp<i64>>,
    /// external: the HA chassis group that binds it (`ha_chassis_group`).
    pub ha_group: Option<Sp<String>>,
    /// vtep: `options:vtep-physical-switch`.
    pub vtep_physical_switch: Option<Sp<String>>,
    /// vtep: `options:vtep-logical-switch`.
    pub vtep_logical_switch: Option<Sp<String>>,
    /// virtual: the ports that may own the virtual IP (`options:virtual-parents`).
    #[serde(default)]
    pub parents: Vec<Sp<String>>,
    /// Administrative state (`enabled`); enabled when absent.
    pub enabled: Option<Sp<bool>>,
    /// vif: `false` leaves this port out of the switch's `dhcp` (no `dhcpv4_options` /
    /// `dhcpv6_options`).
    pub dhcp: Option<Sp<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortType {
    Vif,
    Localnet,
    Localport,
    L2gateway,
    Vtep,
    External,
    Virtual,
    /// Never written by hand: router ports come from `routers`.
    Router,
}

impl PortType {
    /// The `Logical_Switch_Port.type` OVN stores.
    pub(crate) fn ovn_type(self) -> &'static str {
        match self {
            PortType::Vif => "",
            PortType::Localnet => "localnet",
            PortType::Localport => "localport",
            PortType::L2gateway => "l2gateway",
            PortType::Vtep => "vtep",
            PortType::External => "external",
            PortType::Virtual => "virtual",
            PortType::Router => "router",
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            PortType::Vif => "vif",
            other => other.ovn_type(),
        }
    }
}

/// `port-security: true | false | [entries]`.
#[derive(Debug, Clone)]
pub enum PortSecurity {
    Enabled(bool),
    Explicit(Vec<Sp<String>>),
}

impl<'de> Deserialize<'de> for PortSecurity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PortSecurity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, or a list of \"<mac> [ip...]\" entries")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<PortSecurity, E> {
                Ok(PortSecurity::Enabled(b))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PortSecurity, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<Sp<String>>()? {
                    v.push(s);
                }
                Ok(PortSecurity::Explicit(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PortSecurity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortSecurity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "true (the port's addresses), false (none), or explicit entries",
            "anyOf": [
                { "type": "boolean" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

/// A logical router (`Logical_Router`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Router {
    /// Makes this a gateway router bound to that chassis (`options:chassis`).
    pub chassis: Option<Sp<String>>,
    /// Router ports: each connects to a switch (or peers with another router).
    #[serde(default)]
    pub ports: Vec<Sp<RouterPort>>,
    /// Static routes (`Logical_Router_Static_Route`).
    #[serde(default)]
    pub routes: Vec<Sp<Route>>,
    /// Policy-based routing (`Logical_Router_Policy`).
    #[serde(default)]
    pub policies: Vec<Sp<Policy>>,
    /// NAT rules (`NAT`).
    #[serde(default)]
    pub nat: Vec<Sp<Nat>>,
    /// Load balancers applied on the router (`load_balancer`), by name.
    #[serde(default)]
    pub load_balancers: Vec<Sp<String>>,
}

/// A router port. On switch `ls1` of router `lr1` it becomes LRP `lr1-ls1` and the switch's
/// router-type LSP `ls1-lr1`; peered with router `lr2` it becomes LRP `lr1-lr2`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RouterPort {
    /// The switch this port connects to.
    pub switch: Option<Sp<String>>,
    /// Instead of a switch: the router this port peers with directly (`peer`).
    pub peer: Option<Sp<String>>,
    /// `mac`; derived from the port name when absent (stable across runs).
    pub mac: Option<Sp<String>>,
    /// The port's address with prefix length (`networks`), e.g. `10.10.10.1/24`.
    pub ip: Option<Sp<String>>,
    /// Several networks instead of `ip`.
    #[serde(default)]
    pub ips: Vec<Sp<String>>,
    /// Makes this a distributed gateway port.
    pub gateway: Option<Sp<Gateway>>,
    /// The LRP's name when it is not `<router>-<switch>` (or `<router>-<peer>`), e.g. for rows
    /// made by another tool (`topo import` writes it).
    pub name: Option<Sp<String>>,
    /// The name of the switch's router-type LSP when it is not `<switch>-<router>`.
    pub switch_port: Option<Sp<String>>,
    /// `addresses` of the switch's router-type LSP: `[router]` when absent; ovn-nbctl
    /// tutorials write the router port's MAC instead (`lsp-set-addresses ls1-lr1 <mac>`).
    #[serde(default)]
    pub switch_port_addresses: Vec<Sp<String>>,
    /// `options:nat-addresses` of the switch's router-type LSP: `router` (topo's default on a
    /// gateway's switch with a localnet port), `none` (leave the option out), or an explicit
    /// `"<mac> <ip>..."` value.
    pub nat_addresses: Option<Sp<String>>,
    /// IPv6 router advertisements (`ipv6_ra_configs`), keys as OVN names them:
    /// `address_mode` (`slaac`, `dhcpv6_stateful`, `dhcpv6_stateless`), `send_periodic`,
    /// `max_interval`, `min_interval`, `mtu`, `prefer`, ...
    #[serde(default)]
    pub ipv6_ra: Map<Sp<String>>,
}

/// A distributed gateway port's chassis: priorities, or an HA chassis group.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Gateway {
    /// chassis name -> priority: `Gateway_Chassis` rows named `<lrp>-<chassis>`.
    #[serde(default)]
    pub chassis: Map<Sp<i64>>,
    /// An HA chassis group (`ha_chassis_group`).
    pub ha_group: Option<Sp<String>>,
    /// How the `Gateway_Chassis` rows are named: `ovn-nbctl` (`<lrp>-<chassis>`, the default)
    /// or `ovsdbapp` (`<lrp>_<chassis>`, as Neutron names them).
    pub names: Option<Sp<GatewayNames>>,
}

/// The naming convention of `Gateway_Chassis` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GatewayNames {
    /// `<lrp>-<chassis>`, as `ovn-nbctl lrp-set-gateway-chassis` names them.
    OvnNbctl,
    /// `<lrp>_<chassis>`, as Neutron's ovsdbapp names them.
    Ovsdbapp,
}

/// A static route.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Route {
    /// `ip_prefix`, e.g. `0.0.0.0/0`.
    pub prefix: Sp<String>,
    /// `nexthop`.
    pub nexthop: Sp<String>,
    /// Match the destination (`dst-ip`, default) or the source (`src-ip`).
    pub policy: Option<Sp<RoutePolicy>>,
    /// `output_port`: the LRP name (`lr1-lsjoin`).
    pub output_port: Option<Sp<String>>,
    /// One of several nexthops for this prefix (ECMP, as `ovn-nbctl --ecmp`).
    pub ecmp: Option<Sp<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RoutePolicy {
    DstIp,
    SrcIp,
}

impl RoutePolicy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RoutePolicy::DstIp => "dst-ip",
            RoutePolicy::SrcIp => "src-ip",
        }
    }
}

/// A router policy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// 0..32767, higher first.
    pub priority: Sp<i64>,
    /// An OVN logical flow match, e.g. `ip4.src == 10.0.0.0/24`.
    #[serde(rename = "match")]
    pub matches: Sp<String>,
    pub action: Sp<PolicyAction>,
    /// reroute: the nexthop(s).
    #[serde(default)]
    pub nexthops: Vec<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyAction {
    Allow,
    Drop,
    Reroute,
}

impl PolicyAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PolicyAction::Allow => "allow",
            PolicyAction::Drop => "drop",
            PolicyAction::Reroute => "reroute",
        }
    }
}

/// A NAT rule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Nat {
    #[serde(rename = "type")]
    pub ty: Sp<NatType>,
    /// `external_ip`: one address.
    pub external_ip: Sp<String>,
    /// `logical_ip`: a network for `snat`, one address otherwise.
    pub logical_ip: Sp<String>,
    /// dnat_and_snat: the VIF holding the floating IP (`logical_port`), for distributed NAT.
    pub logical_port: Option<Sp<String>>,
    /// dnat_and_snat: the floating IP's MAC (`external_mac`), with `logical-port`.
    pub external_mac: Option<Sp<String>>,
    /// The distributed gateway port to use when the router has several (`gateway_port`).
    pub gateway_port: Option<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NatType {
    Snat,
    Dnat,
    DnatAndSnat,
}

impl NatType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NatType::Snat => "snat",
            NatType::Dnat => "dnat",
            NatType::DnatAndSnat => "dnat_and_snat",
        }
    }
}

/// The lab's physical side.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Lab {
    /// Physical networks (by the name chassis map in `bridge-mappings`).
    #[serde(default)]
    pub networks: Map<Sp<LabNetwork>>,
    /// Hosts behind a VTEP's physical port (untagged): host name -> where and its address.
    #[serde(default)]
    pub vtep_hosts: Map<Sp<LabVtepHost>>,
}

/// A lab host plugged into a physical port of an emulated VTEP.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LabVtepHost {
    /// The VTEP (a key of `vteps`).
    pub vtep: Sp<String>,
    /// Its physical port (a key of the VTEP's `ports`).
    pub port: Sp<String>,
    /// The host's address with prefix length, e.g. `10.10.10.20/24`.
    pub ip: Sp<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LabNetwork {
    /// The network's subnet, e.g. `10.10.40.0/24`.
    pub subnet: Sp<String>,
    /// The network's IPv6 prefix, e.g. `fd00:40::/64` (a dual-stack network).
    pub ipv6_prefix: Option<Sp<String>>,
    /// Hosts on the network: host name -> its address, or its addresses (one IPv4, and IPv6
    /// ones in `ipv6-prefix`): `client: 10.10.40.10` or `client: [10.10.40.10, "fd00:40::10"]`.
    #[serde(default)]
    pub hosts: Map<Sp<HostAddresses>>,
}

/// A lab host's addresses: one address, or a list of them.
#[derive(Debug, Clone)]
pub enum HostAddresses {
    One(String),
    Many(Vec<Sp<String>>),
}

impl HostAddresses {
    /// Each address with where it was written (`span`: where the single address was).
    pub fn items(&self, span: crate::source::Span) -> Vec<Sp<String>> {
        match self {
            HostAddresses::One(s) => vec![Sp {
                value: s.clone(),
                span,
            }],
            HostAddresses::Many(v) => v.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for HostAddresses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HostAddresses;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an IP address or a list of IP addresses")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HostAddresses, E> {
                Ok(HostAddresses::One(s.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HostAddresses, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<Sp<String>>()? {
                    v.push(s);
                }
                Ok(HostAddresses::Many(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for HostAddresses {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HostAddresses".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "an IP address, or a list of them (one IPv4, IPv6 ones)",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

/// A connectivity check run by `topo verify`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Check {
    /// A name for `topo verify --check NAME` and the report (unique).
    pub name: Option<Sp<String>>,
    /// A VIF port (with `chassis`) or a lab host.
    pub from: Sp<String>,
    /// A port, a lab host, or an IP address (`balanced`: the load balancer's VIP); not for
    /// `dhcp`.
    pub to: Option<Sp<String>>,
    pub expect: Sp<Expect>,
    /// expect source-ip: the source address `to` must see.
    pub source_ip: Option<Sp<String>>,
    /// reachable, unreachable, balanced: `PORT/tcp` or `PORT/udp`; a listener on `to`
    /// answers instead of ICMP echo.
    pub port: Option<Sp<String>>,
    /// expect dhcp: the address the lease must give (default: the port's IPv4 address).
    pub address: Option<Sp<String>>,
    /// expect dhcp: the router the lease must give (default: the router port on the switch).
    pub router: Option<Sp<String>>,
    /// expect dhcp: the DNS server the lease must give (not compared when absent).
    pub dns: Option<Sp<String>>,
    /// expect balanced: the ports or hosts behind the VIP; each runs a listener that
    /// answers with its name.
    #[serde(default)]
    pub backends: Vec<Sp<String>>,
    /// expect balanced: the port the backends listen on (default: `port`'s).
    pub backend_port: Option<Sp<u16>>,
    /// expect balanced: connections to open (default 12).
    pub connections: Option<Sp<u32>>,
    /// expect balanced: a backend whose listener is stopped; every connection must then
    /// succeed on the others (the load balancer's health check removed it).
    pub stop_backend: Option<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Reachable,
    Unreachable,
    SourceIp,
    Dhcp,
    Balanced,
}

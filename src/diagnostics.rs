//! Diagnostics about a topology: stable codes, severities, labels pointing into the YAML.
//!
//! Loading and checking accumulate every problem in a [`Diagnostics`] list instead of stopping
//! at the first, so a user fixes a file in one round. Each [`Code`] is stable and documented
//! in `docs/diagnostics.md` (a test keeps the two in step). Rendering (graphical or JSON) is
//! done by [`Rendered`], which pairs a diagnostic with the [`Sources`] its spans point into;
//! printing is left to the CLI.

use std::fmt;

use miette::{LabeledSpan, SourceCode};
use serde::Serialize;

use crate::source::{Sources, Span};

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, )*) => {
        /// Every diagnostic code topo can emit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            /// All codes, for documentation tests.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code string, e.g. `topo::ref::unknown-switch`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $code, )*
                }
            }
        }
    };
}

codes! {
    /// A file could not be read (missing, a directory without topology files, unreadable).
    IoRead = "topo::io::read",
    /// A file is larger than topo accepts.
    IoTooLarge = "topo::io::too-large",
    /// The YAML is malformed, or a value has the wrong type.
    YamlSyntax = "topo::yaml::syntax",
    /// A key topo does not know.
    YamlUnknownKey = "topo::yaml::unknown-key",
    /// A value that is not one of the allowed words (`type: localnett`).
    YamlUnknownVariant = "topo::yaml::unknown-variant",
    /// A required key is missing.
    YamlMissingKey = "topo::yaml::missing-key",
    /// The same key twice in one mapping.
    YamlDuplicateKey = "topo::yaml::duplicate-key",
    /// The document exceeds a resource budget (alias bomb, nesting depth, size).
    YamlBudget = "topo::yaml::budget",
    /// No file gives the stack `name`.
    NameMissingStack = "topo::name::missing-stack",
    /// A name topo cannot use safely in OVN, OVS or the lab.
    NameInvalid = "topo::name::invalid",
    /// An object defined twice (in one file or across files).
    NameDuplicate = "topo::name::duplicate",
    /// Two logical switch ports or two logical router ports with one name.
    NameDuplicatePort = "topo::name::duplicate-port",
    /// A reference to a switch that is not defined.
    RefUnknownSwitch = "topo::ref::unknown-switch",
    /// A reference to a router that is not defined.
    RefUnknownRouter = "topo::ref::unknown-router",
    /// A reference to a chassis that is not defined.
    RefUnknownChassis = "topo::ref::unknown-chassis",
    /// A reference to an HA chassis group that is not defined.
    RefUnknownHaGroup = "topo::ref::unknown-ha-group",
    /// A reference to a physical network no chassis maps.
    RefUnknownNetwork = "topo::ref::unknown-network",
    /// A reference to a port that is not defined where it must be.
    RefUnknownPort = "topo::ref::unknown-port",
    /// A check names an endpoint that is neither a port nor a lab host.
    RefUnknownEndpoint = "topo::ref::unknown-endpoint",
    /// A MAC address that is malformed or not a unicast address.
    AddrBadMac = "topo::addr::bad-mac",
    /// An IP address that is malformed or of the wrong kind.
    AddrBadIp = "topo::addr::bad-ip",
    /// A network (CIDR) that is malformed or of the wrong kind.
    AddrBadCidr = "topo::addr::bad-cidr",
    /// An address outside the subnet of the switch or network it is on.
    AddrOutsideSubnet = "topo::addr::outside-subnet",
    /// One IP address used twice where it must be unique.
    AddrDuplicateIp = "topo::addr::duplicate-ip",
    /// Two ports with one MAC address on one switch.
    AddrDuplicateMac = "topo::addr::duplicate-mac",
    /// Two ports of one router on overlapping networks.
    AddrOverlappingNetworks = "topo::addr::overlapping-networks",
    /// A router port address outside the subnet of the switch it connects to.
    AddrRouterPortOutsideSubnet = "topo::addr::router-port-outside-subnet",
    /// A key the object needs is missing.
    ValueMissing = "topo::value::missing",
    /// Keys that cannot be used together.
    ValueConflict = "topo::value::conflict",
    /// A key that has no meaning for this kind of object.
    ValueNotAllowed = "topo::value::not-allowed",
    /// A VLAN tag outside 1..4095.
    ValueVlanRange = "topo::value::vlan-range",
    /// A priority outside 0..32767.
    ValuePriorityRange = "topo::value::priority-range",
    /// `type: router` written by hand on a switch port.
    PortRouterByHand = "topo::port::router-by-hand",
    /// Two routers peered directly on one side only.
    RouterOneSidedPeer = "topo::router::one-sided-peer",
    /// A static route whose nexthop is on no directly connected network.
    RouteUnreachableNexthop = "topo::route::unreachable-nexthop",
    /// The same route twice.
    RouteDuplicate = "topo::route::duplicate",
    /// Several nexthops for one prefix without `ecmp: true`.
    RouteEcmpNotMarked = "topo::route::ecmp-not-marked",
    /// A route whose prefix and nexthop are of different IP families.
    RouteFamilyMismatch = "topo::route::family-mismatch",
    /// A NAT external IP on none of the gateway's networks.
    NatExternalIpOffNetwork = "topo::nat::external-ip-off-network",
    /// NAT on a distributed router that has no distributed gateway port.
    NatNoGatewayPort = "topo::nat::no-gateway-port",
    /// NAT on a distributed router with several gateway ports and no `gateway-port`.
    NatAmbiguousGatewayPort = "topo::nat::ambiguous-gateway-port",
    /// A distributed `dnat_and_snat` with only one of `logical-port` / `external-mac`.
    NatDistributedIncomplete = "topo::nat::distributed-incomplete",
    /// The same NAT rule twice.
    NatDuplicate = "topo::nat::duplicate",
    /// A router port with both gateway chassis and an HA chassis group.
    GatewayChassisAndHaGroup = "topo::gateway::chassis-and-ha-group",
    /// A distributed gateway port on a gateway router.
    GatewayOnGatewayRouter = "topo::gateway::on-gateway-router",
    /// A gateway router peered straight to a distributed router.
    GatewayDirectPeering = "topo::gateway::direct-peering",
    /// A localnet network that no declared chassis maps (warning).
    ChassisUnmappedNetwork = "topo::chassis::unmapped-network",
    /// An l2gateway port whose chassis does not map its network.
    ChassisL2gatewayUnmapped = "topo::chassis::l2gateway-unmapped",
    /// Two localnet ports of one switch mapped on the same chassis.
    ChassisLocalnetConflict = "topo::chassis::localnet-conflict",
    /// A gateway chassis that does not map the physical network of the gateway's switch.
    ChassisGatewayUnmapped = "topo::chassis::gateway-unmapped",
    /// A gateway on a chassis whose bridge mappings the topology does not declare: plan
    /// checks them in the Southbound (warning).
    ChassisGatewayUnverified = "topo::chassis::gateway-unverified",
    /// A `managed: false` chassis with settings topo would not write.
    ChassisUnmanagedSettings = "topo::chassis::unmanaged-settings",
    /// A VIF on a chassis that does not map the physical network of its switch (warning).
    ChassisVifUnmapped = "topo::chassis::vif-unmapped",
    /// A distributed floating IP whose VM's chassis does not map the physical network the
    /// floating IP is answered on.
    ChassisFipUnmapped = "topo::chassis::fip-unmapped",
    /// A port group or address set whose name a match cannot use (`@name`, `$name`).
    NameNotIdentifier = "topo::name::not-an-identifier",
    /// A port group with the name of a switch (their ACLs would share keys).
    NameGroupIsSwitch = "topo::name::group-is-switch",
    /// A value outside the range OVN accepts (DSCP, rates, labels, DHCP lease time, ...).
    ValueRange = "topo::value::range",
    /// Two ACLs (or QoS rules) of one switch or port group with one direction, priority and
    /// match.
    AclDuplicate = "topo::acl::duplicate",
    /// A match that does not parse.
    MatchSyntax = "topo::match::syntax",
    /// A match naming a field OVN does not have.
    MatchUnknownField = "topo::match::unknown-field",
    /// A match naming a port group (`@pg`) or address set (`$as`) that is not defined.
    MatchUnknownName = "topo::match::unknown-name",
    /// A reference to a load balancer that is not defined.
    RefUnknownLoadBalancer = "topo::ref::unknown-load-balancer",
    /// A VIP or backend that is not `ip`, `ip:port` or `[ipv6]:port`.
    LbBadEndpoint = "topo::lb::bad-endpoint",
    /// A VIP and a backend of different IP families.
    LbFamilyMismatch = "topo::lb::family-mismatch",
    /// Ports on a VIP but not its backends (or the reverse), or a health check of a VIP without
    /// a port.
    LbPortMismatch = "topo::lb::port-mismatch",
    /// A backend on no network of the topology.
    LbBackendUnreachable = "topo::lb::backend-unreachable",
    /// A health-checked backend that is the address of no port.
    LbBackendNotAPort = "topo::lb::backend-not-a-port",
    /// A health-checked backend with no probe source address in its subnet.
    LbNoProbeSource = "topo::lb::no-probe-source",
    /// DHCP on a switch with no subnet (or prefix) and no `cidr`.
    DhcpNoCidr = "topo::dhcp::no-cidr",
    /// A DHCP router or server address outside the network served.
    DhcpOutsideCidr = "topo::dhcp::outside-cidr",
    /// A check endpoint the lab cannot place (a port without `chassis`).
    CheckUnplacedEndpoint = "topo::check::unplaced-endpoint",
    /// A check's `port` is not `PORT/tcp` or `PORT/udp`.
    CheckBadPort = "topo::check::bad-port",
    /// A VTEP binding names a VTEP logical switch no `type: vtep` port ties to a logical switch.
    VtepUnboundLogicalSwitch = "topo::vtep::unbound-logical-switch",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A labelled place in the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem found in a topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The offending value; `None` only for problems with no place (a missing file).
    pub primary: Option<Label>,
    /// Related places: "first defined here".
    pub related: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub(crate) fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            related: Vec::new(),
            help: None,
        }
    }

    pub(crate) fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// The primary label, on the offending value.
    pub(crate) fn at(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// A secondary label.
    pub(crate) fn related(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.related.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" to the help when a candidate is close to `name`.
    pub(crate) fn suggest<'a>(
        self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
        otherwise: impl Into<String>,
    ) -> Diagnostic {
        match did_you_mean(name, candidates) {
            Some(s) => self.help(format!("did you mean `{s}`?")),
            None => self.help(otherwise),
        }
    }
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// The diagnostics of one load and check, in the order they were found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub(crate) fn errors(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.items.len() - self.errors()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorted by file position, then code, so output does not depend on check order.
    pub fn sorted(mut self) -> Diagnostics {
        self.items.sort_by(|a, b| {
            let pa = a.primary.as_ref().map(|l| l.span);
            let pb = b.primary.as_ref().map(|l| l.span);
            pa.cmp(&pb)
                .then(a.code.cmp(&b.code))
                .then(a.message.cmp(&b.message))
        });
        self.items.dedup();
        self
    }
}

/// A diagnostic paired with its sources: what miette renders.
pub(crate) struct Rendered<'a> {
    pub diagnostic: &'a Diagnostic,
    pub sources: &'a Sources,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diagnostic.fmt(f)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.diagnostic
            .primary
            .as_ref()
            .map(|_| self.sources as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = self.diagnostic.primary.as_ref()?;
        let first = LabeledSpan::new_primary_with_span(Some(primary.text.clone()), primary.span);
        let rest = self
            .diagnostic
            .related
            .iter()
            .map(|l| LabeledSpan::new_with_span(Some(l.text.clone()), l.span));
        Some(Box::new(std::iter::once(first).chain(rest)))
    }
}

/// The machine-readable form of a diagnostic (`topo validate --format json`). The place of
/// the primary label and of each related one is given twice: as 1-based `line` and `column`
/// (in characters), and as a byte `offset` from the start of `file` with its `length`.
#[derive(Debug, Clone, Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub offset: Option<usize>,
    pub length: Option<usize>,
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<JsonLabel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonLabel {
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub offset: Option<usize>,
    pub length: Option<usize>,
}

/// A label's place: file, line, column, file-local offset and length (all `None` when the
/// span lands in no file).
struct Place {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    offset: Option<usize>,
    length: Option<usize>,
}

impl Place {
    fn of(span: Span, sources: &Sources) -> Place {
        match sources.position(span.offset) {
            Some(p) => Place {
                file: Some(p.file),
                line: Some(p.line),
                column: Some(p.column),
                offset: Some(p.offset),
                length: Some(span.len),
            },
            None => Place::nowhere(),
        }
    }

    fn nowhere() -> Place {
        Place {
            file: None,
            line: None,
            column: None,
            offset: None,
            length: None,
        }
    }
}

impl JsonDiagnostic {
    pub fn new(d: &Diagnostic, sources: &Sources) -> JsonDiagnostic {
        let at = d
            .primary
            .as_ref()
            .map_or_else(Place::nowhere, |l| Place::of(l.span, sources));
        JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity,
            message: d.message.clone(),
            file: at.file,
            line: at.line,
            column: at.column,
            offset: at.offset,
            length: at.length,
            label: d.primary.as_ref().map(|l| l.text.clone()),
            help: d.help.clone(),
            related: d
                .related
                .iter()
                .map(|l| {
                    let at = Place::of(l.span, sources);
                    JsonLabel {
                        message: l.text.clone(),
                        file: at.file,
                        line: at.line,
                        column: at.column,
                        offset: at.offset,
                        length: at.length,
                    }
                })
                .collect(),
        }
    }
}

/// Diagnostics as GitHub Actions workflow commands (`topo validate --format github`), one
/// line each: `::error file=PATH,line=L,col=C,title=CODE::message` (`::warning` for warnings),
/// which a workflow run shows as an annotation on that line of the pull request's diff. The
/// place is the primary label's (1-based line, column in characters); a diagnostic with no
/// place has no `file`, `line` or `col`. The message carries the help and the related places
/// on lines of their own.
pub fn render_github(diagnostics: &Diagnostics, sources: &Sources) -> String {
    let mut out = String::new();
    for d in &diagnostics.items {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(p) = d
            .primary
            .as_ref()
            .and_then(|l| sources.position(l.span.offset))
        {
            properties.push(format!("file={}", github_property(&p.file)));
            properties.push(format!("line={}", p.line));
            properties.push(format!("col={}", p.column));
        }
        properties.push(format!("title={}", github_property(d.code.as_str())));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        for l in &d.related {
            message.push('\n');
            if let Some(p) = sources.position(l.span.offset) {
                message.push_str(&format!("{}:{}:{}: ", p.file, p.line, p.column));
            }
            message.push_str(&l.text);
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            github_data(&message)
        ));
    }
    out
}

/// A workflow command's message, escaped as GitHub's toolkit does (`%`, CR, LF).
pub(crate) fn github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: the message escapes, and `:` and `,`, which end it.
pub(crate) fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders diagnostics as miette's graphical report, without colour, at a fixed width (tests,
/// and the CLI when colour is off).
pub fn render_plain(diagnostics: &Diagnostics, sources: &Sources, width: usize) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(width);
    let mut out = String::new();
    for d in &diagnostics.items {
        let r = Rendered {
            diagnostic: d,
            sources,
        };
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(c.as_str().starts_with("topo::"), "{c}");
            assert!(seen.insert(c.as_str()), "duplicate {c}");
        }
    }

    #[test]
    fn suggestions_pick_close_names() {
        assert_eq!(did_you_mean("ls3", ["ls1", "lsjoin"]), Some("ls1"));
        assert_eq!(did_you_mean("outside", ["ls1", "lsjoin"]), None);
    }

    #[test]
    fn github_commands_escape_what_ends_them() {
        assert_eq!(
            github_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(github_property("topo::x, 50%\n"), "topo%3A%3Ax%2C 50%25%0A");
    }

    #[test]
    fn a_github_command_per_diagnostic_at_its_primary_label() {
        let mut sources = Sources::new();
        sources.add("a.yaml", "name: lab\nswitches:\n  ls1: {}\n".into());
        let b = sources.add("dir,x/b:1.yaml", "switches:\n  ls1: {}\n".into());
        let mut diags = Diagnostics::new();
        diags.push(
            Diagnostic::error(Code::NameDuplicate, "switch `ls1` is defined twice")
                .at(Span::new(b + 12, 3), "defined again here")
                .related(Span::new(22, 3), "first defined here")
                .help("rename one: 100% unique"),
        );
        diags.push(Diagnostic::warning(Code::IoRead, "no place"));
        assert_eq!(
            render_github(&diags, &sources),
            "::error file=dir%2Cx/b%3A1.yaml,line=2,col=3,title=topo%3A%3Aname%3A%3Aduplicate::\
             switch `ls1` is defined twice%0Ahelp: rename one: 100%25 unique%0A\
             a.yaml:3:3: first defined here\n\
             ::warning title=topo%3A%3Aio%3A%3Aread::no place\n"
        );
    }
}

//! OVN match expressions (ACLs, QoS rules, router policies), parsed enough to catch the
//! mistakes `ovn-northd` would otherwise log and silently drop the flow for.
//!
//! The grammar is `ovn-sb(5)`'s "Logical_Flow TABLE" match syntax as `lib/expr.c` parses it:
//! `!`, `&&`, `||` (the two may not be mixed without parentheses), parentheses, comparisons
//! `field[bits] op value` (also `value op field` and `value op field op value`), bare
//! boolean fields (`ip4`, `tcp`, `ct.est`), value sets `{…}`, address sets `$name` and port
//! groups `@name`, and `is_chassis_resident("port")`.
//!
//! What it catches: unbalanced `()`, `{}`, `[]` and quotes, a missing operand or operator,
//! `&&` and `||` mixed at one level, fields OVN does not know (with a "did you mean"), and it
//! returns every `$name` / `@name` so the caller can check they exist.
//! What it does not: types and widths (`ip4.src == 22`, `tcp.dst == 70000`), prerequisites
//! (`tcp.dst` implies `tcp`), masks that are not prefixes, and whether the expression can
//! ever match. `ovn-trace` or `ovn-northd`'s log say those.

/// A `$name` or `@name` in a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NameRef {
    /// `$` (an address set, or a port group's `_ip4` / `_ip6`) or `@` (a port group).
    pub sigil: char,
    pub name: String,
}

/// Why a match does not parse: the message and the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MatchError {
    Syntax(String),
    UnknownField {
        field: String,
        suggestion: Option<&'static str>,
    },
}

/// The fields of OVN 22.03 to 24.09's logical flow matches (`ovn-sb(5)`), and the subfield
/// prefixes whose numbered members are fields too (`reg0`, `xxreg1`).
const FIELDS: &[&str] = &[
    "inport",
    "outport",
    "flags",
    "flags.loopback",
    "pkt.mark",
    "eth.src",
    "eth.dst",
    "eth.type",
    "eth.bcast",
    "eth.mcast",
    "vlan.tci",
    "vlan.vid",
    "vlan.pcp",
    "vlan.present",
    "ip",
    "ip.proto",
    "ip.dscp",
    "ip.ecn",
    "ip.ttl",
    "ip.frag",
    "ip.first_frag",
    "ip.later_frag",
    "ip.is_frag",
    "ip4",
    "ip4.src",
    "ip4.dst",
    "ip4.mcast",
    "ip4.src_mcast",
    "ip6",
    "ip6.src",
    "ip6.dst",
    "ip6.label",
    "ip6.mcast",
    "ip6.mcast_rsvd",
    "ip6.mcast_all_nodes",
    "ip6.mcast_all_rtrs",
    "ip6.mcast_sol_node",
    "ip6.mcast_flood",
    "arp",
    "arp.op",
    "arp.spa",
    "arp.tpa",
    "arp.sha",
    "arp.tha",
    "rarp",
    "rarp.op",
    "rarp.spa",
    "rarp.tpa",
    "rarp.sha",
    "rarp.tha",
    "nd",
    "nd.target",
    "nd.sll",
    "nd.tll",
    "nd_ns",
    "nd_na",
    "nd_rs",
    "nd_ra",
    "nd_ns_mcast",
    "tcp",
    "tcp.src",
    "tcp.dst",
    "tcp.flags",
    "udp",
    "udp.src",
    "udp.dst",
    "sctp",
    "sctp.src",
    "sctp.dst",
    "icmp",
    "icmp4",
    "icmp4.type",
    "icmp4.code",
    "icmp6",
    "icmp6.type",
    "icmp6.code",
    "igmp",
    "mldv1",
    "mldv2",
    "mld",
    "ct.new",
    "ct.est",
    "ct.rel",
    "ct.rpl",
    "ct.inv",
    "ct.trk",
    "ct.snat",
    "ct.dnat",
    "ct_mark",
    "ct_mark.blocked",
    "ct_mark.natted",
    "ct_mark.ecmp_reply_port",
    "ct_mark.skip_snat",
    "ct_label",
    "ct_label.blocked",
    "ct_label.label",
    "ct_label.ecmp_reply_eth",
    "ct_label.ecmp_reply_port",
    "ct_state",
    "ct_proto",
    "ct_nw_src",
    "ct_nw_dst",
    "ct_ip6_src",
    "ct_ip6_dst",
    "ct_tp_src",
    "ct_tp_dst",
    "ct_nw_proto",
    "bfd",
    "dhcp",
];

const NUMBERED: &[(&str, u32)] = &[("reg", 16), ("xreg", 8), ("xxreg", 4)];

fn is_field(name: &str) -> bool {
    if FIELDS.contains(&name) {
        return true;
    }
    NUMBERED.iter().any(|(prefix, count)| {
        name.strip_prefix(prefix)
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n < *count)
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A field or function name (letters, digits, `_`, `.`).
    Ident(String),
    /// A constant: a number, an address, a mask, a string.
    Const,
    /// `$name` or `@name`.
    Name(NameRef),
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>, MatchError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.';
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = s.get(i..i + 2).unwrap_or("");
        if let Some(op) = ["==", "!=", "<=", ">=", "&&", "||", ".."]
            .into_iter()
            .find(|op| *op == two)
        {
            out.push(Tok::Op(op));
            i += 2;
            continue;
        }
        if let Some(op) = ["(", ")", "{", "}", "[", "]", ",", "!", "<", ">"]
            .into_iter()
            .find(|op| op.as_bytes()[0] == c)
        {
            out.push(Tok::Op(op));
            i += 1;
            continue;
        }
        match c {
            b'=' | b'&' | b'|' => {
                let want = match c {
                    b'=' => "`==`",
                    b'&' => "`&&`",
                    _ => "`||`",
                };
                return Err(MatchError::Syntax(format!(
                    "`{}` is not an operator (did you mean {want}?)",
                    c as char
                )));
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                if j >= b.len() {
                    return Err(MatchError::Syntax(
                        "a string is not closed with `\"`".into(),
                    ));
                }
                out.push(Tok::Const);
                i = j + 1;
            }
            b'$' | b'@' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && ident_char(b[j]) {
                    j += 1;
                }
                if j == start {
                    return Err(MatchError::Syntax(format!(
                        "`{}` is not followed by a name",
                        c as char
                    )));
                }
                out.push(Tok::Name(NameRef {
                    sigil: c as char,
                    name: s[start..j].to_owned(),
                }));
                i = j;
            }
            _ if c.is_ascii_digit() || c == b':' => {
                // Numbers, IPv4/IPv6 and MAC addresses, with an optional `/mask`: everything
                // up to a delimiter (a `..` inside is a range, not part of the number).
                let mut j = i;
                while j < b.len()
                    && (b[j].is_ascii_hexdigit()
                        || matches!(b[j], b':' | b'/' | b'x' | b'X')
                        || (b[j] == b'.' && b.get(j + 1) != Some(&b'.')))
                {
                    j += 1;
                }
                out.push(Tok::Const);
                i = j;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                // `fe80::1` and other hex-led IPv6 addresses start with letters.
                while j < b.len() && (ident_char(b[j]) || b[j] == b':') {
                    j += 1;
                }
                if s[i..j].contains(':') {
                    // An IPv6 address, with an optional `/mask`.
                    while j < b.len()
                        && (b[j].is_ascii_hexdigit() || matches!(b[j], b':' | b'/' | b'.'))
                    {
                        j += 1;
                    }
                    out.push(Tok::Const);
                } else {
                    out.push(Tok::Ident(s[i..j].to_owned()));
                }
                i = j;
            }
            _ => {
                return Err(MatchError::Syntax(format!(
                    "unexpected character `{}`",
                    s[i..].chars().next().unwrap_or('?')
                )));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    names: Vec<NameRef>,
}

/// Parses `s`; on success, the `$` and `@` names it uses, in order.
pub(super) fn parse(s: &str) -> Result<Vec<NameRef>, MatchError> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return Err(MatchError::Syntax("the match is empty".into()));
    }
    let mut p = Parser {
        toks,
        at: 0,
        names: Vec::new(),
    };
    p.disjunction()?;
    if let Some(t) = p.peek() {
        return Err(MatchError::Syntax(match t {
            Tok::Op(")") => "a `)` has no matching `(`".to_owned(),
            t => format!("{} where an operator (`&&`, `||`) was expected", show(t)),
        }));
    }
    Ok(p.names)
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Const => "a constant".to_owned(),
        Tok::Name(n) => format!("`{}{}`", n.sigil, n.name),
        Tok::Op(o) => format!("`{o}`"),
    }
}

const RELOPS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat(&mut self, op: &'static str) -> bool {
        if self.peek() == Some(&Tok::Op(op)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn disjunction(&mut self) -> Result<(), MatchError> {
        self.unary()?;
        let mut joined: Option<&'static str> = None;
        while let Some(Tok::Op(op @ ("&&" | "||"))) = self.peek().cloned() {
            if joined.is_some_and(|j| j != op) {
                return Err(MatchError::Syntax(
                    "`&&` and `||` are mixed without parentheses".into(),
                ));
            }
            joined = Some(op);
            self.at += 1;
            self.unary()?;
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<(), MatchError> {
        if self.eat("!") {
            return self.unary();
        }
        if self.eat("(") {
            self.disjunction()?;
            if !self.eat(")") {
                return Err(MatchError::Syntax("a `(` is not closed with `)`".into()));
            }
            return Ok(());
        }
        match self.next() {
            Some(Tok::Ident(name)) => self.field_term(name),
            Some(Tok::Const | Tok::Name(_)) => {
                self.at -= 1;
                self.value()?;
                // `1` alone is "true"; otherwise `const op field [op const]`.
                let Some(Tok::Op(op)) = self.peek().cloned() else {
                    return Ok(());
                };
                if !RELOPS.contains(&op) {
                    return Ok(());
                }
                self.at += 1;
                match self.next() {
                    Some(Tok::Ident(name)) => self.field_term(name),
                    other => Err(expected("a field", other.as_ref())),
                }
            }
            other => Err(expected("a field, `!` or `(`", other.as_ref())),
        }
    }

    /// `field[bits]`, then optionally `op value`; `name(args)` for functions.
    fn field_term(&mut self, name: String) -> Result<(), MatchError> {
        if self.eat("(") {
            if name != "is_chassis_resident" {
                return Err(MatchError::Syntax(format!(
                    "`{name}` is not a function (OVN has `is_chassis_resident(\"port\")`)"
                )));
            }
            self.value()?;
            if !self.eat(")") {
                return Err(MatchError::Syntax(
                    "`is_chassis_resident(` is not closed with `)`".into(),
                ));
            }
            return Ok(());
        }
        if !is_field(&name) {
            let suggestion = crate::diagnostics::did_you_mean(&name, FIELDS.iter().copied());
            return Err(MatchError::UnknownField {
                field: name,
                suggestion,
            });
        }
        if self.eat("[") {
            self.expect_const("a bit index")?;
            if self.eat("..") {
                self.expect_const("a bit index")?;
            }
            if !self.eat("]") {
                return Err(MatchError::Syntax(format!(
                    "`{name}[` is not closed with `]`"
                )));
            }
        }
        if let Some(Tok::Op(op)) = self.peek().cloned()
            && RELOPS.contains(&op)
        {
            self.at += 1;
            self.value()?;
        }
        Ok(())
    }

    fn expect_const(&mut self, what: &str) -> Result<(), MatchError> {
        match self.next() {
            Some(Tok::Const) => Ok(()),
            other => Err(expected(what, other.as_ref())),
        }
    }

    /// A constant, `$name`, `@name`, or a set `{a, b, …}` of them.
    fn value(&mut self) -> Result<(), MatchError> {
        match self.next() {
            Some(Tok::Const) => {
                // `1..5` ranges inside sets and subfields.
                if self.eat("..") {
                    self.expect_const("the end of a range")?;
                }
                Ok(())
            }
            Some(Tok::Name(n)) => {
                self.names.push(n);
                Ok(())
            }
            Some(Tok::Op("{")) => loop {
                self.value()?;
                if self.eat(",") {
                    continue;
                }
                if self.eat("}") {
                    return Ok(());
                }
                return Err(MatchError::Syntax("a `{` is not closed with `}`".into()));
            },
            other => Err(expected("a value", other.as_ref())),
        }
    }
}

fn expected(what: &str, got: Option<&Tok>) -> MatchError {
    MatchError::Syntax(match got {
        Some(t) => format!("expected {what}, found {}", show(t)),
        None => format!("expected {what}, but the match ends"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e:?}"))
            .into_iter()
            .map(|n| format!("{}{}", n.sigil, n.name))
            .collect()
    }

    fn syntax(s: &str) -> String {
        match parse(s) {
            Err(MatchError::Syntax(m)) => m,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn ovn_matches_parse_and_give_their_names() {
        assert!(names("ip4").is_empty());
        assert!(names("1").is_empty());
        assert_eq!(
            names("outport == @pg_web && ip4.src == $admins && tcp.dst == 22"),
            ["@pg_web", "$admins"]
        );
        assert_eq!(
            names("inport == @web && ip4 && ip4.dst == $app_ip4"),
            ["@web", "$app_ip4"]
        );
        for ok in [
            "ip4.src == 10.0.0.0/24 && tcp.dst == {80, 443}",
            "ip6.dst == fd00::/64 || ip6.src == ::1",
            "ip6.src == fe80::1",
            "eth.src == 00:00:00:00:00:01/ff:ff:ff:00:00:00",
            "!(ct.est && ct.rpl) && reg0[0..3] == 0x5",
            "ct.est && ct_label.blocked == 0",
            "1024 <= tcp.dst <= 2048",
            "is_chassis_resident(\"lr1-ext\")",
            "udp.dst == {67, 68} && tcp.dst == 1..5",
            "icmp4 || icmp6",
            "ip4.dst == 10.0.0.10 && tcp.dst == 80",
        ] {
            parse(ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
        }
    }

    #[test]
    fn syntax_errors_say_what_is_wrong() {
        assert!(syntax("(ip4 && tcp").contains("not closed with `)`"));
        assert!(syntax("ip4 && tcp)").contains("no matching `(`"));
        assert!(syntax("ip4 && tcp || udp").contains("mixed"));
        assert!(syntax("tcp.dst == {80, 443").contains("`{`"));
        assert!(syntax("ip4.src = 10.0.0.1").contains("`==`"));
        assert!(syntax("ip4 &&").contains("ends"));
        assert!(syntax("").contains("empty"));
        assert!(syntax("tcp.dst == ").contains("ends"));
        assert!(syntax("ip4 tcp").contains("`tcp`"));
        assert!(syntax("outport == \"x").contains("string"));
        assert!(syntax("ip4.src == $").contains("name"));
    }

    #[test]
    fn unknown_fields_come_with_a_suggestion() {
        assert_eq!(
            parse("ip4.sr == 10.0.0.1"),
            Err(MatchError::UnknownField {
                field: "ip4.sr".into(),
                suggestion: Some("ip4.src"),
            })
        );
        assert!(matches!(
            parse("tcp.port == 22"),
            Err(MatchError::UnknownField { .. })
        ));
        assert!(parse("reg15 == 1").is_ok());
        assert!(matches!(
            parse("reg16 == 1"),
            Err(MatchError::UnknownField { .. })
        ));
    }
}

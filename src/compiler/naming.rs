//! Names and addresses the compiler derives, as the ovn-nbctl tutorials spell them.
//!
//! Router `lr1` on switch `ls1` gives LRP `lr1-ls1` and LSP `ls1-lr1`; router `lr1` peered
//! with `lr2` gives LRP `lr1-lr2`; a gateway chassis row is `<lrp>-<chassis>`. A router port
//! without a MAC gets one derived from its name, so it is stable across runs and machines.

use std::fmt;
use std::str::FromStr;

/// LRP of `router` on `switch` (or peered with router `switch`).
pub(crate) fn lrp_name(router: &str, other: &str) -> String {
    format!("{router}-{other}")
}

/// The router-type LSP on `switch` that faces `router`.
pub(crate) fn router_lsp_name(switch: &str, router: &str) -> String {
    format!("{switch}-{router}")
}

/// `Gateway_Chassis.name`, as `ovn-nbctl lrp-set-gateway-chassis` names it.
pub(crate) fn gateway_chassis_name(lrp: &str, chassis: &str) -> String {
    format!("{lrp}-{chassis}")
}

/// A name usable after `@` or `$` in an OVN match (port groups, address sets): OVN's
/// identifier syntax, letters, digits, `_` and `.`, not starting with a digit.
pub(crate) fn is_match_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// An Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Locally administered unicast address from a stable hash (FNV-1a) of `seed` (the
    /// compiler passes `<stack>/<lrp>`).
    pub(crate) fn derived(seed: &str) -> Mac {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let b = h.to_be_bytes();
        Mac([0x02, b[3], b[4], b[5], b[6], b[7]])
    }

    pub(crate) fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl FromStr for Mac {
    type Err = ();
    /// `xx:xx:xx:xx:xx:xx`, hex digits in either case, as OVN accepts.
    fn from_str(s: &str) -> Result<Mac, ()> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts.next().ok_or(())?;
            if p.len() != 2 {
                return Err(());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(Mac(out))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_macs_are_stable_unicast_and_distinct() {
        let a = Mac::derived("lr1-ls1");
        assert_eq!(a, Mac::derived("lr1-ls1"));
        assert_ne!(a, Mac::derived("lr1-ls2"));
        assert!(!a.is_multicast());
        assert_eq!(a.0[0], 0x02);
        // Pinned (checked against an independent FNV-1a): changing the derivation would change
        // every derived MAC in every network.
        assert_eq!(Mac::derived("lab/lr1-ls1").to_string(), "02:02:58:b0:5b:7b");
    }

    #[test]
    fn macs_parse_like_ovn() {
        assert_eq!(
            "00:00:00:00:00:0A".parse::<Mac>().map(|m| m.to_string()),
            Ok("00:00:00:00:00:0a".into())
        );
        assert!("00:00:00:00:00".parse::<Mac>().is_err());
        assert!("00:00:00:00:00:00:00".parse::<Mac>().is_err());
        assert!("0:00:00:00:00:00".parse::<Mac>().is_err());
        assert!("zz:00:00:00:00:00".parse::<Mac>().is_err());
    }

    #[test]
    fn names_follow_the_tutorials() {
        assert_eq!(lrp_name("lr1", "ls1"), "lr1-ls1");
        assert_eq!(router_lsp_name("ls1", "lr1"), "ls1-lr1");
        assert_eq!(
            gateway_chassis_name("lr1-lslocal", "master"),
            "lr1-lslocal-master"
        );
    }
}

//! The digest a plan records for each live row it read: FNV-1a (64 bits) over the row's
//! columns in compact RFC 7047 JSON — exactly the bytes `serde_json::to_vec(&columns)`
//! writes, so exactly [`LiveRow::digest`](crate::live::LiveRow::digest) — but written
//! straight into the hash, without serde and without a buffer. A plan reads every row of
//! its stack, and going through serde cost more than the rest of a no-op plan together.
//!
//! The tests hold the bytes to serde_json's on random rows: any change here that alters
//! one byte would make every saved plan look stale.

use std::io::Write as _;

use crate::ovsdb::{Atom, Columns, Datum};

/// The digest of a row's wire columns, as [`LiveRow::digest`](crate::live::LiveRow::digest)
/// computes it.
pub fn digest(columns: &Columns) -> String {
    let mut h = Fnv(Fnv::OFFSET);
    write_columns(&mut h, columns);
    format!("{:016x}", h.0)
}

/// Where the JSON goes: the hash, or (in tests) a buffer to compare with serde_json's.
trait Out {
    fn put(&mut self, bytes: &[u8]);
}

struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
}

impl Out for Fnv {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Fnv::PRIME);
        }
    }
}

impl Out for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// `{"column":datum,...}` in column order, as serde_json writes a `BTreeMap`.
fn write_columns(out: &mut impl Out, columns: &Columns) {
    out.put(b"{");
    for (i, (name, datum)) in columns.iter().enumerate() {
        if i > 0 {
            out.put(b",");
        }
        write_str(out, name);
        out.put(b":");
        write_datum(out, datum);
    }
    out.put(b"}");
}

/// As `impl Serialize for Datum`: a one-element set as its atom, else `["set",[..]]` or
/// `["map",[[k,v],..]]`.
fn write_datum(out: &mut impl Out, datum: &Datum) {
    match datum {
        Datum::Set(set) if set.len() == 1 => {
            if let Some(atom) = set.first() {
                write_atom(out, atom);
            }
        }
        Datum::Set(set) => {
            out.put(b"[\"set\",[");
            for (i, atom) in set.iter().enumerate() {
                if i > 0 {
                    out.put(b",");
                }
                write_atom(out, atom);
            }
            out.put(b"]]");
        }
        Datum::Map(map) => {
            out.put(b"[\"map\",[");
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.put(b",");
                }
                out.put(b"[");
                write_atom(out, k);
                out.put(b",");
                write_atom(out, v);
                out.put(b"]");
            }
            out.put(b"]]");
        }
    }
}

/// As `impl Serialize for Atom`.
fn write_atom(out: &mut impl Out, atom: &Atom) {
    match atom {
        Atom::Integer(i) => {
            let mut buf = [0u8; 20];
            let mut cursor: &mut [u8] = &mut buf;
            // 20 bytes hold every i64 ("-9223372036854775808").
            if write!(cursor, "{i}").is_ok() {
                let len = 20 - cursor.len();
                out.put(&buf[..len]);
            }
        }
        // Rare in OVN rows; serde_json's own float formatting (and `null` for non-finite).
        Atom::Real(r) => out.put(&serde_json::to_vec(r).unwrap_or_default()),
        Atom::Boolean(true) => out.put(b"true"),
        Atom::Boolean(false) => out.put(b"false"),
        Atom::String(s) => write_str(out, s),
        Atom::Uuid(u) => {
            let mut buf = uuid::Uuid::encode_buffer();
            out.put(b"[\"uuid\",\"");
            out.put(u.hyphenated().encode_lower(&mut buf).as_bytes());
            out.put(b"\"]");
        }
        Atom::NamedUuid(n) => {
            out.put(b"[\"named-uuid\",");
            write_str(out, n);
            out.put(b"]");
        }
    }
}

/// A JSON string as serde_json escapes it: `"` and `\` with a backslash, the C0 controls as
/// `\b \t \n \f \r` or `\u00xx` (lowercase hex), everything else (UTF-8 included) as is.
fn write_str(out: &mut impl Out, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.put(b"\"");
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let control;
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => {
                control = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ];
                &control
            }
            _ => continue,
        };
        out.put(&bytes[start..i]);
        out.put(escaped);
        start = i + 1;
    }
    out.put(&bytes[start..]);
    out.put(b"\"");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveRow;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn json(columns: &Columns) -> Vec<u8> {
        let mut out = Vec::new();
        write_columns(&mut out, columns);
        out
    }

    #[test]
    fn every_ascii_character_is_escaped_as_serde_json_escapes_it() {
        let all: String = (0u8..=0x7f).map(char::from).collect();
        let columns: Columns = [
            (all.clone(), Datum::scalar(Atom::String(all.clone()))),
            ("é ü 中 🦀".to_owned(), Datum::scalar(Atom::NamedUuid(all))),
        ]
        .into();
        assert_eq!(
            String::from_utf8(json(&columns)).unwrap(),
            serde_json::to_string(&columns).unwrap()
        );
    }

    #[test]
    fn digest_is_the_live_rows_digest() {
        let columns: Columns = [
            ("name".to_owned(), Datum::scalar(Atom::from("vm1"))),
            ("tag".to_owned(), Datum::scalar(Atom::Integer(i64::MIN))),
            (
                "up".to_owned(),
                Datum::set([Atom::Boolean(true), Atom::Boolean(false)]),
            ),
            ("nil".to_owned(), Datum::scalar(Atom::Real(f64::NAN))),
            ("empty".to_owned(), Datum::empty()),
            ("no_ids".to_owned(), Datum::empty_map()),
        ]
        .into();
        let row = LiveRow {
            uuid: Uuid::nil(),
            version: None,
            columns,
        };
        assert_eq!(digest(&row.columns), row.digest());
        assert_eq!(
            digest(&Columns::new()),
            LiveRow {
                columns: Columns::new(),
                ..row
            }
            .digest()
        );
    }

    fn atom() -> impl Strategy<Value = Atom> {
        prop_oneof![
            any::<i64>().prop_map(Atom::Integer),
            any::<f64>().prop_map(Atom::Real),
            (-1e6f64..1e6).prop_map(Atom::Real),
            any::<bool>().prop_map(Atom::Boolean),
            any::<String>().prop_map(Atom::String),
            "[ -~\\x00-\\x1f\\x7f]{0,12}".prop_map(Atom::String),
            any::<u128>().prop_map(|n| Atom::Uuid(Uuid::from_u128(n))),
            any::<String>().prop_map(Atom::NamedUuid),
        ]
    }

    fn datum() -> impl Strategy<Value = Datum> {
        prop_oneof![
            proptest::collection::vec(atom(), 0..5).prop_map(Datum::set),
            proptest::collection::vec((atom(), atom()), 0..5).prop_map(Datum::map),
        ]
    }

    proptest! {
        #[test]
        fn bytes_are_serde_jsons(columns in proptest::collection::btree_map(
            any::<String>(), datum(), 0..8)) {
            prop_assert_eq!(json(&columns), serde_json::to_vec(&columns).unwrap());
        }
    }
}

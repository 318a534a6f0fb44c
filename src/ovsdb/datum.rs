//! The OVSDB data model of RFC 7047 §5.1: atoms, sets and maps, and their JSON notation.
//!
//! A column value is always a [`Datum`]: a scalar column holds a one-element set, an optional
//! column a set of zero or one, a map column a map. That is how ovsdb-server itself stores
//! values, and it makes "the column is empty" and "the column holds one value" the same kind of
//! thing, which is what diff and apply need. Everything is totally ordered (reals by
//! `total_cmp`), so sets and maps are sorted vectors ([`Set`], [`Map`] in `collections`: most
//! cells hold one value, and a B-tree node per cell cost memory) and output is deterministic.
//!
//! `Datum` is generic over its atom type so that the row model (`crate::rows`) can reuse it
//! with references expressed by natural key instead of UUID; the JSON notation exists only for
//! `Datum<Atom>`, the wire form.

use super::collections::{Map, Set};
use std::cmp::Ordering;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

use super::schema::{AtomicType, BaseType, ColumnType};

/// One OVSDB atom. `NamedUuid` only appears in transactions (a row inserted in the same
/// transaction, referred to by its `uuid-name`).
#[derive(Debug, Clone)]
pub enum Atom {
    Integer(i64),
    Real(f64),
    Boolean(bool),
    String(String),
    Uuid(Uuid),
    NamedUuid(String),
}

impl Atom {
    fn rank(&self) -> u8 {
        match self {
            Atom::Integer(_) => 0,
            Atom::Real(_) => 1,
            Atom::Boolean(_) => 2,
            Atom::String(_) => 3,
            Atom::Uuid(_) => 4,
            Atom::NamedUuid(_) => 5,
        }
    }

    pub(crate) fn string(s: impl Into<String>) -> Atom {
        Atom::String(s.into())
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Atom::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Atom::Uuid(u) => Some(*u),
            _ => None,
        }
    }

    pub(crate) fn as_integer(&self) -> Option<i64> {
        match self {
            Atom::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The RFC 7047 JSON notation of this atom.
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Parses an atom without knowing its type: numbers with a fraction or exponent are reals,
    /// other numbers integers.
    pub(crate) fn from_json(value: &Value) -> Result<Atom, NotationError> {
        match value {
            Value::Bool(b) => Ok(Atom::Boolean(*b)),
            Value::String(s) => Ok(Atom::String(s.clone())),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Atom::Integer(i))
                } else if let Some(r) = n.as_f64() {
                    Ok(Atom::Real(r))
                } else {
                    Err(NotationError::new("number out of range", value))
                }
            }
            Value::Array(items) => match items.as_slice() {
                [Value::String(tag), Value::String(id)] if tag == "uuid" => Uuid::parse_str(id)
                    .map(Atom::Uuid)
                    .map_err(|_| NotationError::new("malformed uuid", value)),
                [Value::String(tag), Value::String(id)] if tag == "named-uuid" => {
                    Ok(Atom::NamedUuid(id.clone()))
                }
                _ => Err(NotationError::new("expected an atom", value)),
            },
            _ => Err(NotationError::new("expected an atom", value)),
        }
    }

    /// Whether the atom is of the given type (a named-uuid counts as a uuid).
    pub(crate) fn matches(&self, ty: AtomicType) -> bool {
        matches!(
            (ty, self),
            (AtomicType::Integer, Atom::Integer(_))
                | (AtomicType::Real, Atom::Real(_))
                | (AtomicType::Boolean, Atom::Boolean(_))
                | (AtomicType::String, Atom::String(_))
                | (AtomicType::Uuid, Atom::Uuid(_) | Atom::NamedUuid(_))
        )
    }
}

/// Serializes straight to the RFC 7047 notation, so large transactions are written without
/// building an intermediate JSON tree.
impl Serialize for Atom {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Atom::Integer(i) => s.serialize_i64(*i),
            Atom::Real(r) => s.serialize_f64(*r),
            Atom::Boolean(b) => s.serialize_bool(*b),
            Atom::String(v) => s.serialize_str(v),
            Atom::Uuid(u) => {
                let mut buf = Uuid::encode_buffer();
                (&"uuid", &*u.hyphenated().encode_lower(&mut buf)).serialize(s)
            }
            Atom::NamedUuid(n) => ("named-uuid", n).serialize(s),
        }
    }
}

impl PartialEq for Atom {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Atom {}
impl PartialOrd for Atom {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Atom {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Atom::Integer(a), Atom::Integer(b)) => a.cmp(b),
            (Atom::Real(a), Atom::Real(b)) => a.total_cmp(b),
            (Atom::Boolean(a), Atom::Boolean(b)) => a.cmp(b),
            (Atom::String(a), Atom::String(b)) => a.cmp(b),
            (Atom::Uuid(a), Atom::Uuid(b)) => a.cmp(b),
            (Atom::NamedUuid(a), Atom::NamedUuid(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl fmt::Display for Atom {
    /// The way ovn-nbctl prints atoms: strings quoted only when they need it is left to the
    /// renderers; here strings are printed bare.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Integer(i) => write!(f, "{i}"),
            Atom::Real(r) => write!(f, "{r}"),
            Atom::Boolean(b) => write!(f, "{b}"),
            Atom::String(s) => write!(f, "{s}"),
            Atom::Uuid(u) => write!(f, "{u}"),
            Atom::NamedUuid(n) => write!(f, "@{n}"),
        }
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Atom {
        Atom::String(s.to_owned())
    }
}
impl From<String> for Atom {
    fn from(s: String) -> Atom {
        Atom::String(s)
    }
}
impl From<i64> for Atom {
    fn from(i: i64) -> Atom {
        Atom::Integer(i)
    }
}
impl From<bool> for Atom {
    fn from(b: bool) -> Atom {
        Atom::Boolean(b)
    }
}
impl From<Uuid> for Atom {
    fn from(u: Uuid) -> Atom {
        Atom::Uuid(u)
    }
}

/// A column value: a set of atoms (scalars and optional values are sets of one or zero) or a
/// map from atoms to atoms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Datum<A: Ord = Atom> {
    Set(Set<A>),
    Map(Map<A>),
}

impl<A: Ord> Default for Datum<A> {
    fn default() -> Self {
        Datum::Set(Set::new())
    }
}

impl<A: Ord + Clone> Datum<A> {
    pub fn empty() -> Self {
        Datum::Set(Set::new())
    }

    pub fn empty_map() -> Self {
        Datum::Map(Map::new())
    }

    pub fn scalar(atom: impl Into<A>) -> Self {
        Datum::Set(Set::from([atom.into()]))
    }

    pub fn set(atoms: impl IntoIterator<Item = A>) -> Self {
        Datum::Set(atoms.into_iter().collect())
    }

    pub fn map(pairs: impl IntoIterator<Item = (A, A)>) -> Self {
        Datum::Map(pairs.into_iter().collect())
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Datum::Set(s) => s.len(),
            Datum::Map(m) => m.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single atom of a scalar (or one-element optional) column.
    pub(crate) fn as_scalar(&self) -> Option<&A> {
        match self {
            Datum::Set(s) if s.len() == 1 => s.iter().next(),
            _ => None,
        }
    }

    pub fn as_set(&self) -> Option<&Set<A>> {
        match self {
            Datum::Set(s) => Some(s),
            Datum::Map(m) if m.is_empty() => None,
            Datum::Map(_) => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map<A>> {
        match self {
            Datum::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Applies `f` to every atom, keeping the shape (used to swap UUIDs for natural keys and
    /// back).
    pub(crate) fn try_map_atoms<B: Ord + Clone, E>(
        &self,
        mut f: impl FnMut(&A) -> Result<B, E>,
    ) -> Result<Datum<B>, E> {
        Ok(match self {
            Datum::Set(s) => Datum::Set(s.iter().map(&mut f).collect::<Result<_, E>>()?),
            Datum::Map(m) => Datum::Map(
                m.iter()
                    .map(|(k, v)| Ok((f(k)?, f(v)?)))
                    .collect::<Result<_, E>>()?,
            ),
        })
    }
}

/// The RFC 7047 notation. A one-element set is written as its atom, which the RFC allows
/// for every set type, so encoding needs no schema.
impl Serialize for Datum<Atom> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Pairs<'a>(&'a Map<Atom>);
        impl Serialize for Pairs<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter())
            }
        }
        struct Elems<'a>(&'a Set<Atom>);
        impl Serialize for Elems<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter())
            }
        }
        match self {
            Datum::Set(set) if set.len() == 1 => match set.iter().next() {
                Some(atom) => atom.serialize(s),
                None => s.serialize_unit(),
            },
            Datum::Set(set) => ("set", Elems(set)).serialize(s),
            Datum::Map(map) => ("map", Pairs(map)).serialize(s),
        }
    }
}

impl Datum<Atom> {
    /// The RFC 7047 notation as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Parses a datum without a schema. An empty `["set", []]` stays a set; a bare atom is a
    /// one-element set.
    pub fn from_json(value: &Value) -> Result<Datum, NotationError> {
        if let Value::Array(items) = value
            && let [Value::String(tag), Value::Array(elems)] = items.as_slice()
        {
            match tag.as_str() {
                "set" => {
                    return elems
                        .iter()
                        .map(Atom::from_json)
                        .collect::<Result<Set<_>, _>>()
                        .map(Datum::Set);
                }
                "map" => {
                    return elems
                        .iter()
                        .map(|pair| match pair {
                            Value::Array(kv) if kv.len() == 2 => {
                                Ok((Atom::from_json(&kv[0])?, Atom::from_json(&kv[1])?))
                            }
                            _ => Err(NotationError::new("expected a [key, value] pair", pair)),
                        })
                        .collect::<Result<Map<_>, _>>()
                        .map(Datum::Map);
                }
                _ => {}
            }
        }
        Atom::from_json(value).map(|a| Datum::Set(Set::from([a])))
    }

    /// Parses a datum of a known column type: reals written as integers are converted, an
    /// empty set in a map column becomes an empty map, and every atom is type-checked.
    pub(crate) fn from_json_typed(value: &Value, ty: &ColumnType) -> Result<Datum, NotationError> {
        Datum::from_json(value)?.typed(ty, || value.clone())
    }

    /// A datum parsed without a schema, typed as [`Datum::from_json_typed`] does; `json`
    /// gives the notation to quote in an error.
    pub(crate) fn typed(
        self,
        ty: &ColumnType,
        json: impl Fn() -> Value,
    ) -> Result<Datum, NotationError> {
        let untyped = self;
        // The atoms are already parsed: checked (and moved) as they are, not written back to
        // JSON and parsed again.
        let check = |a: Atom, base: &BaseType| -> Result<Atom, NotationError> {
            match (base.atomic, a) {
                (AtomicType::Real, Atom::Integer(i)) => Ok(Atom::Real(i as f64)),
                (ty, a) if a.matches(ty) => Ok(a),
                (ty, a) => Err(NotationError::new(
                    &format!("expected {}", ty.as_str()),
                    &a.to_json(),
                )),
            }
        };
        match (&ty.value, untyped) {
            (Some(vt), Datum::Map(m)) => m
                .into_iter()
                .map(|(k, v)| Ok((check(k, &ty.key)?, check(v, vt)?)))
                .collect::<Result<Map<_>, _>>()
                .map(Datum::Map),
            (Some(_), Datum::Set(s)) if s.is_empty() => Ok(Datum::Map(Map::new())),
            (Some(_), Datum::Set(_)) => Err(NotationError::new("expected a map", &json())),
            (None, Datum::Set(s)) => s
                .into_iter()
                .map(|a| check(a, &ty.key))
                .collect::<Result<Set<_>, _>>()
                .map(Datum::Set),
            (None, Datum::Map(_)) => Err(NotationError::new("expected a set", &json())),
        }
    }
}

/// Reads the RFC 7047 notation straight from a deserializer, as [`Atom::from_json`] does from
/// a JSON tree (numbers with a fraction or exponent are reals, other numbers integers).
impl<'de> serde::Deserialize<'de> for Atom {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Atom, D::Error> {
        d.deserialize_any(AtomVisitor)
    }
}

struct AtomVisitor;

impl<'de> serde::de::Visitor<'de> for AtomVisitor {
    type Value = Atom;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OVSDB atom")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Atom, E> {
        Ok(Atom::Boolean(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Atom, E> {
        Ok(Atom::Integer(i))
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Atom, E> {
        match i64::try_from(u) {
            Ok(i) => Ok(Atom::Integer(i)),
            // As `serde_json::Number::as_f64` would: out of i64 range, a real.
            Err(_) => Ok(Atom::Real(u as f64)),
        }
    }
    fn visit_f64<E>(self, r: f64) -> Result<Atom, E> {
        Ok(Atom::Real(r))
    }
    fn visit_str<E>(self, s: &str) -> Result<Atom, E> {
        Ok(Atom::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Atom, E> {
        Ok(Atom::String(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Atom, A::Error> {
        use serde::de::Error;
        let tag: String = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("expected an atom"))?;
        let atom = tagged_atom(&tag, &mut seq)?;
        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("expected an atom"));
        }
        Ok(atom)
    }
}

/// The atom of `["uuid", ..]` or `["named-uuid", ..]`, after its tag.
fn tagged_atom<'de, A: serde::de::SeqAccess<'de>>(
    tag: &str,
    seq: &mut A,
) -> Result<Atom, A::Error> {
    use serde::de::Error;
    let id: String = seq
        .next_element()?
        .ok_or_else(|| A::Error::custom("expected an atom"))?;
    match tag {
        "uuid" => Uuid::parse_str(&id)
            .map(Atom::Uuid)
            .map_err(|_| A::Error::custom("malformed uuid")),
        "named-uuid" => Ok(Atom::NamedUuid(id)),
        _ => Err(A::Error::custom("expected an atom")),
    }
}

/// Reads a datum straight from a deserializer, as [`Datum::from_json`] does from a JSON tree:
/// `["set", [..]]`, `["map", [[k, v], ..]]`, or a bare atom (a set of one).
impl<'de> serde::Deserialize<'de> for Datum<Atom> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Datum, D::Error> {
        d.deserialize_any(DatumVisitor)
    }
}

struct DatumVisitor;

impl<'de> serde::de::Visitor<'de> for DatumVisitor {
    type Value = Datum;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OVSDB datum")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Datum, E> {
        Ok(Datum::Set(Set::from([Atom::Boolean(b)])))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Datum, E> {
        Ok(Datum::Set(Set::from([Atom::Integer(i)])))
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Datum, E> {
        AtomVisitor.visit_u64(u).map(|a| Datum::Set(Set::from([a])))
    }
    fn visit_f64<E>(self, r: f64) -> Result<Datum, E> {
        Ok(Datum::Set(Set::from([Atom::Real(r)])))
    }
    fn visit_str<E>(self, s: &str) -> Result<Datum, E> {
        Ok(Datum::Set(Set::from([Atom::String(s.to_owned())])))
    }
    fn visit_string<E>(self, s: String) -> Result<Datum, E> {
        Ok(Datum::Set(Set::from([Atom::String(s)])))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Datum, A::Error> {
        use serde::de::Error;
        let tag: String = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("expected an atom"))?;
        let datum = match tag.as_str() {
            "set" => Datum::Set(
                seq.next_element::<Vec<Atom>>()?
                    .ok_or_else(|| A::Error::custom("expected an atom"))?
                    .into_iter()
                    .collect(),
            ),
            "map" => Datum::Map(
                seq.next_element::<Vec<(Atom, Atom)>>()?
                    .ok_or_else(|| A::Error::custom("expected an atom"))?
                    .into_iter()
                    .collect(),
            ),
            other => Datum::Set(Set::from([tagged_atom(other, &mut seq)?])),
        };
        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("expected an atom"));
        }
        Ok(datum)
    }
}

impl<A: Ord + fmt::Display> fmt::Display for Datum<A> {
    /// ovn-nbctl's way: `value`, `[a, b]`, `{k=v, ...}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datum::Set(s) if s.len() == 1 => {
                if let Some(a) = s.iter().next() {
                    write!(f, "{a}")?;
                }
                Ok(())
            }
            Datum::Set(s) => {
                write!(f, "[")?;
                for (i, a) in s.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, "]")
            }
            Datum::Map(m) => {
                write!(f, "{{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

/// A JSON value that is not valid RFC 7047 notation for what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid OVSDB notation: {reason} in {snippet}")]
pub struct NotationError {
    pub reason: String,
    pub snippet: String,
}

impl NotationError {
    pub(crate) fn new(reason: &str, value: &Value) -> NotationError {
        let mut snippet = value.to_string();
        if snippet.len() > 120 {
            let cut = (0..=117)
                .rev()
                .find(|i| snippet.is_char_boundary(*i))
                .unwrap_or(0);
            snippet.truncate(cut);
            snippet.push_str("...");
        }
        NotationError {
            reason: reason.to_owned(),
            snippet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn scalar_encodes_as_atom_and_set_as_tagged_array() {
        assert_eq!(Datum::<Atom>::scalar("ls1").to_json(), json!("ls1"));
        assert_eq!(Datum::<Atom>::empty().to_json(), json!(["set", []]));
        let u = Uuid::nil();
        assert_eq!(
            Datum::set([Atom::Uuid(u), Atom::NamedUuid("row1".into())]).to_json(),
            json!(["set", [["uuid", u.to_string()], ["named-uuid", "row1"]]])
        );
        assert_eq!(
            Datum::map([(Atom::from("k"), Atom::from("v"))]).to_json(),
            json!(["map", [["k", "v"]]])
        );
    }

    #[test]
    fn typed_decoding_uses_the_schema() {
        let map_ty: ColumnType = serde_json::from_value(json!({
            "key": "string", "value": "string", "min": 0, "max": "unlimited"
        }))
        .unwrap();
        assert_eq!(
            Datum::from_json_typed(&json!(["set", []]), &map_ty).unwrap(),
            Datum::empty_map()
        );
        let real_ty: ColumnType = serde_json::from_value(json!("real")).unwrap();
        assert_eq!(
            Datum::from_json_typed(&json!(3), &real_ty).unwrap(),
            Datum::scalar(Atom::Real(3.0))
        );
        let int_ty: ColumnType = serde_json::from_value(json!("integer")).unwrap();
        assert!(Datum::from_json_typed(&json!("x"), &int_ty).is_err());
        assert!(Datum::from_json_typed(&json!(["map", []]), &int_ty).is_err());
    }

    #[test]
    fn malformed_notation_is_refused() {
        for bad in [
            json!(null),
            json!({"a": 1}),
            json!(["uuid", "not-a-uuid"]),
            json!(["map", [["k"]]]),
            json!(["set", [null]]),
            json!(["bogus", []]),
        ] {
            assert!(Datum::from_json(&bad).is_err(), "{bad} was accepted");
        }
    }

    fn atom() -> impl Strategy<Value = Atom> {
        prop_oneof![
            any::<i64>().prop_map(Atom::Integer),
            any::<f64>()
                .prop_filter("finite reals with a fraction", |r| r.is_finite()
                    && r.fract() != 0.0)
                .prop_map(Atom::Real),
            any::<bool>().prop_map(Atom::Boolean),
            ".*".prop_map(Atom::String),
            any::<u128>().prop_map(|n| Atom::Uuid(Uuid::from_u128(n))),
            "[a-z_][a-z0-9_]{0,8}".prop_map(Atom::NamedUuid),
        ]
    }

    fn datum() -> impl Strategy<Value = Datum> {
        prop_oneof![
            proptest::collection::btree_set(atom(), 0..6).prop_map(|s| Datum::Set(s.into())),
            proptest::collection::btree_map(atom(), atom(), 1..6)
                .prop_map(|m| Datum::Map(m.into())),
        ]
    }

    proptest! {
        #[test]
        fn json_round_trip(d in datum()) {
            let json = d.to_json();
            let text = serde_json::to_string(&json).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(Datum::from_json(&back).unwrap(), d);
        }
    }
}

//! Values with the span they were written at ([`Sp`]), and how serde-saphyr's locations become
//! spans while a file is deserialized: each file's base offset in
//! [`Sources`](crate::source::Sources), set per thread by [`BaseGuard`]. Deserializing an
//! `Sp` of a struct also filters the struct's keys ([`Filtered`]): a key the struct does not
//! take, or takes twice, is recorded as a [`Found`] and skipped, so one file reports every
//! such key and is still checked.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::source::Span;

thread_local! {
    /// Base offset of the file being deserialized, read by [`Sp`]'s `Deserialize`.
    static BASE: Cell<usize> = const { Cell::new(0) };
}

/// Sets the base offset for spans deserialized on this thread until dropped.
pub(crate) struct BaseGuard(usize);

impl BaseGuard {
    pub(crate) fn set(base: usize) -> BaseGuard {
        BaseGuard(BASE.with(|b| b.replace(base)))
    }
}

impl Drop for BaseGuard {
    fn drop(&mut self) {
        BASE.with(|b| b.set(self.0));
    }
}

/// Converts a serde-saphyr location to a global span. Locations without byte information
/// (which string input always has) become an empty span at the file start.
pub(crate) fn span_of(loc: &serde_saphyr::Location) -> Span {
    let s = loc.span();
    let offset = s.byte_offset().unwrap_or(0) as usize;
    let len = s.byte_len().unwrap_or(0) as usize;
    Span::new(BASE.with(Cell::get) + offset, len)
}

/// A value the user wrote, with the span it was written at.
#[derive(Clone)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {}

impl<T: fmt::Debug> fmt::Debug for Sp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: fmt::Display> fmt::Display for Sp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T> std::ops::Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `Filtered`: a struct's unknown and repeated keys are recorded, not fatal.
        let s = serde_saphyr::Spanned::<Filtered<T>>::deserialize(d)?;
        // `referenced` is where the value is used (an alias site for `*a`): that is where a
        // diagnostic about this use must point.
        Ok(Sp {
            span: span_of(&s.referenced),
            value: s.value.0,
        })
    }
}

/// What deserializing found without stopping: a key the mapping does not take, or a key
/// written twice. The value of such a key is skipped (within the same budgets as any value),
/// so one file reports all of them and the rest of the file is still checked.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    Unknown {
        key: Sp<String>,
        /// The object the mapping describes, in words (`switch`, `router port`).
        object: String,
        expected: &'static [&'static str],
        /// A key the mapping must have and lacks, which this one is likely a typo of.
        instead_of: Option<String>,
    },
    Repeated {
        key: String,
        first: Span,
        again: Span,
    },
    /// A required key the mapping lacks; `at` is the mapping's first key. Fatal for the
    /// file (the struct cannot be built), but reported in the mapping's words.
    Missing {
        object: String,
        key: String,
        at: Span,
    },
}

thread_local! {
    /// Findings of the file being deserialized on this thread.
    static FOUND: RefCell<Vec<Found>> = const { RefCell::new(Vec::new()) };
}

/// Findings one file may have before it is refused: a document of repeated keys (merge keys
/// replayed by an alias bomb) must not cost more than its budgets allow.
pub(crate) const MAX_FOUND: usize = 100;

/// Marks the error that stops a file at [`MAX_FOUND`] findings.
pub(crate) const TOO_MANY_MARK: &str = "topo-too-many-findings";

/// Records a finding of the file being deserialized; an error once the file has too many.
pub(crate) fn found<E: de::Error>(f: Found) -> Result<(), E> {
    let n = FOUND.with(|v| {
        let mut v = v.borrow_mut();
        v.push(f);
        v.len()
    });
    if n >= MAX_FOUND {
        return Err(E::custom(TOO_MANY_MARK));
    }
    Ok(())
}

/// Takes the findings recorded on this thread so far.
pub(crate) fn take_found() -> Vec<Found> {
    FOUND.with(|v| std::mem::take(&mut *v.borrow_mut()))
}

/// Marks a missing-key error already recorded as a [`Found`] (as such, or as the unknown key
/// that is its typo, `encapp` for `encap`): the file still fails, reported once.
pub(crate) const EXPLAINED_MARK: &str = "topo-explained-missing-key";

/// `T` deserialized through [`Checked`]: unknown and duplicate keys of its own mapping are
/// recorded and skipped instead of failing the file.
pub(crate) struct Filtered<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Filtered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(Checked(d)).map(Filtered)
    }
}

/// A deserializer that passes everything through to the YAML deserializer except a struct's
/// mapping, whose keys it filters ([`KeyFilter`]). Only the struct's own keys: its values are
/// deserialized by the YAML deserializer directly, and nested structs (always inside an
/// [`Sp`]) come back through [`Sp`]'s `Deserialize`, so every level is filtered once.
struct Checked<D>(D);

macro_rules! forward {
    ($($method:ident ( $($arg:ident : $ty:ty),* ))*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method($($arg,)* visitor)
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Checked<D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(
            name,
            fields,
            StructVisitor {
                inner: visitor,
                name,
                fields,
            },
        )
    }

    forward! {
        deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16()
        deserialize_i32() deserialize_i64() deserialize_i128() deserialize_u8()
        deserialize_u16() deserialize_u32() deserialize_u64() deserialize_u128()
        deserialize_f32() deserialize_f64() deserialize_char() deserialize_str()
        deserialize_string() deserialize_bytes() deserialize_byte_buf()
        deserialize_option() deserialize_unit() deserialize_unit_struct(name: &'static str)
        deserialize_newtype_struct(name: &'static str) deserialize_seq()
        deserialize_tuple(len: usize) deserialize_tuple_struct(name: &'static str, len: usize)
        deserialize_map() deserialize_enum(name: &'static str, variants: &'static [&'static str])
        deserialize_identifier() deserialize_ignored_any()
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The struct's visitor, handed a filtered mapping.
struct StructVisitor<V> {
    inner: V,
    name: &'static str,
    fields: &'static [&'static str],
}

macro_rules! forward_visit {
    ($($method:ident ( $($arg:ident : $ty:ty),* ))*) => {
        $(
            fn $method<E: de::Error>(self, $($arg: $ty),*) -> Result<V::Value, E> {
                self.inner.$method($($arg),*)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StructVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let mut filter = KeyFilter {
            map,
            fields: self.fields,
            object: object_words(self.name),
            first: None,
            seen: Vec::new(),
            unknown: Vec::new(),
        };
        let result = self.inner.visit_map(&mut filter);
        let Err(e) = result else { return result };
        // A required key missing next to an unknown key that is its typo: one finding.
        let text = e.to_string();
        let missing = text
            .split_once("missing field `")
            .and_then(|(_, rest)| rest.split('`').next())
            .map(str::to_owned);
        let Some(missing) = missing else {
            return Err(e);
        };
        let typo = filter
            .unknown
            .iter()
            .position(|k| crate::diagnostics::did_you_mean(&k.value, [missing.as_str()]).is_some());
        match typo {
            Some(i) => {
                let key = filter.unknown.swap_remove(i);
                FOUND.with(|v| {
                    for f in v.borrow_mut().iter_mut() {
                        if let Found::Unknown {
                            key: k, instead_of, ..
                        } = f
                            && k.span == key.span
                        {
                            *instead_of = Some(missing.clone());
                        }
                    }
                });
                Err(de::Error::custom(EXPLAINED_MARK))
            }
            None => match filter.first {
                Some(at) => found::<A::Error>(Found::Missing {
                    object: filter.object,
                    key: missing,
                    at,
                })
                .and(Err(de::Error::custom(EXPLAINED_MARK))),
                None => Err(e),
            },
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(seq)
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_some(d)
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_newtype_struct(d)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.inner.visit_borrowed_str(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.inner.visit_borrowed_bytes(v)
    }

    forward_visit! {
        visit_bool(v: bool) visit_i64(v: i64) visit_i128(v: i128) visit_u64(v: u64)
        visit_u128(v: u128) visit_f64(v: f64) visit_char(v: char) visit_str(v: &str)
        visit_string(v: String) visit_bytes(v: &[u8]) visit_byte_buf(v: Vec<u8>)
        visit_none() visit_unit()
    }
}

/// `RouterPort` -> `router port`, `Nat` -> `NAT rule`: what a mapping describes, for
/// messages.
fn object_words(name: &str) -> String {
    match name {
        "Topology" => return "the topology".to_owned(),
        "Nat" => return "NAT rule".to_owned(),
        "Acl" => return "ACL".to_owned(),
        "Dhcp" | "DhcpOptions" => return "DHCP options".to_owned(),
        "Dns" => return "DNS record set".to_owned(),
        _ => {}
    }
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A struct's mapping with its unknown and repeated keys taken out (and recorded).
struct KeyFilter<A> {
    map: A,
    fields: &'static [&'static str],
    object: String,
    /// The span of the mapping's first key, where a missing key is reported.
    first: Option<Span>,
    seen: Vec<(String, Span)>,
    unknown: Vec<Sp<String>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for KeyFilter<A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<Sp<String>>()? else {
                return Ok(None);
            };
            self.first.get_or_insert(key.span);
            if !self.fields.contains(&key.value.as_str()) {
                found(Found::Unknown {
                    key: key.clone(),
                    object: self.object.clone(),
                    expected: self.fields,
                    instead_of: None,
                })?;
                self.unknown.push(key);
                self.map.next_value::<de::IgnoredAny>()?;
                continue;
            }
            if let Some((_, first)) = self.seen.iter().find(|(k, _)| *k == key.value) {
                found(Found::Repeated {
                    key: key.value.clone(),
                    first: *first,
                    again: key.span,
                })?;
                self.map.next_value::<de::IgnoredAny>()?;
                continue;
            }
            self.seen.push((key.value.clone(), key.span));
            return seed.deserialize(key.value.into_deserializer()).map(Some);
        }
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

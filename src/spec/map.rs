//! An ordered YAML mapping whose keys keep their spans.
//!
//! Topology objects are named by mapping keys (`switches: { ls1: ... }`); a diagnostic about
//! `ls1` must point at the key, and merging several files must know where each name was
//! first written. `BTreeMap<String, _>` would lose both, so this keeps the entries in document
//! order with spanned keys. A name written twice in one mapping is recorded (both places) and
//! its second value skipped; duplicates across files are found when files are merged.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use std::collections::HashMap;

use super::spanned::{Found, Sp, found};
use crate::source::Span;

#[derive(Clone)]
pub struct Map<V> {
    pub entries: Vec<(Sp<String>, V)>,
}

impl<V> Default for Map<V> {
    fn default() -> Self {
        Map {
            entries: Vec::new(),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for Map<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (&k.value, v)))
            .finish()
    }
}

impl<V> Map<V> {
    pub fn iter(&self) -> impl Iterator<Item = (&Sp<String>, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Map<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = Map<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of names")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Map<V>, E> {
                // `switches:` with nothing after it: an empty mapping.
                Ok(Map::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Map<V>, E> {
                Ok(Map::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Map<V>, A::Error> {
                let mut entries: Vec<(Sp<String>, V)> = Vec::new();
                let mut seen: HashMap<String, Span> = HashMap::new();
                while let Some(key) = access.next_key::<Sp<String>>()? {
                    if let Some(first) = seen.get(&key.value) {
                        // Recorded, and the second value skipped: the file is still checked.
                        found(Found::Repeated {
                            key: key.value.clone(),
                            first: *first,
                            again: key.span,
                        })?;
                        access.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    }
                    seen.insert(key.value.clone(), key.span);
                    let value = access.next_value::<V>()?;
                    entries.push((key, value));
                }
                Ok(Map { entries })
            }
        }
        // `deserialize_any` so that an empty value (`ports:`) reaches `visit_unit`.
        d.deserialize_any(MapVisitor(PhantomData))
    }
}

impl<V: schemars::JsonSchema> schemars::JsonSchema for Map<V> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = generator.subschema_for::<V>();
        schemars::json_schema!({
            "type": ["object", "null"],
            "additionalProperties": value,
        })
    }
}

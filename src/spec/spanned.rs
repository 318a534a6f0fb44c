//! Values with the span they were written at ([`Sp`]), and how serde-saphyr's locations become
//! spans while a file is deserialized: each file's base offset in
//! [`Sources`](crate::source::Sources), set per thread by [`BaseGuard`].

use std::cell::Cell;
use std::fmt;

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
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        // `referenced` is where the value is used (an alias site for `*a`): that is where a
        // diagnostic about this use must point.
        Ok(Sp {
            span: span_of(&s.referenced),
            value: s.value,
        })
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

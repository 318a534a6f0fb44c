//! Source files and spans: where every value of a topology came from.
//!
//! All loaded files share one address space: each file gets a base offset, and a [`Span`] is
//! a global byte range. A diagnostic can therefore label places in several files at once
//! ("first defined here" in `a.yaml`, "defined again here" in `b.yaml`), and [`Sources`]
//! serves miette the right file, name and line numbers for each label.

use std::cell::Cell;
use std::fmt;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use serde::{Deserialize, Deserializer};

/// A byte range in the global address space of [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub fn new(offset: usize, len: usize) -> Span {
        Span { offset, len }
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> SourceSpan {
        SourceSpan::new(s.offset.into(), s.len)
    }
}

/// One topology file as read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    /// Global offset of the file's first byte.
    pub base: usize,
}

/// Where a global offset lands: file name, 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// Every file of one load, in load order.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a file and returns its base offset. Files are separated by one unused byte so a
    /// zero-length span at the end of one file never lands in the next.
    pub fn add(&mut self, name: impl Into<String>, text: String) -> usize {
        let base = self
            .files
            .last()
            .map(|f| f.base + f.text.len() + 1)
            .unwrap_or(0);
        self.files.push(SourceFile {
            name: name.into(),
            text,
            base,
        });
        base
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The file holding a global offset.
    pub fn file_at(&self, offset: usize) -> Option<&SourceFile> {
        let idx = self.files.partition_point(|f| f.base <= offset);
        let file = self.files.get(idx.checked_sub(1)?)?;
        (offset <= file.base + file.text.len()).then_some(file)
    }

    /// File, line and column of a global offset.
    pub fn position(&self, offset: usize) -> Option<Position> {
        let file = self.file_at(offset)?;
        let local = (offset - file.base).min(file.text.len());
        let before = file.text.get(..local)?;
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before.get(line_start..)?.chars().count() + 1;
        Some(Position {
            file: file.name.clone(),
            line,
            column,
        })
    }
}

impl SourceCode for Sources {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let file = self
            .file_at(span.offset())
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((span.offset() - file.base).into(), span.len());
        let contents =
            file.text
                .as_str()
                .read_span(&local, context_lines_before, context_lines_after)?;
        let global = SourceSpan::new(
            (contents.span().offset() + file.base).into(),
            contents.span().len(),
        );
        Ok(Box::new(MietteSpanContents::new_named(
            file.name.clone(),
            contents.data(),
            global,
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

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

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Sp<T> {
        Sp { value, span }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_per_file() {
        let mut s = Sources::new();
        let a = s.add("a.yaml", "x: 1\ny: 2\n".into());
        let b = s.add("b.yaml", "z: 3\n".into());
        assert_eq!(a, 0);
        assert_eq!(
            s.position(5),
            Some(Position {
                file: "a.yaml".into(),
                line: 2,
                column: 1
            })
        );
        assert_eq!(
            s.position(b + 3).map(|p| (p.file, p.line, p.column)),
            Some(("b.yaml".into(), 1, 4))
        );
    }
}

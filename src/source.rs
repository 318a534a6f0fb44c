//! Source files and spans: where every value of a topology came from.
//!
//! All loaded files share one address space: each file gets a base offset, and a [`Span`] is
//! a global byte range. A diagnostic can therefore label places in several files at once
//! ("first defined here" in `a.yaml`, "defined again here" in `b.yaml`), and [`Sources`]
//! serves miette the right file, name and line numbers for each label.
//!
//! This is its own module, below both `spec` and `diagnostics`, so the dependency runs one way:
//! `spec` (which loads files and reports problems) uses `diagnostics`, and both use the files
//! and spans here, which know neither YAML nor diagnostics. How a span is taken from the YAML
//! parser while deserializing (`spec::spanned`) stays with the language.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// A byte range in the global address space of [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub(crate) fn new(offset: usize, len: usize) -> Span {
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

/// Where a global offset lands: file name, 1-based line and column (in characters), and the
/// byte offset from the start of that file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// Every file of one load, in load order.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub(crate) fn new() -> Sources {
        Sources::default()
    }

    /// Adds a file and returns its base offset. Files are separated by one unused byte so a
    /// zero-length span at the end of one file never lands in the next.
    pub(crate) fn add(&mut self, name: impl Into<String>, text: String) -> usize {
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
    pub(crate) fn file_at(&self, offset: usize) -> Option<&SourceFile> {
        let idx = self.files.partition_point(|f| f.base <= offset);
        let file = self.files.get(idx.checked_sub(1)?)?;
        (offset <= file.base + file.text.len()).then_some(file)
    }

    /// File, line, column and file-local byte offset of a global offset.
    pub(crate) fn position(&self, offset: usize) -> Option<Position> {
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
            offset: local,
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
                column: 1,
                offset: 5,
            })
        );
        assert_eq!(
            s.position(b + 3).map(|p| (p.file, p.line, p.column)),
            Some(("b.yaml".into(), 1, 4))
        );
    }
}

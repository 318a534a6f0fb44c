//! A library error as the diagnostic of the command that met it: the command's stable code
//! (`topo::plan::failed`, `topo::apply::chassis`, ...), the error's own message, its causes
//! and its help — nothing flattened into a string, so `--format json` and the terminal both
//! show what went wrong underneath.

use std::fmt;

use miette::Diagnostic;

#[derive(Debug)]
pub(crate) struct Failure<E> {
    code: &'static str,
    error: E,
    /// The command's own help; else the error's.
    help: Option<String>,
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<E: std::error::Error> std::error::Error for Failure<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl<E: Diagnostic> Diagnostic for Failure<E> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match &self.help {
            Some(h) => Some(Box::new(h)),
            None => self.error.help(),
        }
    }

    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.error.diagnostic_source()
    }
}

/// `error` as a diagnostic with the command's `code`, and `help` when the command has its
/// own.
pub(crate) fn report<E>(code: &'static str, error: E, help: Option<String>) -> miette::Report
where
    E: Diagnostic + Send + Sync + 'static,
{
    miette::Report::new(Failure { code, error, help })
}

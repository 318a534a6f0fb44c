//! The lab's error type: every failure says what was being done and with what.

use std::path::{Path, PathBuf};

use miette::Diagnostic;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LabError {
    #[error("invalid lab description: {0}")]
    #[diagnostic(code(topo::lab::spec))]
    Spec(String),

    #[error("{path}: {source}")]
    #[diagnostic(code(topo::lab::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{argv}` failed ({status}): {stderr}")]
    #[diagnostic(code(topo::lab::command))]
    Command {
        argv: String,
        status: String,
        stderr: String,
    },

    #[error("{what} on {remote}: {source}")]
    #[diagnostic(code(topo::lab::ovsdb))]
    Ovsdb {
        what: String,
        remote: String,
        #[source]
        source: Box<crate::ovsdb::Error>,
    },

    #[error("timed out after {seconds:.1} s waiting for {what}")]
    #[diagnostic(
        code(topo::lab::timeout),
        help("the lab's logs are in its directory (*.log, *.out)")
    )]
    Timeout { what: String, seconds: f64 },

    #[error("lab state {path}: {message}")]
    #[diagnostic(code(topo::lab::state))]
    State { path: PathBuf, message: String },

    #[error("a lab is already running in {0} (run `topo lab down --lab {0}` first)")]
    #[diagnostic(code(topo::lab::exists))]
    Exists(PathBuf),

    #[error("another `topo lab` command is changing the lab in {0} (up, down or chassis)")]
    #[diagnostic(
        code(topo::lab::busy),
        help(
            "wait for it to finish and run this again; `topo lab status` shows the lab meanwhile"
        )
    )]
    Busy(PathBuf),

    #[error("{0}")]
    #[diagnostic(code(topo::lab::setup))]
    Setup(String),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Vswitch(#[from] crate::live::vswitch::Error),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Chassis(#[from] crate::apply::chassis::Error),
}

impl LabError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> LabError {
        LabError::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn ovsdb(what: &str, remote: &str, source: crate::ovsdb::Error) -> LabError {
        LabError::Ovsdb {
            what: what.to_owned(),
            remote: remote.to_owned(),
            source: Box::new(source),
        }
    }
}

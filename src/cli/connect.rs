//! Connection flags shared by every command that talks to OVN, in ovn-nbctl's words:
//! `--db` / `OVN_NB_DB`, `--sb-db` / `OVN_SB_DB`, `-p/-c/-C` for `ssl:` remotes.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use miette::Diagnostic;

use crate::ovsdb::{Client, ConnectOptions, Error as OvsdbError, TlsConfig};

/// The ovn-nbctl default Northbound remote.
pub const DEFAULT_NB: &str = "unix:/var/run/ovn/ovnnb_db.sock";
/// The ovn-sbctl default Southbound remote.
pub const DEFAULT_SB: &str = "unix:/var/run/ovn/ovnsb_db.sock";

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Northbound database remote(s): unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT, comma-separated
    /// for a cluster.
    #[arg(long = "db", env = "OVN_NB_DB", default_value = DEFAULT_NB, value_name = "REMOTE")]
    pub nb: String,
    /// Southbound database remote(s), same syntax as --db.
    #[arg(long = "sb-db", env = "OVN_SB_DB", default_value = DEFAULT_SB, value_name = "REMOTE")]
    pub sb: String,
    /// Private key (PEM) for ssl: remotes.
    #[arg(short = 'p', long = "private-key", value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// Certificate (PEM) for ssl: remotes.
    #[arg(short = 'c', long = "certificate", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// CA certificate (PEM) that signed the servers' certificates.
    #[arg(short = 'C', long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Seconds to wait for a database (connect, leader election, each request).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout: u64,
}

/// A database topo could not talk to, with what to check.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("cannot use the {which} database at {remote}")]
#[diagnostic(code(topo::connect::failed))]
pub struct ConnectFailure {
    pub which: &'static str,
    pub remote: String,
    #[source]
    pub source: OvsdbError,
    #[help]
    pub help: String,
}

impl DbArgs {
    fn tls(&self) -> Option<TlsConfig> {
        match (&self.private_key, &self.certificate, &self.ca_cert) {
            (Some(k), Some(c), Some(ca)) => Some(TlsConfig {
                private_key: k.clone(),
                certificate: c.clone(),
                ca_certificate: ca.clone(),
            }),
            _ => None,
        }
    }

    pub fn options(&self, database: &str) -> ConnectOptions {
        let timeout = Duration::from_secs(self.timeout.max(1));
        ConnectOptions {
            database: Some(database.to_owned()),
            tls: self.tls(),
            connect_timeout: timeout,
            deadline: timeout,
            request_timeout: Some(timeout.max(Duration::from_secs(60))),
            ..ConnectOptions::default()
        }
    }

    /// Connects to the Northbound (`which = "Northbound"`) or Southbound database.
    pub async fn connect(&self, which: &'static str) -> Result<Client, ConnectFailure> {
        let (remote, database, env) = match which {
            "Southbound" => (&self.sb, "OVN_Southbound", "--sb-db / OVN_SB_DB"),
            _ => (&self.nb, "OVN_Northbound", "--db / OVN_NB_DB"),
        };
        Client::connect(remote, self.options(database))
            .await
            .map_err(|source| {
                let help = help_for(&source, database, env);
                ConnectFailure {
                    which,
                    remote: remote.clone(),
                    source,
                    help,
                }
            })
    }
}

fn help_for(error: &OvsdbError, database: &str, env: &str) -> String {
    match error {
        OvsdbError::Tls { .. } | OvsdbError::TlsConfig { .. } | OvsdbError::TlsMissing { .. } => {
            "ssl: remotes need -p PRIVATE-KEY -c CERTIFICATE -C CA-CERT, as ovn-nbctl; the \
             server's certificate must be signed by that CA, and the server must trust the CA \
             that signed yours."
                .to_owned()
        }
        OvsdbError::NoLeader { .. } => format!(
            "the remotes answer but none is the {database} leader yet: check the cluster with \
             `ovs-appctl -t <ctl> cluster/status {database}` (an election may be in progress)."
        ),
        OvsdbError::UnknownDatabase { .. } => format!(
            "the server answers but does not serve {database}: is {env} pointing at the right \
             ovsdb-server?"
        ),
        _ => format!(
            "is ovsdb-server running for {database} and listening there? Check {env}, the \
             socket's path or the host and port, and that this user may open it."
        ),
    }
}

/// A runtime for one command: topo's work is I/O bound and sequential per command.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

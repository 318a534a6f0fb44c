//! Connection flags shared by every command that talks to OVN, in ovn-nbctl's words:
//! `--db` / `OVN_NB_DB`, `--sb-db` / `OVN_SB_DB`, `-p/-c/-C` for `ssl:` remotes, and the
//! named targets of `topo.toml` (`--target`, `--config`). Precedence, per setting: flags >
//! environment > the target > ovn-nbctl's defaults (see `crate::config`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use miette::Diagnostic;

use crate::config::{self, ConfigError};
use crate::ovsdb::{Client, ConnectOptions, Error as OvsdbError, TlsConfig};

/// The ovn-nbctl default Northbound remote.
pub(crate) const DEFAULT_NB: &str = "unix:/var/run/ovn/ovnnb_db.sock";
/// The ovn-sbctl default Southbound remote.
pub(crate) const DEFAULT_SB: &str = "unix:/var/run/ovn/ovnsb_db.sock";

#[derive(Debug, Clone, Args)]
pub(crate) struct DbArgs {
    /// Northbound database remote(s): unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT, comma-separated
    /// for a cluster. Default: the target's `nb`, else unix:/var/run/ovn/ovnnb_db.sock.
    #[arg(
        long = "db",
        env = "OVN_NB_DB",
        default_value = "",
        hide_default_value = true,
        value_name = "REMOTE"
    )]
    pub nb: String,
    /// Southbound database remote(s), same syntax as --db. Default: the target's `sb`, else
    /// unix:/var/run/ovn/ovnsb_db.sock.
    #[arg(
        long = "sb-db",
        env = "OVN_SB_DB",
        default_value = "",
        hide_default_value = true,
        value_name = "REMOTE"
    )]
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
    /// A named target of topo.toml (default: the one marked default).
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// The topo.toml to read (default: ./topo.toml when it exists).
    #[arg(long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Chassis name -> its Open_vSwitch database remote, from the target.
    #[arg(skip)]
    pub chassis: BTreeMap<String, String>,
    /// Seconds to wait for a database (connect, leader election, each request).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout: u64,
}

/// A topo.toml that could not be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error(transparent)]
#[diagnostic(
    code(topo::config::invalid),
    help(
        "topo.toml holds `[targets.<name>]` tables with `nb`, `sb`, `private-key`, \
         `certificate`, `ca-cert` and `[targets.<name>.chassis.<chassis>] remote`; choose one \
         with --target, or mark one `default = true`"
    )
)]
pub(crate) struct ConfigFailure(#[from] pub ConfigError);

/// A database topo could not talk to, with what to check.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("cannot use the {which} database at {remote}")]
#[diagnostic(code(topo::connect::failed))]
pub(crate) struct ConnectFailure {
    pub which: &'static str,
    pub remote: String,
    #[source]
    pub source: OvsdbError,
    #[help]
    pub help: String,
}

impl DbArgs {
    /// Fills the remotes, TLS files and chassis remotes from flags, environment, topo.toml
    /// (`--config`, else `dir/topo.toml`) and the defaults, in that order. Idempotent.
    pub(crate) fn resolve_in(&mut self, dir: &Path) -> Result<(), ConfigFailure> {
        let cfg = config::load(self.config.as_deref(), dir)?;
        let target = match &cfg {
            Some(c) => c.target(self.target.as_deref())?.cloned(),
            None => match &self.target {
                Some(name) => {
                    return Err(ConfigError::UnknownTarget {
                        name: name.clone(),
                        known: None,
                    }
                    .into());
                }
                None => None,
            },
        };
        let t = target.unwrap_or_default();
        self.nb = config::pick(Some(&self.nb), None, t.nb.as_deref(), DEFAULT_NB);
        self.sb = config::pick(Some(&self.sb), None, t.sb.as_deref(), DEFAULT_SB);
        self.private_key = self.private_key.take().or(t.private_key);
        self.certificate = self.certificate.take().or(t.certificate);
        self.ca_cert = self.ca_cert.take().or(t.ca_cert);
        if self.chassis.is_empty() {
            self.chassis = t.chassis;
        }
        Ok(())
    }

    /// [`resolve_in`](Self::resolve_in) the current directory.
    pub(crate) fn resolve(&mut self) -> Result<(), ConfigFailure> {
        self.resolve_in(Path::new("."))
    }

    /// These arguments resolved; a topo.toml that cannot be used is ignored here (the command
    /// line reports it before any command runs).
    fn resolved(&self) -> DbArgs {
        let mut r = self.clone();
        if (r.nb.is_empty() || r.sb.is_empty()) && r.resolve().is_err() {
            r.nb = config::pick(Some(&r.nb), None, None, DEFAULT_NB);
            r.sb = config::pick(Some(&r.sb), None, None, DEFAULT_SB);
        }
        r
    }

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

    /// `--timeout` as a duration (at least a second).
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.max(1))
    }

    pub(crate) fn options(&self, database: &str) -> ConnectOptions {
        let timeout = self.timeout();
        ConnectOptions {
            database: Some(database.to_owned()),
            tls: self.resolved().tls(),
            connect_timeout: timeout,
            deadline: timeout,
            request_timeout: Some(timeout.max(Duration::from_secs(60))),
            ..ConnectOptions::default()
        }
    }

    /// Connects to the Northbound (`which = "Northbound"`) or Southbound database.
    pub(crate) async fn connect(&self, which: &'static str) -> Result<Client, ConnectFailure> {
        let r = self.resolved();
        let (remote, database, env) = match which {
            "Southbound" => (&r.sb, "OVN_Southbound", "--sb-db / OVN_SB_DB"),
            _ => (&r.nb, "OVN_Northbound", "--db / OVN_NB_DB"),
        };
        Client::connect(remote, r.options(database))
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

/// A runtime for one command: topo's work is I/O bound and sequential per command. The error
/// is the command's outcome, ready to return.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, super::exit::Outcome> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| super::exit::Outcome::Error(miette::miette!("cannot start the runtime: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        db: DbArgs,
    }

    fn args(argv: &[&str]) -> DbArgs {
        // Clap reads OVN_NB_DB / OVN_SB_DB too: these tests run with them unset or set, so
        // they only assert what flags and files decide (the environment is covered by the
        // integration tests, which control it).
        let mut v = vec!["t"];
        v.extend(argv);
        T::try_parse_from(v).expect("parse").db
    }

    const TOML: &str = r#"
[targets.a]
nb = "tcp:127.0.0.1:1"
sb = "tcp:127.0.0.1:2"
private-key = "key.pem"
certificate = "cert.pem"
ca-cert = "ca.pem"
[targets.a.chassis.gw1]
remote = "unix:/gw1.sock"
[targets.b]
default = true
nb = "tcp:127.0.0.1:3"
"#;

    fn env_unset() -> bool {
        std::env::var_os("OVN_NB_DB").is_none() && std::env::var_os("OVN_SB_DB").is_none()
    }

    #[test]
    fn flags_beat_the_target_which_beats_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topo.toml"), TOML).unwrap();

        let mut a = args(&[
            "--target",
            "a",
            "--db",
            "unix:/flag.sock",
            "-C",
            "/my/ca.pem",
        ]);
        a.resolve_in(dir.path()).unwrap();
        assert_eq!(a.nb, "unix:/flag.sock");
        assert_eq!(a.ca_cert.as_deref(), Some(Path::new("/my/ca.pem")));
        assert_eq!(a.private_key, Some(dir.path().join("key.pem")));
        assert_eq!(a.chassis["gw1"], "unix:/gw1.sock");
        if env_unset() {
            assert_eq!(a.sb, "tcp:127.0.0.1:2");
        }

        // The default target; what it leaves out falls back to ovn-nbctl's defaults.
        let mut b = args(&[]);
        b.resolve_in(dir.path()).unwrap();
        if env_unset() {
            assert_eq!(b.nb, "tcp:127.0.0.1:3");
            assert_eq!(b.sb, DEFAULT_SB);
        }
        assert!(b.tls().is_none());
        // Resolving twice changes nothing.
        let again = b.clone();
        b.resolve_in(dir.path()).unwrap();
        assert_eq!(format!("{b:?}"), format!("{again:?}"));
    }

    #[test]
    fn without_a_file_the_defaults_apply_and_a_target_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(&[]);
        a.resolve_in(dir.path()).unwrap();
        if env_unset() {
            assert_eq!(a.nb, DEFAULT_NB);
            assert_eq!(a.sb, DEFAULT_SB);
        }
        let mut t = args(&["--target", "prod"]);
        let err = t.resolve_in(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("no target `prod`: no topo.toml here")
        );
        // --config names the file wherever it is.
        let elsewhere = dir.path().join("elsewhere.toml");
        std::fs::write(&elsewhere, TOML).unwrap();
        let path = elsewhere.display().to_string();
        let mut c = args(&["--config", &path, "--target", "a"]);
        c.resolve_in(Path::new("/nonexistent")).unwrap();
        assert_eq!(c.chassis["gw1"], "unix:/gw1.sock");
    }
}

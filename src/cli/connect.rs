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

/// `--timeout`'s default, in seconds.
pub(crate) const DEFAULT_TIMEOUT: u64 = 10;

/// The environment variable of the Northbound remote, as ovn-nbctl.
pub(crate) const NB_ENV: &str = "OVN_NB_DB";
/// The environment variable of the Southbound remote, as ovn-sbctl.
pub(crate) const SB_ENV: &str = "OVN_SB_DB";

#[derive(Debug, Clone, Args)]
pub(crate) struct DbArgs {
    /// Northbound database remote(s): unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT, comma-separated
    /// for a cluster. Default: $OVN_NB_DB, else the target's `nb`, else
    /// unix:/var/run/ovn/ovnnb_db.sock.
    #[arg(
        long = "db",
        default_value = "",
        hide_default_value = true,
        value_name = "REMOTE"
    )]
    pub nb: String,
    /// Southbound database remote(s), same syntax as --db. Default: $OVN_SB_DB, else the
    /// target's `sb`, else unix:/var/run/ovn/ovnsb_db.sock.
    #[arg(
        long = "sb-db",
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
    /// The topo.toml to read (default: the nearest topo.toml in this directory or a parent).
    #[arg(long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Chassis name -> its Open_vSwitch database remote, from the target.
    #[arg(skip)]
    pub chassis: BTreeMap<String, String>,
    /// Hardware VTEP name -> its `hardware_vtep` database remote, from the target.
    #[arg(skip)]
    pub vteps: BTreeMap<String, String>,
    /// Seconds to wait for a database (connect, leader election, each request). Default: the
    /// target's `timeout`, else 10.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Where each setting came from, once resolved.
    #[arg(skip)]
    pub origins: Option<Origins>,
}

/// Where a resolved setting came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub(crate) enum Origin {
    /// A command-line flag.
    Flag { flag: &'static str },
    /// An environment variable.
    Environment { variable: &'static str },
    /// A target of a topo.toml.
    Target { file: PathBuf, target: String },
    /// topo's (ovn-nbctl's) default.
    Default,
    /// Not set anywhere (TLS files without ssl: remotes).
    #[default]
    Unset,
}

/// Where each of [`DbArgs`]' settings came from, for `topo config show`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Origins {
    /// The topo.toml read, if any.
    pub file: Option<PathBuf>,
    /// The target used, if any.
    pub target: Option<String>,
    pub nb: Origin,
    pub sb: Origin,
    pub private_key: Origin,
    pub certificate: Origin,
    pub ca_cert: Origin,
    pub timeout: Origin,
    /// Per chassis remote (all come from the target).
    pub chassis: BTreeMap<String, Origin>,
    /// Per hardware VTEP remote (all come from the target).
    pub vteps: BTreeMap<String, Origin>,
}

/// A topo.toml that could not be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error(transparent)]
#[diagnostic(
    code(topo::config::invalid),
    help(
        "topo.toml holds `[targets.<name>]` tables with `nb`, `sb`, `private-key`, \
         `certificate`, `ca-cert`, `timeout`, `[targets.<name>.chassis.<chassis>] remote` and \
         `[targets.<name>.vteps.<vtep>] remote` (docs/config.md); choose one with --target, or mark one `default = true`"
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
    /// Fills the remotes, TLS files, timeout and chassis remotes from flags, environment
    /// (`env`, e.g. `OVN_NB_DB`), topo.toml (`--config`, else the nearest `topo.toml` from
    /// `dir` up) and the defaults, in that order, and records where each came from in
    /// `origins`. Resolving again changes nothing.
    pub(crate) fn resolve_with(
        &mut self,
        dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigFailure> {
        if self.origins.is_some() {
            return Ok(());
        }
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
        let file = cfg.as_ref().map(|c| c.path.clone());
        let from_target = match (&file, &target) {
            (Some(f), Some(t)) => Origin::Target {
                file: f.clone(),
                target: t.name.clone(),
            },
            _ => Origin::Unset,
        };
        let t = target.unwrap_or_default();
        let mut origins = Origins {
            file,
            target: (!t.name.is_empty()).then(|| t.name.clone()),
            ..Origins::default()
        };

        let remote = |flag_value: &str,
                      flag: &'static str,
                      variable: &'static str,
                      target: Option<&str>,
                      default: &str| {
            let env_value = env(variable);
            let value = config::pick(Some(flag_value), env_value.as_deref(), target, default);
            let origin = if !flag_value.is_empty() {
                Origin::Flag { flag }
            } else if env_value.as_deref().is_some_and(|v| !v.is_empty()) {
                Origin::Environment { variable }
            } else if target.is_some_and(|v| !v.is_empty()) {
                from_target.clone()
            } else {
                Origin::Default
            };
            (value, origin)
        };
        (self.nb, origins.nb) = remote(&self.nb, "--db", NB_ENV, t.nb.as_deref(), DEFAULT_NB);
        (self.sb, origins.sb) = remote(&self.sb, "--sb-db", SB_ENV, t.sb.as_deref(), DEFAULT_SB);

        let tls_file =
            |flag_value: &mut Option<PathBuf>, flag: &'static str, target: Option<PathBuf>| {
                let origin = match (&flag_value, &target) {
                    (Some(_), _) => Origin::Flag { flag },
                    (None, Some(_)) => from_target.clone(),
                    (None, None) => Origin::Unset,
                };
                *flag_value = flag_value.take().or(target);
                origin
            };
        origins.private_key = tls_file(&mut self.private_key, "--private-key", t.private_key);
        origins.certificate = tls_file(&mut self.certificate, "--certificate", t.certificate);
        origins.ca_cert = tls_file(&mut self.ca_cert, "--ca-cert", t.ca_cert);

        (self.timeout, origins.timeout) = match (self.timeout, t.timeout) {
            (Some(s), _) => (Some(s), Origin::Flag { flag: "--timeout" }),
            (None, Some(s)) => (Some(s), from_target.clone()),
            (None, None) => (Some(DEFAULT_TIMEOUT), Origin::Default),
        };

        if self.chassis.is_empty() {
            self.chassis = t.chassis;
        }
        origins.chassis = self
            .chassis
            .keys()
            .map(|name| (name.clone(), from_target.clone()))
            .collect();
        if self.vteps.is_empty() {
            self.vteps = t.vteps;
        }
        origins.vteps = self
            .vteps
            .keys()
            .map(|name| (name.clone(), from_target.clone()))
            .collect();
        self.origins = Some(origins);
        Ok(())
    }

    /// [`resolve_with`](Self::resolve_with) the process's environment, from the current
    /// directory.
    pub(crate) fn resolve(&mut self) -> Result<(), ConfigFailure> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        self.resolve_with(&cwd, process_env)
    }

    /// These arguments resolved; a topo.toml that cannot be used is ignored here (the command
    /// line reports it before any command runs).
    fn resolved(&self) -> DbArgs {
        let mut r = self.clone();
        if r.origins.is_none() && r.resolve().is_err() {
            let nb_env = process_env(NB_ENV);
            let sb_env = process_env(SB_ENV);
            r.nb = config::pick(Some(&r.nb), nb_env.as_deref(), None, DEFAULT_NB);
            r.sb = config::pick(Some(&r.sb), sb_env.as_deref(), None, DEFAULT_SB);
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

    /// `--timeout` (or the target's, or the default) as a duration (at least a second).
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(DEFAULT_TIMEOUT).max(1))
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

/// The process's environment variable `name`, when set to valid Unicode.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
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
        let mut v = vec!["t"];
        v.extend(argv);
        T::try_parse_from(v).expect("parse").db
    }

    /// No environment variable set.
    fn no_env(_: &str) -> Option<String> {
        None
    }

    const TOML: &str = r#"
[targets.a]
nb = "tcp:127.0.0.1:1"
sb = "tcp:127.0.0.1:2"
private-key = "key.pem"
certificate = "cert.pem"
ca-cert = "ca.pem"
timeout = 30
[targets.a.chassis.gw1]
remote = "unix:/gw1.sock"
[targets.a.vteps.tor1]
remote = "tcp:127.0.0.1:6641"
[targets.b]
default = true
nb = "tcp:127.0.0.1:3"
"#;

    #[test]
    fn flags_beat_the_target_which_beats_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("topo.toml");
        std::fs::write(&file, TOML).unwrap();
        let from_a = Origin::Target {
            file: file.clone(),
            target: "a".to_owned(),
        };

        let mut a = args(&[
            "--target",
            "a",
            "--db",
            "unix:/flag.sock",
            "-C",
            "/my/ca.pem",
        ]);
        a.resolve_with(dir.path(), no_env).unwrap();
        assert_eq!(a.nb, "unix:/flag.sock");
        assert_eq!(a.sb, "tcp:127.0.0.1:2");
        assert_eq!(a.ca_cert.as_deref(), Some(Path::new("/my/ca.pem")));
        assert_eq!(a.private_key, Some(dir.path().join("key.pem")));
        assert_eq!(a.chassis["gw1"], "unix:/gw1.sock");
        assert_eq!(a.vteps["tor1"], "tcp:127.0.0.1:6641");
        assert_eq!(a.timeout(), Duration::from_secs(30));
        let o = a.origins.clone().unwrap();
        assert_eq!(o.file.as_deref(), Some(file.as_path()));
        assert_eq!(o.target.as_deref(), Some("a"));
        assert_eq!(o.nb, Origin::Flag { flag: "--db" });
        assert_eq!(o.sb, from_a);
        assert_eq!(o.ca_cert, Origin::Flag { flag: "--ca-cert" });
        assert_eq!(o.private_key, from_a);
        assert_eq!(o.timeout, from_a);
        assert_eq!(o.chassis["gw1"], from_a);
        assert_eq!(o.vteps["tor1"], from_a);

        // The default target; what it leaves out falls back to ovn-nbctl's defaults.
        let mut b = args(&[]);
        b.resolve_with(dir.path(), no_env).unwrap();
        assert_eq!(b.nb, "tcp:127.0.0.1:3");
        assert_eq!(b.sb, DEFAULT_SB);
        assert!(b.tls().is_none());
        assert_eq!(b.timeout(), Duration::from_secs(DEFAULT_TIMEOUT));
        let o = b.origins.clone().unwrap();
        assert_eq!(o.sb, Origin::Default);
        assert_eq!(o.timeout, Origin::Default);
        assert_eq!(o.private_key, Origin::Unset);
        // Resolving twice changes nothing.
        let again = b.clone();
        b.resolve_with(dir.path(), no_env).unwrap();
        assert_eq!(format!("{b:?}"), format!("{again:?}"));
    }

    #[test]
    fn the_environment_beats_the_target_and_flags_beat_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("topo.toml"), TOML).unwrap();
        let env = |name: &str| match name {
            NB_ENV => Some("tcp:127.0.0.1:10".to_owned()),
            SB_ENV => Some(String::new()), // empty: unset, as ovn-nbctl
            _ => None,
        };
        let mut a = args(&["--target", "a"]);
        a.resolve_with(dir.path(), env).unwrap();
        assert_eq!(a.nb, "tcp:127.0.0.1:10");
        assert_eq!(a.sb, "tcp:127.0.0.1:2");
        let o = a.origins.unwrap();
        assert_eq!(o.nb, Origin::Environment { variable: NB_ENV });
        assert!(matches!(o.sb, Origin::Target { .. }));

        let mut f = args(&["--db", "tcp:127.0.0.1:20"]);
        f.resolve_with(dir.path(), env).unwrap();
        assert_eq!(f.nb, "tcp:127.0.0.1:20");
        assert_eq!(f.origins.unwrap().nb, Origin::Flag { flag: "--db" });
    }

    #[test]
    fn without_a_file_the_defaults_apply_and_a_target_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(&[]);
        a.resolve_with(dir.path(), no_env).unwrap();
        assert_eq!(a.nb, DEFAULT_NB);
        assert_eq!(a.sb, DEFAULT_SB);
        let o = a.origins.unwrap();
        assert_eq!((o.file, o.target), (None, None));
        assert_eq!(o.nb, Origin::Default);
        let mut t = args(&["--target", "prod"]);
        let err = t.resolve_with(dir.path(), no_env).unwrap_err();
        assert!(
            err.to_string()
                .contains("no target `prod`: no topo.toml here or in a parent directory")
        );
        // --config names the file wherever it is.
        let elsewhere = dir.path().join("elsewhere.toml");
        std::fs::write(&elsewhere, TOML).unwrap();
        let path = elsewhere.display().to_string();
        let mut c = args(&["--config", &path, "--target", "a"]);
        c.resolve_with(Path::new("/nonexistent"), no_env).unwrap();
        assert_eq!(c.chassis["gw1"], "unix:/gw1.sock");
    }
}

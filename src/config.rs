//! `topo.toml`: named targets — where a deployment's databases are and how to reach them.
//!
//! ```toml
//! default-target = "lab"            # or `default = true` in one target
//!
//! [targets.lab]
//! nb = "ssl:10.0.0.1:6641,ssl:10.0.0.2:6641"
//! sb = "ssl:10.0.0.1:6642"
//! private-key = "pki/topo-privkey.pem"    # relative paths: to the file's directory
//! certificate = "pki/topo-cert.pem"
//! ca-cert = "pki/cacert.pem"
//! timeout = 30                            # seconds, as --timeout
//!
//! [targets.lab.chassis.gw1]
//! remote = "tcp:10.0.0.11:6640"           # the chassis's own Open_vSwitch database
//! ```
//!
//! The single-target form `topo lab up` writes (`[northbound] remote`, `[southbound] remote`,
//! `[chassis.<name>] remote`) is read as one target named after its `[lab] name` (or
//! `default`), and is the default. Keys topo does not use here (the lab's `netns`, `nics`, ...)
//! are ignored.
//!
//! The file is `--config PATH`, else the first `topo.toml` found walking up from the current
//! directory to the filesystem root, as git finds `.git` (a repository boundary does not stop
//! the walk). Relative paths in it — the TLS files and the path of a `unix:` remote — are
//! relative to the file's directory, wherever topo runs from.
//!
//! Precedence, per setting: command-line flags > environment (`OVN_NB_DB`, `OVN_SB_DB`) >
//! the chosen target > ovn-nbctl's defaults. Pure: parsing and resolution take text and
//! values; only [`find`] and [`load`] look at the file system. Documented for users in
//! `docs/config.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file looked for in the current directory and its ancestors.
pub(crate) const FILE_NAME: &str = "topo.toml";

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawFile {
    default_target: Option<String>,
    #[serde(default)]
    targets: BTreeMap<String, RawTarget>,
    // The single-target form written by `topo lab up`.
    lab: Option<RawLab>,
    northbound: Option<RawRemote>,
    southbound: Option<RawRemote>,
    #[serde(default)]
    chassis: BTreeMap<String, RawRemote>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawTarget {
    #[serde(default)]
    default: bool,
    nb: Option<String>,
    sb: Option<String>,
    private_key: Option<PathBuf>,
    certificate: Option<PathBuf>,
    ca_cert: Option<PathBuf>,
    timeout: Option<u64>,
    #[serde(default)]
    chassis: BTreeMap<String, RawRemote>,
    #[serde(default)]
    vteps: BTreeMap<String, RawRemote>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct RawLab {
    name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct RawRemote {
    remote: Option<String>,
}

/// One named target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Target {
    pub name: String,
    pub nb: Option<String>,
    pub sb: Option<String>,
    pub private_key: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
    /// Seconds to wait for a database, as `--timeout`.
    pub timeout: Option<u64>,
    /// Chassis name -> its Open_vSwitch database remote.
    pub chassis: BTreeMap<String, String>,
    /// Hardware VTEP (physical switch) name -> its `hardware_vtep` database remote.
    pub vteps: BTreeMap<String, String>,
}

/// A parsed `topo.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Config {
    pub path: PathBuf,
    pub targets: BTreeMap<String, Target>,
    /// The target used without `--target`.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path} is not a valid topo.toml: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: several targets are marked default ({names})")]
    SeveralDefaults { path: PathBuf, names: String },
    #[error("{path}: default-target `{name}` is not a target")]
    UnknownDefault { path: PathBuf, name: String },
    #[error("no target `{name}`{}", match known { Some(k) if k.is_empty() => " (the file has no targets)".to_owned(), Some(k) => format!(" (targets: {k})"), None => format!(": no {FILE_NAME} here or in a parent directory, and no --config") })]
    UnknownTarget { name: String, known: Option<String> },
}

impl Config {
    /// Parses `text`; relative TLS paths and `unix:` socket paths are resolved against
    /// `path`'s directory.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: Option<PathBuf>| {
            p.map(|p| {
                if p.is_relative() && !base.as_os_str().is_empty() {
                    base.join(p)
                } else {
                    p
                }
            })
        };
        let remote = |r: Option<String>| r.map(|r| rebase_unix(&r, base));
        let chassis = |c: BTreeMap<String, RawRemote>| {
            c.into_iter()
                .filter_map(|(k, v)| Some((k, rebase_unix(&v.remote?, base))))
                .collect::<BTreeMap<_, _>>()
        };
        let mut targets = BTreeMap::new();
        let mut marked = Vec::new();
        for (name, t) in raw.targets {
            if t.default {
                marked.push(name.clone());
            }
            targets.insert(
                name.clone(),
                Target {
                    name,
                    nb: remote(t.nb),
                    sb: remote(t.sb),
                    private_key: rel(t.private_key),
                    certificate: rel(t.certificate),
                    ca_cert: rel(t.ca_cert),
                    timeout: t.timeout,
                    chassis: chassis(t.chassis),
                    vteps: chassis(t.vteps),
                },
            );
        }
        let single =
            raw.northbound.is_some() || raw.southbound.is_some() || !raw.chassis.is_empty();
        if single {
            let name = raw
                .lab
                .and_then(|l| l.name)
                .unwrap_or_else(|| "default".to_owned());
            marked.push(name.clone());
            targets.insert(
                name.clone(),
                Target {
                    name,
                    nb: remote(raw.northbound.and_then(|r| r.remote)),
                    sb: remote(raw.southbound.and_then(|r| r.remote)),
                    chassis: chassis(raw.chassis),
                    ..Target::default()
                },
            );
        }
        let default = match (raw.default_target, marked.as_slice()) {
            (Some(d), _) if !targets.contains_key(&d) => {
                return Err(ConfigError::UnknownDefault {
                    path: path.to_owned(),
                    name: d,
                });
            }
            (Some(d), _) => Some(d),
            (None, []) if targets.len() == 1 => targets.keys().next().cloned(),
            (None, []) => None,
            (None, [one]) => Some(one.clone()),
            (None, many) => {
                return Err(ConfigError::SeveralDefaults {
                    path: path.to_owned(),
                    names: many.join(", "),
                });
            }
        };
        Ok(Config {
            path: path.to_owned(),
            targets,
            default,
        })
    }

    /// The target `name` (or the default one when `None`; no default: no target).
    pub(crate) fn target(&self, name: Option<&str>) -> Result<Option<&Target>, ConfigError> {
        match name.or(self.default.as_deref()) {
            None => Ok(None),
            Some(n) => self
                .targets
                .get(n)
                .map(Some)
                .ok_or_else(|| ConfigError::UnknownTarget {
                    name: n.to_owned(),
                    known: Some(self.targets.keys().cloned().collect::<Vec<_>>().join(", ")),
                }),
        }
    }
}

/// `remote` (a comma-separated list, as `OVN_NB_DB`) with each relative `unix:` path made
/// relative to `base` (the directory of the file it was read from). Other members, absolute
/// paths and an empty `base` (a file in the current directory) are kept as written.
fn rebase_unix(remote: &str, base: &Path) -> String {
    if base.as_os_str().is_empty() {
        return remote.to_owned();
    }
    let relative = |member: &str| {
        member
            .trim()
            .strip_prefix("unix:")
            .filter(|path| !path.is_empty() && Path::new(path).is_relative())
            .map(|path| format!("unix:{}", base.join(path).display()))
    };
    if remote.split(',').all(|m| relative(m).is_none()) {
        return remote.to_owned();
    }
    remote
        .split(',')
        .map(|member| relative(member).unwrap_or_else(|| member.trim().to_owned()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The first `topo.toml` in `start` or one of its ancestors, up to the filesystem root (as git
/// looks for `.git`; a repository boundary does not stop the walk). `start` should be
/// absolute: a relative one is walked only as far as it goes.
pub(crate) fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads `explicit` (which must exist), else the `topo.toml` [`find`] finds from `start`.
pub(crate) fn load(explicit: Option<&Path>, start: &Path) -> Result<Option<Config>, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => match find(start) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Config::parse(&path, &text).map(Some)
}

/// The first of flag, environment, target, default that is set (empty strings are unset).
pub(crate) fn pick(
    flag: Option<&str>,
    env: Option<&str>,
    target: Option<&str>,
    default: &str,
) -> String {
    [flag, env, target]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or(default)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI: &str = r#"
default-target = "prod"
[targets.prod]
nb = "ssl:10.0.0.1:6641"
sb = "ssl:10.0.0.1:6642"
private-key = "pki/key.pem"
certificate = "/etc/topo/cert.pem"
ca-cert = "pki/ca.pem"
[targets.prod.chassis.gw1]
remote = "tcp:10.0.0.11:6640"
[targets.lab]
nb = "unix:/tmp/lab/nb.sock"
"#;

    #[test]
    fn named_targets_with_tls_and_chassis() {
        let c = Config::parse(Path::new("/work/topo.toml"), MULTI).unwrap();
        assert_eq!(c.default.as_deref(), Some("prod"));
        let prod = c.target(None).unwrap().unwrap();
        assert_eq!(prod.nb.as_deref(), Some("ssl:10.0.0.1:6641"));
        assert_eq!(
            prod.private_key.as_deref(),
            Some(Path::new("/work/pki/key.pem"))
        );
        assert_eq!(
            prod.certificate.as_deref(),
            Some(Path::new("/etc/topo/cert.pem"))
        );
        assert_eq!(prod.chassis["gw1"], "tcp:10.0.0.11:6640");
        let lab = c.target(Some("lab")).unwrap().unwrap();
        assert_eq!(lab.sb, None);
        let err = c.target(Some("nope")).unwrap_err();
        assert_eq!(err.to_string(), "no target `nope` (targets: lab, prod)");
    }

    #[test]
    fn the_default_is_marked_once_or_the_only_target() {
        let one = Config::parse(Path::new("t.toml"), "[targets.a]\nnb = \"x\"\n").unwrap();
        assert_eq!(one.default.as_deref(), Some("a"));
        let marked = Config::parse(
            Path::new("t.toml"),
            "[targets.a]\n[targets.b]\ndefault = true\n",
        )
        .unwrap();
        assert_eq!(marked.default.as_deref(), Some("b"));
        let none = Config::parse(Path::new("t.toml"), "[targets.a]\n[targets.b]\n").unwrap();
        assert_eq!(none.default, None);
        assert_eq!(none.target(None).unwrap(), None);
        assert!(matches!(
            Config::parse(
                Path::new("t.toml"),
                "[targets.a]\ndefault = true\n[targets.b]\ndefault = true\n"
            ),
            Err(ConfigError::SeveralDefaults { .. })
        ));
        assert!(matches!(
            Config::parse(Path::new("t.toml"), "default-target = \"c\"\n[targets.a]\n"),
            Err(ConfigError::UnknownDefault { .. })
        ));
        assert!(matches!(
            Config::parse(Path::new("t.toml"), "[targets.a]\nnbb = 1\n"),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn the_lab_file_is_one_default_target() {
        let text = r#"
# Written by `topo lab up`: the management remotes of this lab.
[lab]
id = "abc"
name = "tutorial"
dir = "/tmp/lab"
[northbound]
remote = "unix:/tmp/lab/nb.sock"
[southbound]
remote = "unix:/tmp/lab/sb.sock"
[chassis.master]
remote = "unix:/tmp/lab/master/db.sock"
netns = "topo-master"
encap-ip = "10.99.0.2"
[chassis.master.nics]
externalnet = "eth1"
"#;
        let c = Config::parse(Path::new("/tmp/lab/topo.toml"), text).unwrap();
        let t = c.target(None).unwrap().unwrap();
        assert_eq!(t.name, "tutorial");
        assert_eq!(t.nb.as_deref(), Some("unix:/tmp/lab/nb.sock"));
        assert_eq!(t.sb.as_deref(), Some("unix:/tmp/lab/sb.sock"));
        assert_eq!(t.chassis["master"], "unix:/tmp/lab/master/db.sock");
    }

    #[test]
    fn flags_beat_environment_beat_target_beat_defaults() {
        assert_eq!(pick(Some("f"), Some("e"), Some("t"), "d"), "f");
        assert_eq!(pick(None, Some("e"), Some("t"), "d"), "e");
        assert_eq!(pick(None, None, Some("t"), "d"), "t");
        assert_eq!(pick(None, None, None, "d"), "d");
        // An empty environment variable is unset, as ovn-nbctl treats it.
        assert_eq!(pick(None, Some(""), Some("t"), "d"), "t");
    }

    #[test]
    fn relative_unix_paths_are_relative_to_the_file() {
        let text = r#"
[targets.a]
nb = "unix:run/nb.sock, tcp:10.0.0.1:6641,unix:/abs/nb.sock"
sb = "unix:sb.sock"
timeout = 30
[targets.a.chassis.hv1]
remote = "unix:hv1/db.sock"
"#;
        let c = Config::parse(Path::new("/net/topo.toml"), text).unwrap();
        let a = c.target(None).unwrap().unwrap();
        assert_eq!(
            a.nb.as_deref(),
            Some("unix:/net/run/nb.sock,tcp:10.0.0.1:6641,unix:/abs/nb.sock")
        );
        assert_eq!(a.sb.as_deref(), Some("unix:/net/sb.sock"));
        assert_eq!(a.chassis["hv1"], "unix:/net/hv1/db.sock");
        assert_eq!(a.timeout, Some(30));
        // A file named without a directory is in the current one: nothing to rebase.
        let here = Config::parse(Path::new("topo.toml"), text).unwrap();
        let a = here.target(None).unwrap().unwrap();
        assert_eq!(a.sb.as_deref(), Some("unix:sb.sock"));
    }

    #[test]
    fn load_walks_up_to_the_file_or_reads_where_told() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(load(None, dir.path()).unwrap(), None);
        std::fs::write(dir.path().join(FILE_NAME), "[targets.a]\nnb = \"x\"\n").unwrap();
        let c = load(None, dir.path()).unwrap().unwrap();
        assert_eq!(c.default.as_deref(), Some("a"));
        let up = load(None, &nested).unwrap().unwrap();
        assert_eq!(up.path, dir.path().join(FILE_NAME));
        // The nearest file wins.
        std::fs::write(nested.join(FILE_NAME), "[targets.near]\n").unwrap();
        assert_eq!(find(&nested), Some(nested.join(FILE_NAME)));
        let missing = dir.path().join("other.toml");
        assert!(matches!(
            load(Some(&missing), dir.path()),
            Err(ConfigError::Read { .. })
        ));
    }
}

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
//! Precedence, per setting: command-line flags > environment (`OVN_NB_DB`, `OVN_SB_DB`) >
//! the chosen target > ovn-nbctl's defaults. Pure: parsing and resolution take text and
//! values; only [`load`] reads a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file looked for in the current directory.
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
    #[serde(default)]
    chassis: BTreeMap<String, RawRemote>,
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
    /// Chassis name -> its Open_vSwitch database remote.
    pub chassis: BTreeMap<String, String>,
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
    #[error("no target `{name}`{}", match known { Some(k) if k.is_empty() => " (the file has no targets)".to_owned(), Some(k) => format!(" (targets: {k})"), None => format!(": no {FILE_NAME} here and no --config") })]
    UnknownTarget { name: String, known: Option<String> },
}

impl Config {
    /// Parses `text`; relative TLS paths are resolved against `path`'s directory.
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
        let chassis = |c: BTreeMap<String, RawRemote>| {
            c.into_iter()
                .filter_map(|(k, v)| Some((k, v.remote?)))
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
                    nb: t.nb,
                    sb: t.sb,
                    private_key: rel(t.private_key),
                    certificate: rel(t.certificate),
                    ca_cert: rel(t.ca_cert),
                    chassis: chassis(t.chassis),
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
                    nb: raw.northbound.and_then(|r| r.remote),
                    sb: raw.southbound.and_then(|r| r.remote),
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

/// Reads `explicit` (which must exist), else `dir/topo.toml` when it exists.
pub(crate) fn load(explicit: Option<&Path>, dir: &Path) -> Result<Option<Config>, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => {
            let p = dir.join(FILE_NAME);
            if !p.is_file() {
                return Ok(None);
            }
            // Shown as `topo.toml`, not with the absolute directory, in messages.
            if dir == Path::new(".") {
                PathBuf::from(FILE_NAME)
            } else {
                p
            }
        }
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
    fn load_finds_the_file_in_the_directory_or_where_told() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(None, dir.path()).unwrap(), None);
        std::fs::write(dir.path().join(FILE_NAME), "[targets.a]\nnb = \"x\"\n").unwrap();
        let c = load(None, dir.path()).unwrap().unwrap();
        assert_eq!(c.default.as_deref(), Some("a"));
        let missing = dir.path().join("other.toml");
        assert!(matches!(
            load(Some(&missing), dir.path()),
            Err(ConfigError::Read { .. })
        ));
    }
}

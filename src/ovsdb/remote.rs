//! Remotes as OVN writes them: `unix:PATH`, `tcp:HOST:PORT`, `ssl:HOST:PORT`, and
//! comma-separated lists of them (the members of a clustered database), exactly the syntax
//! `ovn-nbctl --db` and `OVN_NB_DB` accept. IPv6 hosts are bracketed: `tcp:[::1]:6641`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Remote {
    Unix(String),
    Tcp { host: String, port: u16 },
    Ssl { host: String, port: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error("empty remote")]
    Empty,
    #[error("remote `{0}`: expected `unix:PATH`, `tcp:HOST:PORT` or `ssl:HOST:PORT`")]
    UnknownScheme(String),
    #[error("remote `{0}`: expected HOST:PORT after the scheme")]
    MissingPort(String),
    #[error("remote `{0}`: invalid port")]
    BadPort(String),
    #[error("remote `{0}`: passive remotes (punix:, ptcp:, pssl:) are for servers")]
    Passive(String),
}

impl Remote {
    pub(crate) fn is_ssl(&self) -> bool {
        matches!(self, Remote::Ssl { .. })
    }

    #[cfg(test)]
    /// `host:port` for the socket address of a TCP/SSL remote.
    pub(crate) fn host_port(&self) -> Option<(&str, u16)> {
        match self {
            Remote::Tcp { host, port } | Remote::Ssl { host, port } => Some((host, *port)),
            Remote::Unix(_) => None,
        }
    }

    /// Parses a comma-separated list, as in `OVN_NB_DB=tcp:a:6641,tcp:b:6641`.
    pub(crate) fn parse_list(s: &str) -> Result<Vec<Remote>, RemoteError> {
        let list = s
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(Remote::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            return Err(RemoteError::Empty);
        }
        Ok(list)
    }
}

fn host_port(original: &str, rest: &str) -> Result<(String, u16), RemoteError> {
    let (host, port) = if let Some(stripped) = rest.strip_prefix('[') {
        let (host, after) = stripped
            .split_once(']')
            .ok_or_else(|| RemoteError::MissingPort(original.to_owned()))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| RemoteError::MissingPort(original.to_owned()))?;
        (host, port)
    } else {
        rest.rsplit_once(':')
            .ok_or_else(|| RemoteError::MissingPort(original.to_owned()))?
    };
    if host.is_empty() {
        return Err(RemoteError::MissingPort(original.to_owned()));
    }
    let port = port
        .parse::<u16>()
        .map_err(|_| RemoteError::BadPort(original.to_owned()))?;
    Ok((host.to_owned(), port))
}

impl FromStr for Remote {
    type Err = RemoteError;

    fn from_str(s: &str) -> Result<Remote, RemoteError> {
        let (scheme, rest) = s
            .split_once(':')
            .ok_or_else(|| RemoteError::UnknownScheme(s.to_owned()))?;
        match scheme {
            "unix" if !rest.is_empty() => Ok(Remote::Unix(rest.to_owned())),
            "unix" => Err(RemoteError::Empty),
            "tcp" => host_port(s, rest).map(|(host, port)| Remote::Tcp { host, port }),
            "ssl" => host_port(s, rest).map(|(host, port)| Remote::Ssl { host, port }),
            "punix" | "ptcp" | "pssl" => Err(RemoteError::Passive(s.to_owned())),
            _ => Err(RemoteError::UnknownScheme(s.to_owned())),
        }
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bracket = |h: &str| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.to_owned()
            }
        };
        match self {
            Remote::Unix(p) => write!(f, "unix:{p}"),
            Remote::Tcp { host, port } => write!(f, "tcp:{}:{port}", bracket(host)),
            Remote::Ssl { host, port } => write!(f, "ssl:{}:{port}", bracket(host)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ovn_remotes() {
        assert_eq!(
            Remote::parse_list("unix:/var/run/ovn/ovnnb_db.sock").unwrap(),
            vec![Remote::Unix("/var/run/ovn/ovnnb_db.sock".into())]
        );
        let list = Remote::parse_list("tcp:10.0.0.1:6641, ssl:[fd00::2]:6641,tcp:db.example:6641")
            .unwrap();
        assert_eq!(
            list[0],
            Remote::Tcp {
                host: "10.0.0.1".into(),
                port: 6641
            }
        );
        assert_eq!(
            list[1],
            Remote::Ssl {
                host: "fd00::2".into(),
                port: 6641
            }
        );
        assert_eq!(list[1].to_string(), "ssl:[fd00::2]:6641");
        assert_eq!(list[2].host_port(), Some(("db.example", 6641)));
    }

    #[test]
    fn rejects_what_ovn_rejects() {
        assert!(matches!(Remote::parse_list(""), Err(RemoteError::Empty)));
        assert!(matches!(
            "http://x".parse::<Remote>(),
            Err(RemoteError::UnknownScheme(_))
        ));
        assert!(matches!(
            "tcp:10.0.0.1".parse::<Remote>(),
            Err(RemoteError::MissingPort(_))
        ));
        assert!(matches!(
            "tcp:h:99999".parse::<Remote>(),
            Err(RemoteError::BadPort(_))
        ));
        assert!(matches!(
            "ptcp:6641".parse::<Remote>(),
            Err(RemoteError::Passive(_))
        ));
        assert!(matches!(
            "/tmp/sock".parse::<Remote>(),
            Err(RemoteError::UnknownScheme(_))
        ));
    }
}

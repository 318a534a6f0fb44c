//! Opening the byte stream to a remote: unix socket, TCP, or TLS over TCP.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;

use super::error::Error;
use super::remote::Remote;

/// A connected, bidirectional byte stream.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// Connects to `remote` within `timeout`. `tls` is required for `ssl:` remotes.
pub(crate) async fn connect(
    remote: &Remote,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<Box<dyn Stream>, Error> {
    let name = remote.to_string();
    let attempt = async {
        match remote {
            Remote::Unix(path) => UnixStream::connect(path)
                .await
                .map(|s| Box::new(s) as Box<dyn Stream>)
                .map_err(|source| Error::Connect {
                    remote: name.clone(),
                    source,
                }),
            Remote::Tcp { host, port } => {
                Ok(Box::new(tcp(&name, host, *port).await?) as Box<dyn Stream>)
            }
            Remote::Ssl { host, port } => {
                let config = tls.ok_or_else(|| Error::TlsMissing {
                    remote: name.clone(),
                })?;
                let tcp = tcp(&name, host, *port).await?;
                let server_name = ServerName::try_from(host.clone()).map_err(|e| Error::Tls {
                    remote: name.clone(),
                    message: format!("invalid host name: {e}"),
                })?;
                let stream = TlsConnector::from(config.clone())
                    .connect(server_name, tcp)
                    .await
                    .map_err(|e| Error::Tls {
                        remote: name.clone(),
                        message: tls_message(&e),
                    })?;
                Ok(Box::new(stream) as Box<dyn Stream>)
            }
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Error::ConnectTimeout {
            remote: name,
            after: timeout,
        }),
    }
}

/// A TCP connection with Nagle off: OVSDB is request/response.
async fn tcp(name: &str, host: &str, port: u16) -> Result<TcpStream, Error> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|source| Error::Connect {
            remote: name.to_owned(),
            source,
        })?;
    tcp.set_nodelay(true).ok();
    Ok(tcp)
}

/// A TLS failure in words an operator can act on.
fn tls_message(e: &std::io::Error) -> String {
    let inner = e
        .get_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| e.to_string());
    if inner.contains("UnknownIssuer") || inner.contains("BadSignature") {
        format!(
            "{inner}: the server's certificate is not signed by the CA certificate given \
             (check --ca-cert / -C)"
        )
    } else if inner.contains("CertificateRequired")
        || inner.contains("certificate unknown")
        || inner.contains("BadCertificate")
        || inner.contains("UnknownCA")
    {
        format!(
            "{inner}: the server refused topo's client certificate (is it signed by the CA \
             the server trusts?)"
        )
    } else {
        inner
    }
}

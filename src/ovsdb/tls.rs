//! Mutual TLS for `ssl:` remotes, as `ovn-nbctl -p KEY -c CERT -C CACERT` does it.
//!
//! The server's chain is verified against the given CA certificate, but the server's name is
//! not checked: OVN deployments (and `ovs-pki`) issue certificates whose subject is not the
//! host name the client dials, and OVS's own clients do not check it either. Accepting a
//! certificate signed by the configured CA for any name is therefore the OVN trust model.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::error::Error;

/// PEM files for mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    pub private_key: PathBuf,
    pub certificate: PathBuf,
    pub ca_certificate: PathBuf,
}

fn config_error(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::TlsConfig {
        message: format!("{what} {}: {e}", path.display()),
    }
}

impl TlsConfig {
    /// Reads the PEM files and builds a rustls client configuration (TLS 1.2 and 1.3).
    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        let certs = CertificateDer::pem_file_iter(&self.certificate)
            .map_err(|e| config_error(&self.certificate, "certificate", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_error(&self.certificate, "certificate", e))?;
        if certs.is_empty() {
            return Err(config_error(
                &self.certificate,
                "certificate",
                "no certificate found",
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&self.private_key)
            .map_err(|e| config_error(&self.private_key, "private key", e))?;
        let mut roots = RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(&self.ca_certificate)
            .map_err(|e| config_error(&self.ca_certificate, "CA certificate", e))?
        {
            let ca = ca.map_err(|e| config_error(&self.ca_certificate, "CA certificate", e))?;
            roots
                .add(ca)
                .map_err(|e| config_error(&self.ca_certificate, "CA certificate", e))?;
        }
        if roots.is_empty() {
            return Err(config_error(
                &self.ca_certificate,
                "CA certificate",
                "no certificate found",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::TlsConfig {
                message: e.to_string(),
            })?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::TlsConfig {
                message: e.to_string(),
            })?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CaOnlyVerifier { inner: webpki }))
            .with_client_auth_cert(certs, key)
            .map_err(|e| config_error(&self.private_key, "key/certificate pair", e))?;
        Ok(Arc::new(config))
    }
}

/// Verifies the chain against the CA with webpki and accepts any server name.
#[derive(Debug)]
struct CaOnlyVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for CaOnlyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain (and validity dates) before the name, so a name mismatch
        // error means the chain itself was accepted.
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

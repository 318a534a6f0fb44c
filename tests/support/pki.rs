//! A throwaway PKI made with `ovs-pki` inside a test's temp dir: a CA, a server and a client
//! certificate signed by it, and a second, rogue CA with its own client certificate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A private key, its certificate, and the CA certificate the holder trusts, as the `-p`, `-c`
/// and `-C` options of `ovsdb-client`/`ovn-nbctl` take them.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub private_key: PathBuf,
    pub certificate: PathBuf,
    pub ca_cert: PathBuf,
}

impl TlsFiles {
    /// The `-p KEY -c CERT -C CA` arguments of the OVS command-line tools.
    pub fn args(&self) -> Vec<String> {
        vec![
            format!("--private-key={}", self.private_key.display()),
            format!("--certificate={}", self.certificate.display()),
            format!("--ca-cert={}", self.ca_cert.display()),
        ]
    }

    /// The same key and certificate, trusting another CA.
    pub fn with_ca(&self, ca_cert: &Path) -> TlsFiles {
        TlsFiles {
            ca_cert: ca_cert.to_owned(),
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pki {
    /// The good CA's certificate.
    pub ca_cert: PathBuf,
    /// The rogue CA's certificate: signed nothing the server holds.
    pub rogue_ca_cert: PathBuf,
    /// What ovsdb-server is started with (server key/cert, trusting the good CA).
    pub server: TlsFiles,
    /// A client signed by the good CA, trusting the good CA: should connect.
    pub client: TlsFiles,
    /// A client signed by the rogue CA, trusting the good CA: the server should refuse it.
    pub rogue_client: TlsFiles,
}

impl Pki {
    /// Creates the PKI under `dir/pki` and `dir/rogue-pki`, keys and certificates in `dir`.
    pub fn create(dir: &Path) -> Pki {
        let log = dir.join("ovs-pki.log");
        let ovs_pki = |args: &[&str]| {
            let out = Command::new(super::bin("ovs-pki"))
                .arg(format!("--log={}", log.display()))
                .args(args)
                .current_dir(dir)
                .output()
                .expect("run ovs-pki");
            assert!(
                out.status.success(),
                "ovs-pki {args:?} failed: {}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                super::tail(&log, 20)
            );
        };
        let good = dir.join("pki");
        let rogue = dir.join("rogue-pki");
        let good_dir = format!("--dir={}", good.display());
        let rogue_dir = format!("--dir={}", rogue.display());
        ovs_pki(&[&good_dir, "init"]);
        ovs_pki(&[&good_dir, "req+sign", "server", "switch"]);
        ovs_pki(&[&good_dir, "req+sign", "client", "switch"]);
        ovs_pki(&[&rogue_dir, "init"]);
        ovs_pki(&[&rogue_dir, "req+sign", "rogue-client", "switch"]);

        let ca_cert = good.join("switchca/cacert.pem");
        let rogue_ca_cert = rogue.join("switchca/cacert.pem");
        let files = |name: &str, ca: &Path| TlsFiles {
            private_key: dir.join(format!("{name}-privkey.pem")),
            certificate: dir.join(format!("{name}-cert.pem")),
            ca_cert: ca.to_owned(),
        };
        let pki = Pki {
            server: files("server", &ca_cert),
            client: files("client", &ca_cert),
            rogue_client: files("rogue-client", &ca_cert),
            ca_cert,
            rogue_ca_cert,
        };
        for f in [
            &pki.ca_cert,
            &pki.rogue_ca_cert,
            &pki.server.private_key,
            &pki.client.certificate,
        ] {
            assert!(f.is_file(), "ovs-pki did not produce {}", f.display());
        }
        pki
    }
}

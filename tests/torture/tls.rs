//! Mutual TLS as a user meets it, through the `topo` command: the right CA is accepted; a
//! client that trusts another CA, a client certificate from a rogue CA, no certificate at all
//! and plain TCP to the SSL port are each refused with a message that says which.

use crate::support::ovn::OvnSandbox;

fn plan(remote: &str, file: &std::path::Path, tls: &[String]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_topo"))
        .arg("plan")
        .arg(file)
        .args(["--db", remote, "--timeout", "3"])
        .args(tls)
        .env_remove("OVN_NB_DB")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        crate::support::folded(&String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn mutual_tls_through_the_cli() {
    crate::require_ovn!();
    let ovn = OvnSandbox::builder()
        .sb(false)
        .northd(false)
        .ssl(true)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let (yaml, _) = crate::support::topology::tenants(2);
    let file = crate::write(dir.path(), "t.yaml", &yaml);
    let pki = ovn.pki();
    let remote = ovn.nb_ssl_remote();

    // Right CA, client signed by it: the plan is made (changes present: exit 2).
    let (code, err) = plan(&remote, &file, &pki.client.args());
    assert_eq!(code, Some(2), "right CA: {err}");

    // The client trusts another CA: the server's certificate does not verify.
    let (code, err) = plan(
        &remote,
        &file,
        &pki.client.with_ca(&pki.rogue_ca_cert).args(),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("not signed by the CA certificate given"),
        "wrong CA: {err}"
    );

    // A client certificate from a rogue CA: the server refuses it.
    let (code, err) = plan(&remote, &file, &pki.rogue_client.args());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("refused topo's client certificate") && err.contains(&remote),
        "rogue client certificate: {err}"
    );

    // No certificate: refused before any connection, naming what is missing.
    let (code, err) = plan(&remote, &file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("need a private key, certificate and CA certificate"),
        "no certificate: {err}"
    );

    // Plain TCP to the SSL port: the server wants a handshake, topo gets no answer it can
    // read; refused, naming the remote, never a hang past --timeout.
    let port = ovn.nb.ssl_port().unwrap();
    let tcp = format!("tcp:127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let (code, err) = plan(&tcp, &file, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&tcp), "plain TCP to the SSL port: {err}");
    assert!(
        err.contains("use ssl:"),
        "says the port may want TLS: {err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{err}"
    );
    eprintln!("TORTURE tls: plain TCP to the SSL port says: {err}");
}

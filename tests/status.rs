//! `topo status` against real databases: what it reports, as text and JSON, for standalone
//! and clustered databases, over TLS, and its error when a database cannot be reached.

use serde_json::Value;

use crate::require_ovn;
use crate::support::ovn::{NbCluster, OvnSandbox};
use crate::support::topo_cmd::TopoCmd;

/// A chassis as ovn-controller would register it (data only: nothing is sent to the address).
fn add_chassis(ovn: &OvnSandbox) {
    ovn.sbctl(&["chassis-add", "ch1", "geneve", "127.0.0.11"]);
    ovn.sbctl(&[
        "set",
        "Chassis",
        "ch1",
        "hostname=host1",
        "other_config:ovn-bridge-mappings=physnet1:br-ex,physnet2:br-two",
    ]);
}

#[test]
fn status_reports_standalone_databases_and_chassis() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).start();
    ovn.nbctl(&["init"]);
    add_chassis(&ovn);
    let nb = ovn.nb_remote();
    let sb = ovn.sb_remote();

    let out = TopoCmd::new(["status", "--db", &nb, "--sb-db", &sb])
        .run()
        .success();
    let text = out.stdout();
    for want in [
        "OVN_Northbound".to_owned(),
        format!("remote:  {nb}"),
        "role:    standalone".to_owned(),
        "OVN_Southbound".to_owned(),
        format!("remote:  {sb}"),
        "Chassis (1)".to_owned(),
        "ch1 (host1)".to_owned(),
        "encap geneve 127.0.0.11".to_owned(),
        "bridge mapping physnet1 -> br-ex".to_owned(),
        "bridge mapping physnet2 -> br-two".to_owned(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }

    // The same through the environment, as JSON.
    let out = TopoCmd::new(["status", "--format", "json"])
        .env("OVN_NB_DB", &nb)
        .env("OVN_SB_DB", &sb)
        .run()
        .success();
    let v: Value = serde_json::from_str(&out.stdout()).expect("status --format json is JSON");
    assert_eq!(v["northbound"]["remote"], nb.as_str());
    assert_eq!(v["northbound"]["role"], "standalone");
    assert_eq!(v["northbound"]["nb_cfg"], 0);
    assert_eq!(v["southbound"]["remote"], sb.as_str());
    assert_eq!(v["chassis"][0]["name"], "ch1");
    assert_eq!(v["chassis"][0]["hostname"], "host1");
    assert_eq!(v["chassis"][0]["encaps"][0]["ip"], "127.0.0.11");
    assert_eq!(v["chassis"][0]["bridge_mappings"]["physnet2"], "br-two");
}

#[test]
fn status_reports_the_schema_version_the_server_has() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).start();
    let version = |schema: &str| {
        let out = std::process::Command::new(crate::support::bin("ovsdb-tool"))
            .args(["schema-version", schema])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let out = TopoCmd::new([
        "status",
        "--format",
        "json",
        "--db",
        &ovn.nb_remote(),
        "--sb-db",
        &ovn.sb_remote(),
    ])
    .run()
    .success();
    let v: Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(
        v["northbound"]["schema_version"],
        version(crate::support::ovn::NB_SCHEMA).as_str()
    );
    assert_eq!(
        v["southbound"]["schema_version"],
        version(crate::support::ovn::SB_SCHEMA).as_str()
    );
}

#[test]
fn status_reports_the_cluster_leader() {
    require_ovn!();
    let cluster = NbCluster::start();
    let ovn = OvnSandbox::builder().northd(false).start();
    let leader = cluster.wait_for_leader();
    let out = TopoCmd::new([
        "status",
        "--format",
        "json",
        "--db",
        &cluster.remote(),
        "--sb-db",
        &ovn.sb_remote(),
    ])
    .run()
    .success();
    let v: Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(v["northbound"]["role"], "leader", "{v:#}");
    assert_eq!(
        v["northbound"]["remote"],
        cluster.server(leader).unix_remote().as_str()
    );
    let status = cluster.status(leader).unwrap();
    let cid = crate::support::ovn::status_field(&status, "Cluster ID").unwrap();
    // "659f (659fb5cd-...)": the full id is in the parentheses.
    let full = cid.split(['(', ')']).nth(1).unwrap();
    assert_eq!(v["northbound"]["cluster_id"], full, "{v:#}");
}

#[test]
fn status_over_tls() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).ssl(true).start();
    let pki = ovn.pki();
    let key = pki.client.private_key.display().to_string();
    let cert = pki.client.certificate.display().to_string();
    let ca = pki.client.ca_cert.display().to_string();
    let nb = ovn.nb_ssl_remote();
    let sb = ovn.sb().ssl_remote();
    let out = TopoCmd::new([
        "status", "--db", &nb, "--sb-db", &sb, "-p", &key, "-c", &cert, "-C", &ca,
    ])
    .run()
    .success();
    assert!(
        out.stdout().contains(&format!("remote:  {nb}")),
        "{}",
        out.stdout()
    );
}

#[test]
fn status_with_an_unreachable_database_names_it_and_exits_1() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).start();
    let gone = format!("unix:{}", ovn.dir().join("no-such.sock").display());
    let out = TopoCmd::new(["status", "--db", &gone, "--sb-db", &ovn.sb_remote()])
        .run()
        .expect_code(1);
    let err = out.stderr_flat();
    assert!(err.contains(&gone), "names the remote: {err}");
    assert!(err.contains("OVN_NB_DB"), "says what to check: {err}");
    assert!(
        out.stdout().is_empty(),
        "no partial report: {}",
        out.stdout()
    );

    let out = TopoCmd::new(["status", "--db", &ovn.nb_remote(), "--sb-db", &gone])
        .run()
        .expect_code(1);
    let err = out.stderr_flat();
    assert!(err.contains(&gone) && err.contains("OVN_SB_DB"), "{err}");
}

//! What apply must never write: rows made by others beside the stack stay byte-identical
//! through apply and prune; a stale saved plan, an unreachable database (or chassis database),
//! an invalid topology, a lock held by another client, and a missing `--yes` without a terminal each change nothing
//! (the NB dump is byte-identical) and say why (exit 1); `--no-prune` keeps owned rows that
//! left the topology.

use std::path::PathBuf;

use serde_json::Value;

use super::{apply, assert_converged, assert_lines, edited, example, plan, topo, write};
use crate::require_ovn;
use crate::support::ovn::{NB_DB, OvnSandbox};
use crate::support::ovn_tools;
use crate::support::process::Daemon;
use crate::support::topo_cmd::TopoOutput;
use crate::support::wait_for;

const LS3: &str = "  lsjoin:\n";
const LS3_ADDED: &str = r#"  ls3:
    subnet: 10.10.50.0/24
    ports:
      ls3-vm1: { mac: "00:00:00:00:00:09", ip: 10.10.50.2, chassis: node1 }
  lsjoin:
"#;

/// gateway-router.yaml, and the same with a switch ls3 more, in a temp dir.
struct Files {
    dir: tempfile::TempDir,
    base: PathBuf,
    with_ls3: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let with_ls3 = write(
        dir.path(),
        "with-ls3.yaml",
        &edited("gateway-router.yaml", &[(LS3, LS3_ADDED)]),
    );
    Files {
        base: example("gateway-router.yaml"),
        with_ls3,
        dir,
    }
}

fn nb_only() -> OvnSandbox {
    OvnSandbox::builder().sb(false).northd(false).start()
}

/// Every row of the managed tables without a topo mark, as `ovsdb-client dump -f json` shows
/// it (`_uuid`, `_version` and every column), table by table.
fn unowned_rows(ovn: &OvnSandbox) -> String {
    let mut out = String::new();
    for table in topo::live::NB_TABLES {
        let dump = ovn_tools::dump_json(&ovn.nb_remote(), NB_DB, &[table]);
        let headings = dump["headings"].as_array().unwrap();
        // A table without `external_ids` (Load_Balancer_Group) holds no mark: all unowned.
        let ids = headings.iter().position(|h| h == "external_ids");
        for row in dump["data"].as_array().unwrap() {
            let owned = ids.is_some_and(|ids| {
                row[ids][1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|kv| kv[0] == "topo:stack")
            });
            if !owned {
                out += &format!(
                    "{table} {}\n",
                    Value::Array(row.as_array().unwrap().clone())
                );
            }
        }
    }
    out
}

#[test]
fn rows_beside_the_stack_are_untouched_by_apply_and_prune() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    // Made by hand beside the stack: a switch with ports, a router with a port, NAT, route.
    ovn.nbctl(&["ls-add", "side"]);
    ovn.nbctl(&["lsp-add", "side", "side-p1"]);
    ovn.nbctl(&[
        "lsp-set-addresses",
        "side-p1",
        "00:00:00:00:aa:01 192.168.9.2",
    ]);
    ovn.nbctl(&["lsp-add", "side", "side-p2"]);
    ovn.nbctl(&["lr-add", "side-r"]);
    ovn.nbctl(&[
        "lrp-add",
        "side-r",
        "side-r-p",
        "00:00:00:00:aa:ff",
        "192.168.9.1/24",
    ]);
    ovn.nbctl(&[
        "lr-nat-add",
        "side-r",
        "snat",
        "198.51.100.1",
        "192.168.9.0/24",
    ]);
    ovn.nbctl(&["lr-route-add", "side-r", "0.0.0.0/0", "192.168.9.254"]);
    ovn.nbctl(&["ha-chassis-group-add", "side-g"]);
    ovn.nbctl(&["ha-chassis-group-add-chassis", "side-g", "hvx", "5"]);
    let before = unowned_rows(&ovn);
    assert_eq!(before.lines().count(), 9, "{before}");

    apply(&ovn, &f.with_ls3);
    assert_eq!(
        before,
        unowned_rows(&ovn),
        "apply touched rows it does not own"
    );
    // Prune: ls3 left the topology.
    let out = apply(&ovn, &f.base);
    assert!(out.stdout().contains("- switch ls3"), "{}", out.stdout());
    assert!(!ovn.nbctl(&["ls-list"]).contains("(ls3)"));
    assert_eq!(
        before,
        unowned_rows(&ovn),
        "prune touched rows it does not own"
    );
    assert_converged(&ovn, &f.base);
}

/// A Northbound with gateway-router.yaml applied, and the plan that adds ls3 saved in
/// `plan.json` beside the files.
fn ls3_plan_saved() -> (OvnSandbox, Files, PathBuf) {
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.base);
    let saved = f.dir.path().join("plan.json");
    let s = saved.to_str().unwrap();
    topo(&ovn, &["plan", "-o", s, f.with_ls3.to_str().unwrap()]).expect_code(2);
    (ovn, f, saved)
}

/// A saved plan is checked after its commit as a topology is. A hand-edited plan that creates
/// a port no switch refers to commits (OVSDB drops the unreferenced row with the
/// transaction); apply says the database does not hold what was planned, and names the port.
/// The faithful plan, applied afterwards, converges.
#[test]
fn a_saved_plan_that_does_not_hold_after_its_commit_is_reported() {
    require_ovn!();
    let (ovn, f, saved) = ls3_plan_saved();

    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let ls3 = plan["changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["table"] == "Logical_Switch" && c["key"] == serde_json::json!(["ls3"]))
        .expect("the plan creates ls3");
    ls3["columns"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["column"] != "ports");
    let edited = write(
        f.dir.path(),
        "edited.json",
        &serde_json::to_string_pretty(&plan).unwrap(),
    );
    let out = topo(&ovn, &["apply", "--yes", edited.to_str().unwrap()]).expect_code(1);
    let err = super::stderr(&out);
    assert!(
        err.contains("applied, but the live state still differs from what was planned"),
        "{err}"
    );
    assert!(err.contains("ls3-vm1"), "{err}");
    let names = |table: &str| ovn.nbctl(&["--bare", "--columns=name", "list", table]);
    assert!(names("Logical_Switch").contains("ls3"));
    assert!(!names("Logical_Switch_Port").contains("ls3-vm1"));

    apply(&ovn, &f.with_ls3);
    assert_converged(&ovn, &f.with_ls3);
}

#[test]
fn a_stale_saved_plan_is_refused_and_writes_nothing() {
    require_ovn!();
    let (ovn, f, saved) = ls3_plan_saved();
    let s = saved.to_str().unwrap();
    let mode = std::fs::metadata(&saved).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );

    // 1. A row the plan read (not one it changes) is modified.
    ovn.nbctl(&[
        "lsp-set-addresses",
        "ls2-vm1",
        "00:00:00:00:00:03 10.10.20.9",
    ]);
    let before = ovn.nb_dump();
    let out = topo(&ovn, &["apply", "--yes", s]).expect_code(1);
    let err = super::stderr(&out);
    assert!(
        err.contains(
            "the saved plan is stale: 1 row(s) moved since it was made; nothing was written"
        ),
        "{err}"
    );
    assert!(err.contains("switch port ls2-vm1 was modified"), "{err}");
    assert_eq!(before, ovn.nb_dump());

    // 2. A name the plan creates is taken meanwhile.
    ovn.nbctl(&[
        "lsp-set-addresses",
        "ls2-vm1",
        "00:00:00:00:00:03 10.10.20.2",
    ]);
    topo(&ovn, &["plan", "-o", s, f.with_ls3.to_str().unwrap()]).expect_code(2);
    ovn.nbctl(&["ls-add", "ls3"]);
    let before = ovn.nb_dump();
    let out = topo(&ovn, &["apply", "--yes", s]).expect_code(1);
    assert!(
        super::stderr(&out).contains("switch ls3 was created"),
        "{}",
        out.stderr()
    );
    assert_eq!(before, ovn.nb_dump());

    // 3. An owned row the plan did not see appears (another apply of the stack).
    ovn.nbctl(&["ls-del", "ls3"]);
    topo(&ovn, &["plan", "-o", s, f.base.to_str().unwrap()]).expect_code(0);
    apply(&ovn, &f.with_ls3);
    let before = ovn.nb_dump();
    let out = topo(&ovn, &["apply", "--yes", s]).expect_code(1);
    assert!(
        super::stderr(&out).contains("switch ls3 was created"),
        "{}",
        out.stderr()
    );
    assert_eq!(before, ovn.nb_dump());

    // A fresh plan of the same file applies.
    topo(&ovn, &["plan", "-o", s, f.base.to_str().unwrap()]).expect_code(2);
    topo(&ovn, &["apply", "--yes", s]).success();
    assert_converged(&ovn, &f.base);
}

#[test]
fn an_unreachable_database_says_so() {
    require_ovn!();
    let dir = tempfile::tempdir().unwrap();
    let remote = format!("unix:{}", dir.path().join("none.sock").display());
    let base = example("gateway-router.yaml");
    for cmd in ["plan", "apply", "drift"] {
        let mut args = vec![
            cmd,
            base.to_str().unwrap(),
            "--db",
            &remote,
            "--timeout",
            "1",
        ];
        if cmd == "apply" {
            args.insert(1, "--yes");
        }
        let out = crate::support::topo_cmd::TopoCmd::new(args)
            .run()
            .expect_code(1);
        let err = super::stderr(&out);
        assert!(
            err.contains(&format!("cannot use the Northbound database at {remote}")),
            "{cmd}: {err}"
        );
        assert!(err.contains("No such file or directory"), "{cmd}: {err}");
    }
}

#[test]
fn an_unreachable_chassis_database_says_so_and_writes_nothing() {
    require_ovn!();
    let ovn = nb_only();
    let dir = tempfile::tempdir().unwrap();
    let remote = format!("unix:{}", dir.path().join("none.sock").display());
    let file = write(
        dir.path(),
        "remote.yaml",
        &edited(
            "gateway-router.yaml",
            &[(
                "    bridges: { br-ens8: [ens8] }\n",
                &format!("    bridges: {{ br-ens8: [ens8] }}\n    remote: {remote}\n"),
            )],
        ),
    );
    let before = ovn.nb_dump();
    for cmd in ["plan", "apply"] {
        let mut args = vec![cmd, file.to_str().unwrap(), "--timeout", "120"];
        if cmd == "apply" {
            args.insert(1, "--yes");
        }
        let started = std::time::Instant::now();
        let out = topo(&ovn, &args).expect_code(1);
        let err = super::stderr(&out);
        assert!(
            err.contains(&format!("topo::{cmd}::chassis")),
            "{cmd}: {err}"
        );
        assert!(
            err.contains(&format!("chassis master: connect on {remote}")),
            "{cmd}: {err}"
        );
        // Nothing listens there: it fails at once instead of waiting out the --timeout for a
        // server to come up (a bound far from both, not a measure of speed).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{cmd} waited {:?}",
            started.elapsed()
        );
    }
    assert_eq!(before, ovn.nb_dump());

    // A runner that reaches the Northbound but not the chassis can still plan and drift:
    // `--chassis reachable` lists the chassis as not checked, with the reason, and only
    // `--strict` makes that an error; `--chassis none` does not read chassis at all.
    let not_checked = format!("  ? chassis master at {remote}: connect on {remote}");
    for cmd in ["plan", "drift"] {
        let out = topo(
            &ovn,
            &[cmd, file.to_str().unwrap(), "--chassis", "reachable"],
        )
        .expect_code(2);
        assert!(
            out.stdout().contains(&not_checked),
            "{cmd}: {}",
            out.stdout()
        );
        let out = topo(
            &ovn,
            &[
                cmd,
                file.to_str().unwrap(),
                "--chassis",
                "reachable",
                "--strict",
            ],
        )
        .expect_code(1);
        assert!(super::stderr(&out).contains("--strict"), "{cmd}");
    }
    let out = topo(&ovn, &["plan", file.to_str().unwrap(), "--chassis", "none"]).expect_code(2);
    assert!(
        out.stdout().contains(&format!(
            "  ? chassis master at {remote}: not read (--chassis none)"
        )),
        "{}",
        out.stdout()
    );
    let out = topo(
        &ovn,
        &[
            "plan",
            file.to_str().unwrap(),
            "--chassis",
            "reachable",
            "--format",
            "json",
        ],
    )
    .expect_code(2);
    let json: Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(json["chassis_unchecked"][0]["chassis"], "master");
    assert_eq!(json["chassis_unchecked"][0]["remote"], remote.as_str());
    assert_eq!(before, ovn.nb_dump());
}

#[test]
fn an_invalid_topology_writes_nothing() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.base);
    let bad = write(
        f.dir.path(),
        "bad.yaml",
        &edited(
            "gateway-router.yaml",
            &[("ip: 10.10.10.2,", "ip: 10.10.10.999,")],
        ),
    );
    let before = ovn.nb_dump();
    for cmd in ["plan", "apply", "drift"] {
        let mut args = vec![cmd, bad.to_str().unwrap()];
        if cmd == "apply" {
            args.insert(1, "--yes");
        }
        let out = topo(&ovn, &args).expect_code(1);
        let err = super::stderr(&out);
        assert!(err.contains("topo::addr::bad-ip"), "{cmd}: {err}");
        assert!(
            err.contains("`10.10.10.999` is not an IP address"),
            "{cmd}: {err}"
        );
        assert!(out.stdout().is_empty(), "{cmd}: {}", out.stdout());
    }
    assert_eq!(before, ovn.nb_dump());
}

#[test]
fn a_lock_held_by_another_client_writes_nothing() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.base);
    // Another client holds the stack's lock, as a concurrent apply would.
    let out_path = f.dir.path().join("lock.out");
    let mut cmd = std::process::Command::new(crate::support::bin("ovsdb-client"));
    cmd.args(["lock", &ovn.nb_remote(), "topo_tutorial"]);
    let mut holder = Daemon::spawn("ovsdb-client lock", cmd, &out_path);
    wait_for(
        "ovsdb-client to hold the lock",
        crate::support::READY_TIMEOUT,
        || {
            holder.assert_running();
            std::fs::read_to_string(&out_path)
                .ok()
                .filter(|s| s.contains(r#"{"locked":true}"#))
        },
    );
    let before = ovn.nb_dump();
    let out = topo(&ovn, &["apply", "--yes", f.with_ls3.to_str().unwrap()]).expect_code(1);
    let err = super::stderr(&out);
    assert!(
        err.contains(
            "another apply of stack tutorial holds the lock `topo_tutorial`; nothing was written"
        ),
        "{err}"
    );
    assert!(err.contains("wait for the other apply to finish"), "{err}");
    assert_eq!(before, ovn.nb_dump());
    // plan and drift only read: they do not need the lock.
    plan(&ovn, &f.with_ls3, 2);

    holder.stop();
    apply(&ovn, &f.with_ls3);
    assert_converged(&ovn, &f.with_ls3);
}

#[test]
fn no_prune_keeps_owned_rows_that_left_the_topology() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.with_ls3);
    let base = f.base.to_str().unwrap();

    let out = topo(&ovn, &["plan", "--no-prune", base]).expect_code(0);
    assert_lines(
        "plan --no-prune",
        &out.stdout(),
        &[
            "Kept (owned by tutorial but no longer in the topology; --no-prune):",
            "switch ls3",
            "switch port ls3-vm1",
            "No changes. The live databases match the topology.",
        ],
    );
    let before = ovn.nb_dump();
    let out = topo(&ovn, &["apply", "--yes", "--no-prune", base]).success();
    assert!(out.stdout().contains("No changes."), "{}", out.stdout());
    assert_eq!(before, ovn.nb_dump());
    assert!(ovn.nbctl(&["ls-list"]).contains("(ls3)"));

    // Without --no-prune, the same file deletes them.
    let out = plan(&ovn, &f.base, 2);
    assert_lines(
        "plan",
        &out.stdout(),
        &["- switch ls3", "- switch port ls3-vm1"],
    );
}

#[test]
fn apply_without_a_terminal_and_without_yes_refuses() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.base);
    let before = ovn.nb_dump();
    // TopoCmd's stdin is /dev/null: not a terminal.
    let out = topo(&ovn, &["apply", f.with_ls3.to_str().unwrap()]).expect_code(1);
    let err = super::stderr(&out);
    assert!(
        err.contains("Refusing to apply without --yes: stdin is not a terminal."),
        "{err}"
    );
    assert!(
        err.contains("apply cancelled; nothing was written"),
        "{err}"
    );
    // It showed the plan it refused.
    assert!(out.stdout().contains("+ switch ls3"), "{}", out.stdout());
    assert_eq!(before, ovn.nb_dump());
}

/// R7 in small: two applies of one stack started together, with different topologies, five
/// rounds. They never interleave: each ends applied, or refused (the lock, or a guard) with
/// nothing written; at least one applies; the database then holds exactly one complete
/// topology, and no name is held twice.
#[test]
fn concurrent_applies_of_one_stack_never_interleave() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.base);
    let variant = |name: &str, subnet: &str| {
        write(
            f.dir.path(),
            &format!("{name}.yaml"),
            &edited(
                "gateway-router.yaml",
                &[(
                    LS3,
                    &format!(
                        "  {name}:\n    subnet: {subnet}\n    ports:\n      {name}-vm1: {{ mac: \"00:00:00:00:00:09\", ip: {}, chassis: node1 }}\n  lsjoin:\n",
                        subnet.replace(".0/24", ".2")
                    ),
                )],
            ),
        )
    };
    let a = variant("lsa", "10.10.50.0/24");
    let b = variant("lsb", "10.10.60.0/24");
    for round in 0..5 {
        let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let spawn = |file: &PathBuf| {
            std::process::Command::new(env!("CARGO_BIN_EXE_topo"))
                .args([
                    "apply",
                    "--yes",
                    file.to_str().unwrap(),
                    "--db",
                    &ovn.nb_remote(),
                ])
                .env_remove("OVN_NB_DB")
                .env("NO_COLOR", "1")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (p1, p2) = (spawn(first), spawn(second));
        let results: Vec<(Option<i32>, String)> = [p1, p2]
            .into_iter()
            .map(|p| {
                let out = p.wait_with_output().unwrap();
                let err: String = String::from_utf8_lossy(&out.stderr)
                    .split_whitespace()
                    .filter(|w| *w != "│")
                    .collect::<Vec<_>>()
                    .join(" ");
                (out.status.code(), err)
            })
            .collect();
        let mut applied = 0;
        for (code, err) in &results {
            match code {
                Some(0) => applied += 1,
                Some(1) => assert!(
                    err.contains("nothing was written"),
                    "round {round}: a refusal must say nothing was written: {err}"
                ),
                other => panic!("round {round}: exit {other:?}: {err}"),
            }
        }
        assert!(applied >= 1, "round {round}: neither applied: {results:?}");
        eprintln!("round {round}: {results:?}");
        let in_sync = [&a, &b]
            .iter()
            .filter(|file| topo(&ovn, &["plan", file.to_str().unwrap()]).code() == Some(0))
            .count();
        assert_eq!(
            in_sync, 1,
            "round {round}: the database matches neither or both"
        );
        let names = ovn.nbctl(&["--bare", "--columns=name", "list", "Logical_Switch"]);
        let mut names: Vec<&str> = names.split_whitespace().collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(
            n,
            names.len(),
            "round {round}: a duplicate switch: {names:?}"
        );
    }
}

/// `topo apply --yes --wait WAIT --timeout SECONDS FILE` against the sandbox.
fn apply_waiting(ovn: &OvnSandbox, wait: &str, seconds: &str, file: &str) -> TopoOutput {
    topo(
        ovn,
        &["apply", "--yes", "--wait", wait, "--timeout", seconds, file],
    )
}

/// `--wait sb` with no ovn-northd to answer: the wait ends at the deadline, and the error says
/// the change was applied (it was: the plan is empty).
#[test]
fn wait_sb_without_northd_ends_at_the_deadline_and_says_applied() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).start();
    let f = files();
    let start = std::time::Instant::now();
    let out = apply_waiting(&ovn, "sb", "2", f.base.to_str().unwrap()).expect_code(1);
    let took = start.elapsed();
    let err = super::stderr(&out);
    assert!(
        err.contains("applied, but waiting for ovn-northd (sb_cfg) timed out after 2s"),
        "{err}"
    );
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_converged(&ovn, &f.base);
    assert_eq!(ovn.nbctl(&["get", "NB_Global", ".", "nb_cfg"]).trim(), "1");
}

/// Registers a chassis in the SB as ovn-controller would (data only), with the `nb_cfg` it
/// has processed in its Chassis_Private row.
fn chassis(ovn: &OvnSandbox, name: &str, ip: &str, nb_cfg: i64) {
    ovn.sbctl(&["chassis-add", name, "geneve", ip]);
    let uuid = ovn.sbctl(&[
        "--bare",
        "--columns=_uuid",
        "find",
        "Chassis",
        &format!("name={name}"),
    ]);
    ovn.sbctl(&[
        "create",
        "Chassis_Private",
        &format!("name={name}"),
        &format!("chassis={}", uuid.trim()),
        &format!("nb_cfg={nb_cfg}"),
    ]);
}

/// `--wait hv` waits for the chassis the topology declares (their Chassis_Private.nb_cfg),
/// not for every chassis in the SB: a stale chassis that is not in the topology (which holds
/// NB_Global.hv_cfg back forever) does not make it hang; on timeout it names the declared
/// chassis that lag, and one the SB does not know.
#[test]
fn wait_hv_waits_for_the_declared_chassis_only() {
    require_ovn!();
    let ovn = OvnSandbox::start();
    // vlan-provider.yaml declares hv1 and hv2. They are ahead (as if ovn-controller had
    // processed everything); `old` is a decommissioned chassis nobody removed.
    chassis(&ovn, "hv1", "127.0.0.21", 100);
    chassis(&ovn, "hv2", "127.0.0.22", 100);
    chassis(&ovn, "old", "127.0.0.29", 0);
    let base = example("vlan-provider.yaml");
    let out = apply_waiting(&ovn, "hv", "5", base.to_str().unwrap());
    let out = out.success();
    assert!(out.stdout().contains("Apply complete:"), "{}", out.stdout());
    // NB_Global.hv_cfg is held back by `old`: waiting on it would have timed out.
    assert_eq!(ovn.nbctl(&["get", "NB_Global", ".", "hv_cfg"]).trim(), "0");

    // hv2 falls behind: the timeout names it, and only it.
    ovn.sbctl(&["set", "Chassis_Private", "hv2", "nb_cfg=0"]);
    let dir = tempfile::tempdir().unwrap();
    let v = write(
        dir.path(),
        "v.yaml",
        &edited("vlan-provider.yaml", &[("tag: 100", "tag: 101")]),
    );
    let out = apply_waiting(&ovn, "hv", "1", v.to_str().unwrap()).expect_code(1);
    let err = super::stderr(&out);
    assert!(
        err.contains(
            "applied, but waiting for the chassis (hv_cfg) timed out after 1s; lagging: hv2"
        ),
        "{err}"
    );
    assert!(!err.contains("old"), "{err}");

    // A declared chassis the SB does not know lags too, and the message says why.
    ovn.sbctl(&["set", "Chassis_Private", "hv2", "nb_cfg=100"]);
    ovn.sbctl(&["chassis-del", "hv1"]);
    let out = apply_waiting(&ovn, "hv", "1", base.to_str().unwrap()).expect_code(1);
    let err = super::stderr(&out);
    assert!(
        err.contains("lagging: hv1 (not in the Southbound database)"),
        "{err}"
    );
}

/// `_version` is per server: each member of a RAFT cluster makes its own when it applies a
/// transaction. A saved plan read from one leader must still apply after the leadership moved
/// (ovsdb-server hands it over by itself to write snapshots), and a real change made after
/// the move must still make it stale.
#[test]
fn a_saved_plan_survives_a_leader_change_but_not_a_real_change() {
    require_ovn!();
    let mut cluster = crate::support::ovn::NbCluster::start();
    let remote = cluster.remote();
    let f = files();
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--db", &remote]);
        crate::support::topo_cmd::TopoCmd::new(all).run()
    };
    run(&["apply", "--yes", f.base.to_str().unwrap()]).success();
    let saved = f.dir.path().join("plan.json");
    let s = saved.to_str().unwrap();
    run(&["plan", "-o", s, f.with_ls3.to_str().unwrap()]).expect_code(2);

    // The members disagree on _version (the fact this test is about).
    let versions: Vec<String> = (0..cluster.len())
        .map(|i| {
            let reply = ovn_tools::transact(
                &cluster.server(i).unix_remote(),
                &serde_json::json!([NB_DB, {"op": "select", "table": "Logical_Switch",
                    "where": [["name", "==", "ls1"]], "columns": ["_version"]}]),
            )
            .unwrap();
            reply[0]["rows"][0]["_version"][1]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut distinct = versions.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), cluster.len(), "{versions:?}");

    let (old, _) = cluster.kill_leader();
    cluster.restart(old);
    let out = run(&["apply", "--yes", s]);
    let out = out.success();
    assert!(out.stdout().contains("Apply complete:"), "{}", out.stdout());
    run(&["plan", f.with_ls3.to_str().unwrap()]).expect_code(0);

    // A real change after a leader change is still seen.
    run(&["plan", "-o", s, f.base.to_str().unwrap()]).expect_code(2);
    let (old, _) = cluster.kill_leader();
    cluster.restart(old);
    cluster.nbctl(&[
        "lsp-set-addresses",
        "ls2-vm1",
        "00:00:00:00:00:03 10.10.20.9",
    ]);
    let out = run(&["apply", "--yes", s]).expect_code(1);
    let err = super::stderr(&out);
    assert!(
        err.contains("the saved plan is stale: 1 row(s) moved"),
        "{err}"
    );
    assert!(err.contains("switch port ls2-vm1 was modified"), "{err}");
}

/// A damaged saved plan is refused as a plan, before any connection (S4 in small): truncated,
/// of another format version, or for another stack. Nothing is written.
#[test]
fn a_damaged_saved_plan_is_refused_before_connecting() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &f.base);
    let saved = f.dir.path().join("plan.json");
    topo(
        &ovn,
        &[
            "plan",
            "-o",
            saved.to_str().unwrap(),
            f.with_ls3.to_str().unwrap(),
        ],
    )
    .expect_code(2);
    let text = std::fs::read_to_string(&saved).unwrap();
    let truncated = write(f.dir.path(), "truncated.json", &text[..text.len() / 2]);
    let other_version = write(
        f.dir.path(),
        "v9.json",
        &text.replacen("\"format_version\": 1", "\"format_version\": 9", 1),
    );
    let nowhere = format!("unix:{}", f.dir.path().join("none.sock").display());
    for (file, want) in [
        (&truncated, "not a saved plan: EOF while parsing"),
        (&other_version, "plan format version 9 is not 1"),
    ] {
        // With a database that does not exist: the plan is refused first.
        let out = crate::support::topo_cmd::TopoCmd::new([
            "apply",
            "--yes",
            file.to_str().unwrap(),
            "--db",
            &nowhere,
        ])
        .run()
        .expect_code(1);
        let err = super::stderr(&out);
        assert!(err.contains(want), "{err}");
        assert!(!err.contains("cannot use the Northbound database"), "{err}");
    }
    let before = ovn.nb_dump();
    let out = topo(
        &ovn,
        &[
            "apply",
            "--yes",
            "--stack",
            "other",
            saved.to_str().unwrap(),
        ],
    )
    .expect_code(1);
    assert!(
        super::stderr(&out).contains("the saved plan is for stack tutorial, not other"),
        "{}",
        out.stderr()
    );
    assert_eq!(before, ovn.nb_dump());
}

/// Two stacks in one database: applying and pruning one never touches the other's rows, and
/// a name the other stack owns is a conflict that names that stack.
#[test]
fn another_stacks_rows_are_neither_touched_nor_taken() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    apply(&ovn, &example("vlan-provider.yaml"));
    let vlan_rows = super::owned_rows(&ovn, "vlan");
    assert_eq!(vlan_rows, 4);
    let dump_vlan = || {
        let mut out = String::new();
        for table in ["Logical_Switch", "Logical_Switch_Port"] {
            let d = ovn_tools::dump_json(&ovn.nb_remote(), NB_DB, &[table]);
            for row in d["data"].as_array().unwrap() {
                let text = row.to_string();
                if text.contains(r#"["topo:stack","vlan"]"#) {
                    out += &text;
                    out.push('\n');
                }
            }
        }
        out
    };
    let before = dump_vlan();
    apply(&ovn, &f.with_ls3);
    apply(&ovn, &f.base); // prunes ls3
    assert_eq!(before, dump_vlan());
    assert_eq!(super::owned_rows(&ovn, "vlan"), vlan_rows);

    // A tutorial topology that wants the vlan stack's switch.
    let greedy = write(
        f.dir.path(),
        "greedy.yaml",
        &edited(
            "gateway-router.yaml",
            &[(LS3, "  vlan100:\n    subnet: 203.0.113.0/24\n  lsjoin:\n")],
        ),
    );
    let out = topo(&ovn, &["plan", greedy.to_str().unwrap()]).expect_code(1);
    assert!(
        out.stdout().contains("! switch vlan100 exists (")
            && out.stdout().contains("but is owned by stack vlan"),
        "{}",
        out.stdout()
    );
    topo(&ovn, &["apply", "--yes", greedy.to_str().unwrap()]).expect_code(1);
    assert_eq!(before, dump_vlan());
}

#[test]
fn destroy_removes_the_stack_and_only_the_stack() {
    require_ovn!();
    let ovn = nb_only();
    let f = files();
    ovn.nbctl(&["ls-add", "side"]);
    ovn.nbctl(&["lsp-add", "side", "side-p1"]);
    apply(&ovn, &f.base);
    let before = unowned_rows(&ovn);
    let owned = super::owned_rows(&ovn, "tutorial");
    assert!(owned > 10, "{owned}");
    let file = f.base.to_str().unwrap();

    // Planned like any change, and saved: every owned row to delete, nothing else.
    let plans = f.dir.path().join("destroy.json");
    let plans = plans.to_str().unwrap();
    let out = topo(&ovn, &["plan", "--destroy", file, "-o", plans]).expect_code(2);
    assert!(
        out.stdout().contains(&format!(
            "Plan: 0 to create, 0 to update, {owned} to delete."
        )),
        "{}",
        out.stdout()
    );
    // Without --yes and without a terminal: shown, refused, nothing written.
    let dump = ovn.nb_dump();
    let out = topo(&ovn, &["destroy", file]).expect_code(1);
    assert!(out.stdout().contains("- switch ls1"), "{}", out.stdout());
    assert_eq!(dump, ovn.nb_dump());

    // The saved plan applies with apply's own rules: the stack is gone, the rest untouched.
    topo(&ovn, &["apply", "--yes", plans]).expect_code(0);
    assert_eq!(super::owned_rows(&ovn, "tutorial"), 0);
    assert_eq!(
        before,
        unowned_rows(&ovn),
        "destroy touched rows it does not own"
    );
    topo(&ovn, &["plan", "--destroy", file]).expect_code(0);
    // And back, then destroyed directly.
    apply(&ovn, &f.base);
    let out = topo(&ovn, &["destroy", "--yes", file]).expect_code(0);
    assert!(
        out.stdout().contains(&format!(
            "Destroy complete: 0 created, 0 updated, {owned} deleted"
        )),
        "{}",
        out.stdout()
    );
    assert_eq!(super::owned_rows(&ovn, "tutorial"), 0);
    assert_eq!(before, unowned_rows(&ovn));
    // A saved plan is not a topology to destroy.
    let out = topo(&ovn, &["apply", "--destroy", "--yes", plans]).expect_code(1);
    assert!(super::stderr(&out).contains("topo::apply::destroy-plan"));
}

//! The CI examples of `examples/ci/` run for real: their shell steps (`topo-ci.sh plan |
//! apply | drift`, which the GitHub Actions and GitLab CI files call) against a private OVN
//! Northbound — a pull request's plan is saved and applied exactly, a stale one is refused
//! with nothing written, and drift fails the job.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::require_ovn;
use crate::support::folded;
use crate::support::ovn::OvnSandbox;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `examples/ci/topo-ci.sh STEP` as a CI job runs it: the network in `work/network`, the
/// outputs in `work/out`, the database in the environment.
fn step(ovn: &OvnSandbox, work: &Path, name: &str) -> (Option<i32>, String, String) {
    let out: Output = Command::new("bash")
        .arg(root().join("examples/ci/topo-ci.sh"))
        .arg(name)
        .current_dir(work)
        .env("TOPO", env!("CARGO_BIN_EXE_topo"))
        .env("TOPO_NETWORK", "network")
        .env("TOPO_OUT", "out")
        .env("OVN_NB_DB", ovn.nb_remote())
        // No Southbound in this sandbox: drift says the chassis were not checked.
        .env(
            "OVN_SB_DB",
            format!("unix:{}", work.join("no-sb.sock").display()),
        )
        .env("NO_COLOR", "1")
        .output()
        .expect("bash");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_ci_steps_plan_apply_exactly_that_plan_and_fail_on_drift() {
    require_ovn!();
    let ovn = OvnSandbox::builder().sb(false).northd(false).start();
    let work = tempfile::tempdir().unwrap();
    let network = work.path().join("network");
    std::fs::create_dir(&network).unwrap();
    std::fs::copy(
        root().join("examples/topologies/gateway-router.yaml"),
        network.join("net.yaml"),
    )
    .unwrap();

    // A pull request: the plan is the job's output, changes or not.
    let (code, stdout, stderr) = step(&ovn, work.path(), "plan");
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("changes planned"), "{stdout}");
    let md = std::fs::read_to_string(work.path().join("out/plan.md")).unwrap();
    assert!(md.starts_with("### topo plan for stack `tutorial`"), "{md}");
    assert!(work.path().join("out/plan.json").is_file());

    // A stale plan is refused and writes nothing: someone changed the NB after the review.
    ovn.nbctl(&["ls-add", "ls1"]);
    let dump = ovn.nb_dump();
    let (code, stdout, stderr) = step(&ovn, work.path(), "apply");
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(folded(&stderr).contains("nothing was written"), "{stderr}");
    assert_eq!(dump, ovn.nb_dump());
    ovn.nbctl(&["ls-del", "ls1"]);

    // Planned again and merged: exactly that plan is applied; the next plan is empty.
    let (code, ..) = step(&ovn, work.path(), "plan");
    assert_eq!(code, Some(0));
    let (code, stdout, stderr) = step(&ovn, work.path(), "apply");
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete"), "{stdout}");
    let (code, stdout, _) = step(&ovn, work.path(), "plan");
    assert_eq!(code, Some(0));
    assert!(stdout.contains("no changes"), "{stdout}");

    // The scheduled drift check: in sync, then a change by hand fails the job.
    let (code, stdout, stderr) = step(&ovn, work.path(), "drift");
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("in sync"), "{stdout}");
    ovn.nbctl(&["lr-nat-del", "lr2"]);
    let (code, stdout, stderr) = step(&ovn, work.path(), "drift");
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("drift found"), "{stderr}");
    assert!(stdout.contains("nat"), "{stdout}");
}

#[test]
fn the_ci_files_parse_and_call_the_tested_steps() {
    for (file, steps) in [
        ("examples/ci/github-actions.yml", ["plan", "apply", "drift"]),
        ("examples/ci/gitlab-ci.yml", ["plan", "apply", "drift"]),
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let parsed: Result<serde_json::Value, _> = serde_saphyr::from_str(&text);
        assert!(parsed.is_ok(), "{file}: {parsed:?}");
        for s in steps {
            assert!(
                text.contains(&format!("examples/ci/topo-ci.sh {s}")),
                "{file} does not call the {s} step"
            );
        }
    }
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let parsed: serde_json::Value = serde_saphyr::from_str(&hooks).unwrap();
    assert_eq!(parsed[0]["id"], "topo-validate");
    assert_eq!(parsed[0]["entry"], "topo validate");
    let out = Command::new("bash")
        .args(["-n"])
        .arg(root().join("examples/ci/topo-ci.sh"))
        .output()
        .unwrap();
    assert!(out.status.success());
}

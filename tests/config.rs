//! `topo.toml` targets as a user meets them: the default target, `--target`, and the order
//! flags > environment > topo.toml > defaults, against a real database.

use crate::require_ovn;
use crate::support::ovn::OvnSandbox;
use crate::support::topo_cmd::TopoCmd;

#[test]
fn targets_choose_the_databases_and_flags_and_environment_win() {
    require_ovn!();
    let ovn = OvnSandbox::builder().northd(false).start();
    ovn.nbctl(&["init"]);
    let dir = tempfile::tempdir().unwrap();
    let bogus = format!("unix:{}/nowhere.sock", dir.path().display());
    let toml = dir.path().join("topo.toml");
    std::fs::write(
        &toml,
        format!(
            "[targets.real]\ndefault = true\nnb = \"{}\"\nsb = \"{}\"\n\n\
             [targets.bogus]\nnb = \"{bogus}\"\nsb = \"{bogus}\"\n",
            ovn.nb_remote(),
            ovn.sb_remote()
        ),
    )
    .unwrap();
    let config = toml.display().to_string();
    let status = |extra: &[&str]| {
        let mut args = vec!["status", "--config", config.as_str()];
        args.extend(extra);
        TopoCmd::new(args)
    };

    // The default target.
    let out = status(&[]).run().success();
    assert!(out.stdout().contains(&ovn.nb_remote()), "{}", out.stdout());
    // --target picks another: unreachable, and the message names its remote.
    let out = status(&["--target", "bogus"]).run().expect_code(1);
    assert!(
        out.stderr_flat().contains("nowhere.sock"),
        "{}",
        out.stderr()
    );
    // The environment beats the target...
    status(&["--target", "bogus"])
        .env("OVN_NB_DB", ovn.nb_remote())
        .env("OVN_SB_DB", ovn.sb_remote())
        .run()
        .success();
    // ...and a flag beats the environment.
    let out = status(&["--db", &bogus])
        .env("OVN_NB_DB", ovn.nb_remote())
        .run()
        .expect_code(1);
    assert!(
        out.stderr_flat().contains("nowhere.sock"),
        "{}",
        out.stderr()
    );
    // An unknown target is an error naming the known ones, before anything connects.
    let out = status(&["--target", "prod"]).run().expect_code(1);
    assert!(
        out.stderr_flat()
            .contains("no target `prod` (targets: bogus, real)"),
        "{}",
        out.stderr()
    );
}

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

/// `topo config show --format json` run in `dir`, parsed.
fn show(dir: &std::path::Path, extra: &[&str]) -> TopoCmd {
    let mut args = vec!["config", "show", "--format", "json"];
    args.extend(extra);
    TopoCmd::new(args).current_dir(dir)
}

fn json(cmd: TopoCmd) -> serde_json::Value {
    let out = cmd.run().success();
    serde_json::from_str(&out.stdout()).expect("config show prints JSON")
}

/// A network repository with its topo.toml at the top and a nested directory, canonical (the
/// binary sees its working directory without symlinks).
fn repo() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let nested = root.join("sites/east/racks");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(
        root.join("topo.toml"),
        "default-target = \"prod\"\n\
         [targets.prod]\n\
         nb = \"ssl:10.0.0.1:6641,ssl:10.0.0.2:6641,ssl:10.0.0.3:6641\"\n\
         sb = \"unix:run/sb.sock\"\n\
         private-key = \"pki/key.pem\"\n\
         timeout = 30\n\
         [targets.prod.chassis.gw1]\n\
         remote = \"tcp:10.0.0.11:6640\"\n\
         [targets.staging]\n\
         nb = \"tcp:10.1.0.1:6641\"\n",
    )
    .unwrap();
    (tmp, root, nested)
}

#[test]
fn topo_toml_is_found_from_a_sub_directory() {
    let (_tmp, root, nested) = repo();
    let file = root.join("topo.toml").display().to_string();
    let v = json(show(&nested, &[]));
    assert_eq!(v["file"], file.as_str(), "{v:#}");
    assert_eq!(v["target"], "prod");
    assert_eq!(
        v["nb"]["value"],
        "ssl:10.0.0.1:6641,ssl:10.0.0.2:6641,ssl:10.0.0.3:6641"
    );
    assert_eq!(v["nb"]["source"], "target");
    assert_eq!(v["nb"]["file"], file.as_str());
    assert_eq!(v["nb"]["target"], "prod");
    // Relative paths are relative to the file, not to where topo runs.
    let sb = format!("unix:{}", root.join("run/sb.sock").display());
    assert_eq!(v["sb"]["value"], sb.as_str());
    let key = root.join("pki/key.pem").display().to_string();
    assert_eq!(v["private_key"]["value"], key.as_str());
    assert_eq!(v["certificate"]["source"], "unset");
    assert_eq!(v["timeout"]["value"], 30);
    assert_eq!(v["chassis"]["gw1"]["value"], "tcp:10.0.0.11:6640");
    assert_eq!(v["chassis"]["gw1"]["source"], "target");

    // The text form says the same.
    let out = TopoCmd::new(["config", "show"])
        .current_dir(&nested)
        .run()
        .success();
    assert!(out.stdout().contains(&file), "{}", out.stdout());
    assert!(
        out.stdout().contains("ssl:10.0.0.3:6641"),
        "{}",
        out.stdout()
    );
}

#[test]
fn config_flag_wins_over_the_walk_up() {
    let (_tmp, root, nested) = repo();
    let other = root.join("sites/other.toml");
    std::fs::write(&other, "[targets.lab]\nnb = \"tcp:192.0.2.1:6641\"\n").unwrap();
    let path = other.display().to_string();
    let v = json(show(&nested, &["--config", &path]));
    assert_eq!(v["file"], path.as_str(), "{v:#}");
    assert_eq!(v["target"], "lab");
    assert_eq!(v["nb"]["value"], "tcp:192.0.2.1:6641");
    // No chassis or timeout there: the defaults, not the walked-up file's.
    assert_eq!(v["timeout"]["value"], 10);
    assert_eq!(v["timeout"]["source"], "default");
    assert_eq!(v["chassis"], serde_json::json!({}));
    // --target picks another target of the found file.
    let v = json(show(&nested, &["--target", "staging"]));
    assert_eq!(v["nb"]["value"], "tcp:10.1.0.1:6641");
    assert_eq!(v["nb"]["target"], "staging");
}

#[test]
fn environment_wins_over_the_file_and_flags_over_the_environment() {
    let (_tmp, _root, nested) = repo();
    let v = json(show(&nested, &[]).env("OVN_NB_DB", "tcp:198.51.100.1:6641"));
    assert_eq!(v["nb"]["value"], "tcp:198.51.100.1:6641", "{v:#}");
    assert_eq!(v["nb"]["source"], "environment");
    assert_eq!(v["nb"]["variable"], "OVN_NB_DB");
    // The Southbound still comes from the file.
    assert_eq!(v["sb"]["source"], "target");

    let v = json(
        show(
            &nested,
            &[
                "--db",
                "tcp:203.0.113.1:6641",
                "--timeout",
                "3",
                "-p",
                "/k.pem",
            ],
        )
        .env("OVN_NB_DB", "tcp:198.51.100.1:6641")
        .env("OVN_SB_DB", "tcp:198.51.100.1:6642"),
    );
    assert_eq!(v["nb"]["value"], "tcp:203.0.113.1:6641", "{v:#}");
    assert_eq!(v["nb"]["source"], "flag");
    assert_eq!(v["nb"]["flag"], "--db");
    assert_eq!(v["sb"]["value"], "tcp:198.51.100.1:6642");
    assert_eq!(v["sb"]["source"], "environment");
    assert_eq!(v["timeout"]["value"], 3);
    assert_eq!(v["timeout"]["source"], "flag");
    assert_eq!(v["private_key"]["value"], "/k.pem");
    assert_eq!(v["private_key"]["flag"], "--private-key");
}

#[test]
fn without_a_file_the_defaults_show() {
    let tmp = tempfile::tempdir().unwrap();
    let v = json(show(tmp.path(), &[]));
    assert_eq!(v["file"], serde_json::Value::Null, "{v:#}");
    assert_eq!(v["nb"]["value"], "unix:/var/run/ovn/ovnnb_db.sock");
    assert_eq!(v["nb"]["source"], "default");
    assert_eq!(v["sb"]["source"], "default");
    // A broken file is an error, with the file named.
    std::fs::write(tmp.path().join("topo.toml"), "[targets.a]\nnbb = 1\n").unwrap();
    let out = show(tmp.path(), &[]).run().expect_code(1);
    assert!(
        out.stderr_flat().contains("topo::config::invalid"),
        "{}",
        out.stderr()
    );
}

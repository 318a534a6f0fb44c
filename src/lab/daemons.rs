//! Starting the OVN and OVS daemons of a lab, each as a recorded child process, and
//! deciding they are ready by asking them (connecting to their database, `status` on their
//! control socket, their chassis appearing in the Southbound database), never by sleeping.
//!
//! Central: NB and SB `ovsdb-server` and `ovn-northd`, in the lab's central namespace,
//! listening on unix sockets in the lab directory (paths reach across namespaces).
//! Per chassis, inside its namespace, with `OVS_RUNDIR`/`OVN_RUNDIR` etc. pointing at the
//! chassis's own directory: `ovsdb-server` (Open_vSwitch), `ovs-vswitchd` (userspace
//! datapath) and `ovn-controller`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::command::run;
use super::error::LabError;
use super::process::{self, ProcessRecord, Spawn};
use super::state::LabState;
use crate::ovsdb::{Client, ConnectOptions};
use crate::poll::poll_until;

const NB_SCHEMA: &str = "/usr/share/ovn/ovn-nb.ovsschema";
const SB_SCHEMA: &str = "/usr/share/ovn/ovn-sb.ovsschema";
const VSWITCH_SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

/// How long one daemon may take to become ready.
pub(crate) const READY: Duration = Duration::from_secs(20);

/// The run/log/db environment of a chassis's daemons.
fn chassis_env(dir: &Path) -> Vec<(&'static str, &Path)> {
    [
        "OVS_RUNDIR",
        "OVS_LOGDIR",
        "OVS_DBDIR",
        "OVS_SYSCONFDIR",
        "OVN_RUNDIR",
        "OVN_LOGDIR",
        "OVN_DBDIR",
        "OVN_SYSCONFDIR",
    ]
    .into_iter()
    .map(|k| (k, dir))
    .collect()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Creates an empty database file from `schema` (replacing a stale one).
fn create_db(db: &Path, schema: &str) -> Result<(), LabError> {
    if db.exists() {
        std::fs::remove_file(db).map_err(|e| LabError::io(db, e))?;
    }
    run(&["ovsdb-tool", "create", &s(db), schema])?;
    Ok(())
}

/// Starts one daemon in `dir` as `role` (its pidfile, log and output named after `file`).
fn start(
    state: &mut LabState,
    role: &str,
    netns: &str,
    dir: &Path,
    file: &str,
    mut argv: Vec<String>,
    env: &[(&str, &Path)],
) -> Result<ProcessRecord, LabError> {
    argv.push(format!("--pidfile={}", s(&dir.join(format!("{file}.pid")))));
    argv.push(format!(
        "--log-file={}",
        s(&dir.join(format!("{file}.log")))
    ));
    argv.push("-vconsole:off".into());
    let rec = process::spawn(&Spawn {
        role,
        netns: Some(netns),
        argv: &argv,
        env,
        output: &dir.join(format!("{file}.out")),
    })?;
    state.record_process(rec.clone())?;
    Ok(rec)
}

/// A daemon that died while we waited for it: its output and log say why.
fn died(rec: &ProcessRecord, log: &Path) -> LabError {
    LabError::Setup(format!(
        "{} (pid {}) exited during startup:\n{}\n{}",
        rec.role,
        rec.pid,
        process::tail(&rec.output, 10),
        process::tail(log, 10)
    ))
}

/// Connects to an ovsdb-server that is starting, failing early if it dies.
pub(crate) async fn connect_db(
    remote: &str,
    database: &str,
    rec: Option<&ProcessRecord>,
    log: &Path,
) -> Result<Client, LabError> {
    // Each attempt waits up to a second for the server itself.
    let last = poll_until(READY, Duration::ZERO, || async {
        let options = ConnectOptions {
            database: Some(database.to_owned()),
            deadline: Duration::from_secs(1),
            wait_for_server: true,
            request_timeout: Some(Duration::from_secs(30)),
            ..ConnectOptions::default()
        };
        match (Client::connect(remote, options).await, rec) {
            (Ok(c), _) => Ok(Ok(c)),
            (Err(_), Some(rec)) if !rec.alive() => Err(died(rec, log)),
            (Err(e), _) => Ok(Err(e)),
        }
    })
    .await?;
    last.map_err(|e| LabError::ovsdb("connect", remote, e))
}

/// NB and SB databases and northd in the central namespace.
pub(crate) async fn start_central(state: &mut LabState, netns: &str) -> Result<(), LabError> {
    let dir = state.dir.clone();
    let mut servers = Vec::new();
    for (role, schema, remote) in [
        ("nb", NB_SCHEMA, state.nb.clone()),
        ("sb", SB_SCHEMA, state.sb.clone()),
    ] {
        let db = dir.join(format!("{role}.db"));
        create_db(&db, schema)?;
        let argv = vec![
            "ovsdb-server".to_owned(),
            s(&db),
            format!("--remote=p{remote}"),
            format!("--unixctl={}", s(&dir.join(format!("{role}.ctl")))),
        ];
        let rec = start(state, role, netns, &dir, role, argv, &[])?;
        servers.push((rec, remote, role));
    }
    for (rec, remote, role) in &servers {
        let database = if *role == "nb" {
            "OVN_Northbound"
        } else {
            "OVN_Southbound"
        };
        let log = dir.join(format!("{role}.log"));
        connect_db(remote, database, Some(rec), &log)
            .await?
            .close()
            .await;
    }
    let ctl = dir.join("northd.ctl");
    let argv = vec![
        "ovn-northd".to_owned(),
        format!("--ovnnb-db={}", state.nb),
        format!("--ovnsb-db={}", state.sb),
        format!("--unixctl={}", s(&ctl)),
    ];
    let rec = start(state, "northd", netns, &dir, "northd", argv, &[])?;
    // Ready when it says it is the active northd (it holds the SB lock).
    let ready = poll_until(READY, Duration::from_millis(20), || async {
        let out = super::command::output(&["ovn-appctl", "-t", &s(&ctl), "status"])?;
        if String::from_utf8_lossy(&out.stdout).contains("active") {
            return Ok(Ok(()));
        }
        if !rec.alive() {
            return Err(died(&rec, &dir.join("northd.log")));
        }
        Ok(Err(()))
    })
    .await?;
    ready.map_err(|()| LabError::Timeout {
        what: "ovn-northd to become active".into(),
        seconds: READY.as_secs_f64(),
    })
}

/// The private directory of a chassis (`ch-NAME`) or of a physical network's switch
/// (`net-NAME`) and its Open_vSwitch remote.
pub(crate) fn ovs_paths(lab_dir: &Path, subdir: &str) -> (PathBuf, String) {
    let dir = lab_dir.join(subdir);
    let remote = format!("unix:{}", s(&dir.join("db.sock")));
    (dir, remote)
}

/// `ovs_paths` of chassis `name`.
pub(crate) fn chassis_paths(lab_dir: &Path, name: &str) -> (PathBuf, String) {
    ovs_paths(lab_dir, &format!("ch-{name}"))
}

/// An Open_vSwitch ovsdb-server in `netns` with its files in `subdir`, ready to be
/// configured; its processes are recorded as `<owner>/ovsdb-server`.
pub(crate) async fn start_ovsdb(
    state: &mut LabState,
    owner: &str,
    subdir: &str,
    netns: &str,
) -> Result<String, LabError> {
    start_ovsdb_with(state, owner, subdir, netns, false).await
}

/// The `hardware_vtep` schema of Debian's `openvswitch-vtep`.
pub(crate) const VTEP_SCHEMA: &str = "/usr/share/openvswitch/vtep.ovsschema";

/// [`start_ovsdb`], also serving a `hardware_vtep` database (`vtep.db`) when `vtep`.
pub(crate) async fn start_ovsdb_with(
    state: &mut LabState,
    owner: &str,
    subdir: &str,
    netns: &str,
    vtep: bool,
) -> Result<String, LabError> {
    let (dir, _) = ovs_paths(&state.dir, subdir);
    std::fs::create_dir_all(&dir).map_err(|e| LabError::io(&dir, e))?;
    create_db(&dir.join("conf.db"), VSWITCH_SCHEMA)?;
    if vtep {
        create_db(&dir.join("vtep.db"), VTEP_SCHEMA)?;
    }
    serve_ovsdb(state, owner, subdir, netns, vtep).await
}

/// An Open_vSwitch ovsdb-server on the database files `subdir` already has (a chassis
/// started again after `topo lab chassis stop`: same `system-id`, encap, bridges and ports).
pub(crate) async fn serve_ovsdb(
    state: &mut LabState,
    owner: &str,
    subdir: &str,
    netns: &str,
    vtep: bool,
) -> Result<String, LabError> {
    let (dir, remote) = ovs_paths(&state.dir, subdir);
    let mut argv = vec!["ovsdb-server".to_owned(), s(&dir.join("conf.db"))];
    if vtep {
        argv.push(s(&dir.join("vtep.db")));
    }
    argv.extend([
        format!("--remote=p{remote}"),
        format!("--unixctl={}", s(&dir.join("ovsdb-server.ctl"))),
    ]);
    let env = chassis_env(&dir);
    let rec = start(
        state,
        &format!("{owner}/ovsdb-server"),
        netns,
        &dir,
        "ovsdb-server",
        argv,
        &env,
    )?;
    connect_db(
        &remote,
        "Open_vSwitch",
        Some(&rec),
        &dir.join("ovsdb-server.log"),
    )
    .await?
    .close()
    .await;
    Ok(remote)
}

/// `ovs-vswitchd` on the database of `subdir` (configure the database first).
pub(crate) fn start_vswitchd(
    state: &mut LabState,
    owner: &str,
    subdir: &str,
    netns: &str,
) -> Result<(), LabError> {
    let (dir, remote) = ovs_paths(&state.dir, subdir);
    let argv = vec![
        "ovs-vswitchd".to_owned(),
        remote,
        format!("--unixctl={}", s(&dir.join("ovs-vswitchd.ctl"))),
    ];
    let env = chassis_env(&dir);
    start(
        state,
        &format!("{owner}/ovs-vswitchd"),
        netns,
        &dir,
        "ovs-vswitchd",
        argv,
        &env,
    )?;
    Ok(())
}

/// `ovn-controller` of a chassis. (23.03 has no `--unixctl`: its control socket is
/// `$OVN_RUNDIR/ovn-controller.PID.ctl`.)
/// Starts a daemon `argv` of VTEP `owner` in `netns`, with the VTEP's directory as its
/// OVS/OVN run, log and db directory (so `ovs-vtep`'s own `ovs-vsctl`, `vtep-ctl` and
/// `ovs-ofctl` calls reach this VTEP's servers).
pub(crate) fn start_in(
    state: &mut LabState,
    owner: &str,
    subdir: &str,
    netns: &str,
    file: &str,
    argv: Vec<String>,
) -> Result<ProcessRecord, LabError> {
    let (dir, _) = ovs_paths(&state.dir, subdir);
    let env = chassis_env(&dir);
    start(
        state,
        &format!("{owner}/{file}"),
        netns,
        &dir,
        file,
        argv,
        &env,
    )
}

pub(crate) fn start_controller(
    state: &mut LabState,
    name: &str,
    netns: &str,
) -> Result<(), LabError> {
    let (dir, remote) = chassis_paths(&state.dir, name);
    let argv = vec!["ovn-controller".to_owned(), remote];
    let env = chassis_env(&dir);
    start(
        state,
        &format!("{name}/ovn-controller"),
        netns,
        &dir,
        "ovn-controller",
        argv,
        &env,
    )?;
    Ok(())
}

/// Waits until every chassis in `names` has registered in the Southbound database with an
/// encapsulation.
pub(crate) async fn wait_chassis_registered(
    state: &LabState,
    names: &[String],
) -> Result<(), LabError> {
    let sb = connect_db(
        &state.sb,
        "OVN_Southbound",
        state.process("sb"),
        &state.dir.join("sb.log"),
    )
    .await?;
    let last = poll_until(READY, Duration::from_millis(50), || async {
        let rows = crate::live::southbound::all(&sb)
            .await
            .map_err(|e| LabError::ovsdb("select Chassis", &state.sb, e))?;
        let registered: Vec<&str> = rows
            .iter()
            .filter(|c| !c.encaps.is_empty())
            .map(|c| c.name.as_str())
            .collect();
        let missing: Vec<String> = names
            .iter()
            .filter(|n| !registered.contains(&n.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(Ok(()));
        }
        for n in &missing {
            if let Some(rec) = state.process(&format!("{n}/ovn-controller"))
                && !rec.alive()
            {
                let (dir, _) = chassis_paths(&state.dir, n);
                return Err(died(rec, &dir.join("ovn-controller.log")));
            }
        }
        Ok(Err(missing))
    })
    .await?;
    sb.close().await;
    last.map_err(|missing| LabError::Timeout {
        what: format!("chassis {missing:?} to register in the Southbound database"),
        seconds: READY.as_secs_f64(),
    })
}

/// Waits until `ovn-controller` of chassis `name` says it is connected to the Southbound
/// database (`connection-status` on its control socket, `ovn-controller.PID.ctl`).
pub(crate) async fn wait_controller_connected(
    state: &LabState,
    name: &str,
) -> Result<(), LabError> {
    let rec = state
        .process(&format!("{name}/ovn-controller"))
        .ok_or_else(|| LabError::Setup(format!("chassis {name} has no ovn-controller")))?;
    let (dir, _) = chassis_paths(&state.dir, name);
    let ctl = dir.join(format!("ovn-controller.{}.ctl", rec.pid));
    let ready = poll_until(READY, Duration::from_millis(50), || async {
        let out = super::command::output(&["ovn-appctl", "-t", &s(&ctl), "connection-status"])?;
        if String::from_utf8_lossy(&out.stdout).trim() == "connected" {
            return Ok(Ok(()));
        }
        if !rec.alive() {
            return Err(died(rec, &dir.join("ovn-controller.log")));
        }
        Ok(Err(()))
    })
    .await?;
    ready.map_err(|()| LabError::Timeout {
        what: format!("ovn-controller of {name} to connect to the Southbound database"),
        seconds: READY.as_secs_f64(),
    })
}

//! Real OVN daemons for tests, each set in its own private temp dir, modelled on OVN's
//! `ovn_init_db`/`ovn_start`:
//!
//! - [`OvnSandbox`]: standalone NB and SB `ovsdb-server`s (databases made with `ovsdb-tool
//!   create` from the installed schemas) and `ovn-northd`, on unix sockets, optionally also on
//!   loopback TCP and TLS with ports the servers choose themselves;
//! - [`NbCluster`]: a RAFT NB cluster (`ovsdb-tool create-cluster`/`join-cluster`, RAFT over unix
//!   sockets with absolute paths), with helpers to find, kill and restart the leader.
//!
//! Every path is absolute (a relative `unix:` path would resolve under /var/run/openvswitch).
//! Readiness is waited for by connecting with a deadline, never by a fixed sleep. Dropping a
//! sandbox or a cluster stops the daemons it started by PID; during a panic it keeps the temp dir
//! and prints its path and the logs' tails.

use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::ovn_tools;
use super::pki::{Pki, TlsFiles};
use super::process::Daemon;
use super::{READY_TIMEOUT, bin, tail, wait_for};

pub const NB_SCHEMA: &str = "/usr/share/ovn/ovn-nb.ovsschema";
pub const SB_SCHEMA: &str = "/usr/share/ovn/ovn-sb.ovsschema";
pub const NB_DB: &str = "OVN_Northbound";
pub const SB_DB: &str = "OVN_Southbound";

// ---------------------------------------------------------------------------------------------
// The temp dir

/// A private temp dir for one sandbox. Declared last in its owner, so it is removed only after
/// the owner's daemons have stopped. Kept (and reported) when dropped during a panic.
#[derive(Debug)]
pub struct SandboxDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    keep_on_panic: bool,
}

impl SandboxDir {
    pub fn new(prefix: &str, keep_on_panic: bool) -> SandboxDir {
        // Unix socket paths are limited to 107 bytes: if TMPDIR is deep, use /tmp instead.
        let mut base = std::env::temp_dir();
        if base.as_os_str().len() > 60 {
            base = PathBuf::from("/tmp");
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("topo-{prefix}-"))
            .tempdir_in(&base)
            .unwrap_or_else(|e| panic!("cannot create a temp dir in {}: {e}", base.display()));
        let path = dir.path().canonicalize().expect("canonical temp dir");
        SandboxDir {
            dir: Some(dir),
            path,
            keep_on_panic,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SandboxDir {
    fn drop(&mut self) {
        if !(std::thread::panicking() && self.keep_on_panic) {
            return; // the TempDir field removes the dir
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.keep();
            let mut report = format!(
                "\n=== test failed: OVN sandbox kept at {} ===\n",
                path.display()
            );
            let mut logs: Vec<PathBuf> = std::fs::read_dir(&path)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
            logs.sort();
            for log in logs {
                report += &format!(
                    "--- {} (last 15 lines) ---\n{}\n",
                    log.display(),
                    tail(&log, 15)
                );
            }
            eprintln!("{report}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One ovsdb-server

/// One `ovsdb-server` process serving one database file, with its own socket, control socket,
/// pidfile and log in the sandbox dir. Can be killed and restarted on the same files.
#[derive(Debug)]
pub struct DbServer {
    name: String,
    database: String,
    db: PathBuf,
    sock: PathBuf,
    ctl: PathBuf,
    log: PathBuf,
    pidfile: PathBuf,
    output: PathBuf,
    tls: Option<TlsFiles>,
    want_tcp: bool,
    want_ssl: bool,
    tcp_port: Option<u16>,
    ssl_port: Option<u16>,
    daemon: Option<Daemon>,
}

impl DbServer {
    /// Describes (does not start) a server named `name` for the database file `dir/<name>.db`.
    fn new(dir: &Path, name: &str, database: &str) -> DbServer {
        let p = |ext: &str| dir.join(format!("{name}.{ext}"));
        DbServer {
            name: name.to_owned(),
            database: database.to_owned(),
            db: p("db"),
            sock: p("sock"),
            ctl: p("ctl"),
            log: p("log"),
            pidfile: p("pid"),
            output: p("stderr.log"),
            tls: None,
            want_tcp: false,
            want_ssl: false,
            tcp_port: None,
            ssl_port: None,
            daemon: None,
        }
    }

    /// Starts the server and waits until its unix socket accepts connections; then adds the
    /// TCP/TLS remotes (port 0: the server picks a free port, read back from its log).
    pub fn start(&mut self) {
        assert!(self.daemon.is_none(), "{} is already running", self.name);
        let mut cmd = Command::new(bin("ovsdb-server"));
        cmd.arg("--no-chdir")
            .arg(format!("--log-file={}", self.log.display()))
            .arg(format!("--pidfile={}", self.pidfile.display()))
            .arg(format!("--unixctl={}", self.ctl.display()))
            .arg(format!("--remote=punix:{}", self.sock.display()))
            // Console logging off: everything goes to --log-file.
            .arg("-vconsole:off");
        if let Some(tls) = &self.tls {
            cmd.args(tls.args());
        }
        cmd.arg(&self.db);
        let mut daemon = Daemon::spawn(&format!("ovsdb-server {}", self.name), cmd, &self.output);
        let (sock, ctl) = (self.sock.clone(), self.ctl.clone());
        wait_for(
            &format!("{} to accept on {}", self.name, sock.display()),
            READY_TIMEOUT,
            || {
                daemon.assert_running();
                // The control socket appears after the database socket: wait for both.
                UnixStream::connect(&sock).ok()?;
                UnixStream::connect(&ctl).ok()
            },
        );
        self.daemon = Some(daemon);
        self.tcp_port = None;
        self.ssl_port = None;
        if self.want_tcp {
            self.tcp_port = Some(self.add_listener("ptcp:0:127.0.0.1"));
        }
        if self.want_ssl {
            self.ssl_port = Some(self.add_listener("pssl:0:127.0.0.1"));
        }
    }

    /// Adds a passive remote on port 0 at run time and returns the port the server bound. One
    /// listener at a time, so the new "listening on port N" log line is unambiguously this one.
    fn add_listener(&mut self, remote: &str) -> u16 {
        let before = self.listening_ports().len();
        self.appctl(&["ovsdb-server/add-remote", remote]);
        let port = wait_for(
            &format!("{} to listen on {remote}", self.name),
            READY_TIMEOUT,
            || {
                if let Some(d) = self.daemon.as_mut() {
                    d.assert_running();
                }
                self.listening_ports().get(before).copied()
            },
        );
        wait_for(
            &format!("{} to accept on 127.0.0.1:{port}", self.name),
            READY_TIMEOUT,
            || TcpStream::connect(("127.0.0.1", port)).ok(),
        );
        port
    }

    /// The ports of the "listening on port N" lines of the log, in order.
    fn listening_ports(&self) -> Vec<u16> {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                l.split_once("listening on port ")
                    .and_then(|(_, p)| p.trim().parse().ok())
            })
            .collect()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// `unix:/abs/path.sock`
    pub fn unix_remote(&self) -> String {
        format!("unix:{}", self.sock.display())
    }

    /// `tcp:127.0.0.1:PORT` (panics if the server was not started with TCP).
    pub fn tcp_remote(&self) -> String {
        let port = self
            .tcp_port
            .unwrap_or_else(|| panic!("{} has no TCP remote; enable it in the builder", self.name));
        format!("tcp:127.0.0.1:{port}")
    }

    /// `ssl:127.0.0.1:PORT` (panics if the server was not started with TLS).
    pub fn ssl_remote(&self) -> String {
        let port = self
            .ssl_port
            .unwrap_or_else(|| panic!("{} has no TLS remote; enable it in the builder", self.name));
        format!("ssl:127.0.0.1:{port}")
    }

    pub fn tcp_port(&self) -> Option<u16> {
        self.tcp_port
    }

    pub fn ssl_port(&self) -> Option<u16> {
        self.ssl_port
    }

    pub fn ctl_path(&self) -> &Path {
        &self.ctl
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn db_path(&self) -> &Path {
        &self.db
    }

    /// The PID of the running server, if it is running.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(Daemon::pid)
    }

    pub fn is_running(&mut self) -> bool {
        self.daemon.as_mut().is_some_and(Daemon::is_running)
    }

    /// `ovs-appctl -t <ctl> ARGS`; panics on failure.
    pub fn appctl(&self, args: &[&str]) -> String {
        ovn_tools::appctl(&self.ctl, args)
            .unwrap_or_else(|e| panic!("ovs-appctl -t {} {args:?}: {e}", self.ctl.display()))
    }

    /// Sends a signal (e.g. `"STOP"`, `"CONT"`) to the running server.
    pub fn signal(&mut self, sig: &str) -> bool {
        self.daemon.as_mut().is_some_and(|d| d.signal(sig))
    }

    /// SIGKILL: a crash. Sockets, pidfile and lock stay behind, as after a real crash.
    pub fn kill(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.kill();
        }
    }

    /// SIGTERM, then SIGKILL after a short deadline.
    pub fn stop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.stop();
        }
    }

    /// Starts the server again on the same files (after [`kill`](Self::kill) or
    /// [`stop`](Self::stop)). TCP/TLS ports are chosen anew.
    pub fn restart(&mut self) {
        self.stop();
        self.start();
    }
}

fn create_db(schema: &str, db: &Path) {
    let out = Command::new(bin("ovsdb-tool"))
        .arg("create")
        .arg(db)
        .arg(schema)
        .output()
        .expect("run ovsdb-tool");
    assert!(
        out.status.success(),
        "ovsdb-tool create {} {schema} failed: {}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Standalone NB + SB + northd

/// Options for [`OvnSandbox`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    sb: bool,
    northd: bool,
    tcp: bool,
    ssl: bool,
    keep_on_panic: bool,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            sb: true,
            northd: true,
            tcp: false,
            ssl: false,
            keep_on_panic: true,
        }
    }
}

impl SandboxBuilder {
    /// Start the SB database (default on).
    pub fn sb(mut self, on: bool) -> Self {
        self.sb = on;
        self
    }

    /// Start `ovn-northd` (default on; needs the SB).
    pub fn northd(mut self, on: bool) -> Self {
        self.northd = on;
        self
    }

    /// Also listen on loopback TCP (`ptcp:0:127.0.0.1`), NB and SB.
    pub fn tcp(mut self, on: bool) -> Self {
        self.tcp = on;
        self
    }

    /// Make a PKI with `ovs-pki` and also listen on loopback TLS (`pssl:0:127.0.0.1`), NB and SB.
    pub fn ssl(mut self, on: bool) -> Self {
        self.ssl = on;
        self
    }

    /// Keep the temp dir and print the logs when dropped during a panic (default on).
    pub fn keep_on_panic(mut self, on: bool) -> Self {
        self.keep_on_panic = on;
        self
    }

    pub fn start(self) -> OvnSandbox {
        assert!(!self.northd || self.sb, "ovn-northd needs the SB database");
        let dir = SandboxDir::new("ovn", self.keep_on_panic);
        let path = dir.path().to_owned();
        let pki = self.ssl.then(|| Pki::create(&path));
        let mut sandbox = OvnSandbox {
            nb: DbServer::new(&path, "nb", NB_DB),
            sb: self.sb.then(|| DbServer::new(&path, "sb", SB_DB)),
            northd: None,
            pki,
            dir,
        };
        let servers = std::iter::once(&mut sandbox.nb).chain(sandbox.sb.as_mut());
        for (server, schema) in servers.zip([NB_SCHEMA, SB_SCHEMA]) {
            create_db(schema, &server.db);
            server.want_tcp = self.tcp;
            server.want_ssl = self.ssl;
            server.tls = sandbox.pki.as_ref().map(|p| p.server.clone());
            server.start();
        }
        if self.northd {
            sandbox.start_northd();
        }
        sandbox
    }
}

/// Standalone OVN central daemons in a private temp dir: NB and SB `ovsdb-server`s and
/// (optionally) `ovn-northd`.
///
/// ```ignore
/// let ovn = OvnSandbox::start();                      // NB + SB + northd on unix sockets
/// let ovn = OvnSandbox::builder().sb(false).northd(false).tcp(true).start();
/// ovn.nbctl(&["ls-add", "sw0"]);
/// ```
#[derive(Debug)]
pub struct OvnSandbox {
    pub nb: DbServer,
    pub sb: Option<DbServer>,
    northd: Option<Daemon>,
    pki: Option<Pki>,
    // Last: dropped after the daemons above have been stopped.
    dir: SandboxDir,
}

impl OvnSandbox {
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// NB + SB + `ovn-northd` on unix sockets.
    pub fn start() -> OvnSandbox {
        Self::builder().start()
    }

    /// Only the NB `ovsdb-server`, on a unix socket: enough for OVSDB client tests.
    pub fn nb_only() -> OvnSandbox {
        Self::builder().sb(false).northd(false).start()
    }

    fn start_northd(&mut self) {
        let dir = self.dir.path().to_owned();
        let ctl = dir.join("northd.ctl");
        let mut cmd = Command::new(bin("ovn-northd"));
        cmd.arg("--no-chdir")
            .arg(format!("--ovnnb-db={}", self.nb_remote()))
            .arg(format!("--ovnsb-db={}", self.sb_remote()))
            .arg(format!("--log-file={}", dir.join("northd.log").display()))
            .arg(format!("--pidfile={}", dir.join("northd.pid").display()))
            .arg(format!("--unixctl={}", ctl.display()))
            .arg("-vconsole:off");
        let mut daemon = Daemon::spawn("ovn-northd", cmd, &dir.join("northd.stderr.log"));
        // Ready when it holds the SB lock and says so.
        wait_for("ovn-northd to become active", READY_TIMEOUT, || {
            daemon.assert_running();
            ovn_tools::appctl(&ctl, &["status"])
                .ok()
                .filter(|s| s.contains("Status: active"))
        });
        self.northd = Some(daemon);
    }

    /// The sandbox's temp dir (absolute).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `unix:/abs/dir/nb.sock`
    pub fn nb_remote(&self) -> String {
        self.nb.unix_remote()
    }

    /// `unix:/abs/dir/sb.sock` (panics without an SB).
    pub fn sb_remote(&self) -> String {
        self.sb().unix_remote()
    }

    pub fn nb_tcp_remote(&self) -> String {
        self.nb.tcp_remote()
    }

    pub fn nb_ssl_remote(&self) -> String {
        self.nb.ssl_remote()
    }

    pub fn sb(&self) -> &DbServer {
        self.sb.as_ref().expect("this sandbox has no SB database")
    }

    pub fn sb_mut(&mut self) -> &mut DbServer {
        self.sb.as_mut().expect("this sandbox has no SB database")
    }

    /// The PKI (panics unless built with `.ssl(true)`).
    pub fn pki(&self) -> &Pki {
        self.pki
            .as_ref()
            .expect("this sandbox has no PKI; build it with .ssl(true)")
    }

    /// PIDs of every daemon this sandbox is running.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = [self.nb.pid(), self.sb.as_ref().and_then(DbServer::pid)]
            .into_iter()
            .flatten()
            .collect();
        pids.extend(self.northd.as_ref().map(Daemon::pid));
        pids
    }

    pub fn northd_pid(&self) -> Option<u32> {
        self.northd.as_ref().map(Daemon::pid)
    }

    /// `ovn-nbctl --db=<nb> ARGS`: stdout, panics on failure.
    pub fn nbctl(&self, args: &[&str]) -> String {
        ovn_tools::nbctl(&self.nb_remote(), args)
    }

    /// `ovn-sbctl --db=<sb> ARGS`: stdout, panics on failure.
    pub fn sbctl(&self, args: &[&str]) -> String {
        ovn_tools::sbctl(&self.sb_remote(), args)
    }

    /// `ovsdb-client dump` of the NB, for before/after comparisons.
    pub fn nb_dump(&self) -> String {
        ovn_tools::dump(&self.nb_remote(), NB_DB)
    }
}

impl Drop for OvnSandbox {
    fn drop(&mut self) {
        // northd first, so it does not log the databases going away; then the servers.
        if let Some(mut d) = self.northd.take() {
            d.stop();
        }
        if let Some(sb) = self.sb.as_mut() {
            sb.stop();
        }
        self.nb.stop();
    }
}

// ---------------------------------------------------------------------------------------------
// A RAFT NB cluster

/// Options for [`NbCluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    size: usize,
    tcp: bool,
    keep_on_panic: bool,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        ClusterBuilder {
            size: 3,
            tcp: false,
            keep_on_panic: true,
        }
    }
}

impl ClusterBuilder {
    /// Number of servers (default 3).
    pub fn size(mut self, n: usize) -> Self {
        assert!(n >= 1);
        self.size = n;
        self
    }

    /// Also give each server a loopback TCP client remote (`ptcp:0:127.0.0.1`).
    pub fn tcp(mut self, on: bool) -> Self {
        self.tcp = on;
        self
    }

    pub fn keep_on_panic(mut self, on: bool) -> Self {
        self.keep_on_panic = on;
        self
    }

    pub fn start(self) -> NbCluster {
        let dir = SandboxDir::new("raft", self.keep_on_panic);
        let path = dir.path().to_owned();
        let raft = |i: usize| format!("unix:{}", path.join(format!("s{i}.raft")).display());
        let mut servers: Vec<DbServer> = (1..=self.size)
            .map(|i| {
                let mut s = DbServer::new(&path, &format!("s{i}"), NB_DB);
                s.want_tcp = self.tcp;
                s
            })
            .collect();
        for (i, s) in servers.iter().enumerate() {
            let n = i + 1;
            let mut cmd = Command::new(bin("ovsdb-tool"));
            if n == 1 {
                cmd.arg("create-cluster")
                    .arg(&s.db)
                    .arg(NB_SCHEMA)
                    .arg(raft(1));
            } else {
                cmd.arg("join-cluster")
                    .arg(&s.db)
                    .arg(NB_DB)
                    .arg(raft(n))
                    .arg(raft(1));
            }
            let out = cmd.output().expect("run ovsdb-tool");
            assert!(
                out.status.success(),
                "{cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for s in servers.iter_mut() {
            s.start();
        }
        let cluster = NbCluster { servers, dir };
        for i in 0..cluster.servers.len() {
            cluster.wait_connected(i);
        }
        cluster.wait_for_leader();
        cluster
    }
}

/// A RAFT cluster of the NB database on loopback: RAFT between the servers over unix sockets
/// with absolute paths in the temp dir (race-free: no port to pick), clients on each server's
/// own unix socket (and loopback TCP if asked). Servers are indexed from 0; their names are
/// `s1`, `s2`, ….
#[derive(Debug)]
pub struct NbCluster {
    servers: Vec<DbServer>,
    // Last: dropped after the servers have been stopped.
    dir: SandboxDir,
}

impl NbCluster {
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    /// Three servers, a leader elected, every server connected to the cluster.
    pub fn start() -> NbCluster {
        Self::builder().start()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn len(&self) -> usize {
        self.servers.len()
    }

    pub fn server(&self, i: usize) -> &DbServer {
        &self.servers[i]
    }

    pub fn server_mut(&mut self, i: usize) -> &mut DbServer {
        &mut self.servers[i]
    }

    /// Each server's unix client remote, in server order.
    pub fn remotes(&self) -> Vec<String> {
        self.servers.iter().map(DbServer::unix_remote).collect()
    }

    /// All client remotes joined by commas, as `ovn-nbctl --db=` and topo take them.
    pub fn remote(&self) -> String {
        self.remotes().join(",")
    }

    /// Each server's TCP client remote (built with `.tcp(true)`).
    pub fn tcp_remotes(&self) -> Vec<String> {
        self.servers.iter().map(DbServer::tcp_remote).collect()
    }

    /// `ovs-appctl -t <ctl> cluster/status OVN_Northbound` of server `i`.
    pub fn status(&self, i: usize) -> Result<String, String> {
        ovn_tools::appctl(&self.servers[i].ctl, &["cluster/status", NB_DB])
    }

    /// Server `i`'s RAFT role ("leader", "follower", "candidate"), if it is running and answers.
    pub fn role(&self, i: usize) -> Option<String> {
        self.servers[i].daemon.as_ref()?;
        let status = self.status(i).ok()?;
        status_field(&status, "Role").map(str::to_owned)
    }

    /// The index of the server that says it is the leader, if exactly one running server does.
    pub fn leader(&self) -> Option<usize> {
        let leaders: Vec<usize> = (0..self.servers.len())
            .filter(|&i| self.role(i).as_deref() == Some("leader"))
            .collect();
        match leaders[..] {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Waits until exactly one running server is the leader and returns its index.
    pub fn wait_for_leader(&self) -> usize {
        wait_for("the NB cluster to have a leader", READY_TIMEOUT, || {
            self.leader()
        })
    }

    /// Waits until server `i` is connected to the cluster and serves its database
    /// (`ovsdb-client wait <remote> OVN_Northbound connected`, with a deadline).
    pub fn wait_connected(&self, i: usize) {
        let remote = self.servers[i].unix_remote();
        let secs = READY_TIMEOUT.as_secs().to_string();
        ovn_tools::ovsdb_client(&[
            &format!("--timeout={secs}"),
            "wait",
            &remote,
            NB_DB,
            "connected",
        ])
        .unwrap_or_else(|e| panic!("server s{} did not join the cluster: {e}", i + 1));
    }

    /// SIGKILL server `i` (a crash).
    pub fn kill(&mut self, i: usize) {
        self.servers[i].kill();
    }

    /// Restarts server `i` on its files and waits until it is connected to the cluster.
    pub fn restart(&mut self, i: usize) {
        self.servers[i].restart();
        self.wait_connected(i);
    }

    /// Kills the current leader and waits for another server to be elected. Returns
    /// `(old, new)` leader indexes.
    pub fn kill_leader(&mut self) -> (usize, usize) {
        let old = self.wait_for_leader();
        self.kill(old);
        let new = self.wait_for_leader();
        assert_ne!(old, new, "the killed server cannot still be leader");
        (old, new)
    }

    /// PIDs of the running servers.
    pub fn pids(&self) -> Vec<u32> {
        self.servers.iter().filter_map(DbServer::pid).collect()
    }

    /// `ovn-nbctl --db=<all remotes> ARGS` (ovn-nbctl finds the leader itself).
    pub fn nbctl(&self, args: &[&str]) -> String {
        ovn_tools::nbctl(&self.remote(), args)
    }
}

impl Drop for NbCluster {
    fn drop(&mut self) {
        for s in &mut self.servers {
            s.stop();
        }
    }
}

/// The value of `Field: value` in `cluster/status` output.
pub fn status_field<'a>(status: &'a str, field: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::trim))
}

/// How long to wait for state the tests poll for (northd's SB writes, cluster elections).
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);

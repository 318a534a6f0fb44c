//! Benchmark of topo's OVSDB client against the floor: the same JSON written to the socket by
//! a minimal raw client, in the same run, on the same ovsdb-server.
//!
//! 1. One `transact` inserting 10,000 rows (named-uuid'd Logical_Switch_Ports referenced by
//!    one Logical_Switch, the shape apply sends).
//! 2. A `monitor_cond` of every table of an NB holding 15,000 rows.
//!
//! Run: `cargo bench --bench ovsdb_client` (needs ovsdb-server and ovsdb-tool). Prints medians
//! and the ratio topo / raw; the goal is ≤ 1.1. Not a test: nothing here asserts on time.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use topo::ovsdb::framing::Framer;
use topo::ovsdb::{Atom, Client, ConnectOptions, Datum, MonitorRequest, Operation};

const DB: &str = "OVN_Northbound";

struct Server {
    child: Child,
    dir: PathBuf,
}

impl Server {
    fn start() -> Server {
        let dir = std::env::temp_dir().join(format!("topo-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("nb.db");
        let status = Command::new("ovsdb-tool")
            .arg("create")
            .arg(&db)
            .arg("/usr/share/ovn/ovn-nb.ovsschema")
            .status()
            .expect("ovsdb-tool (install OVN: scripts/install-deps.sh)");
        assert!(status.success(), "ovsdb-tool create failed");
        let child = Command::new("ovsdb-server")
            .arg("--no-chdir")
            .arg("-vconsole:off")
            .arg(format!("--remote=punix:{}", dir.join("nb.sock").display()))
            .arg(format!("--unixctl={}", dir.join("nb.ctl").display()))
            .arg(format!("--log-file={}", dir.join("nb.log").display()))
            .arg(&db)
            .spawn()
            .expect("ovsdb-server");
        let sock = dir.join("nb.sock");
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&sock).is_err() {
            assert!(Instant::now() < deadline, "ovsdb-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        Server { child, dir }
    }

    fn sock(&self) -> PathBuf {
        self.dir.join("nb.sock")
    }

    fn remote(&self) -> String {
        format!("unix:{}", self.sock().display())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The minimal raw client: write bytes, frame the reply, parse it into a JSON value.
fn raw_call(sock: &Path, request: &[u8]) -> Value {
    let mut s = UnixStream::connect(sock).expect("connect");
    s.write_all(request).expect("write");
    let mut framer = Framer::new(0);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "server closed");
        framer.push(&buf[..n]);
        if let Some(m) = framer.next_message().expect("framing") {
            return serde_json::from_slice(&m).expect("json");
        }
    }
}

fn insert_ops(n: usize, tag: &str) -> Vec<Operation> {
    let mut ops = Vec::with_capacity(n + 1);
    let mut ports = Vec::with_capacity(n);
    for i in 0..n - 1 {
        let name = format!("{tag}-p{i}");
        let row = [
            ("name".to_owned(), Datum::scalar(Atom::from(name.as_str()))),
            (
                "addresses".to_owned(),
                Datum::scalar(Atom::from(format!(
                    "0a:00:00:{:02x}:{:02x}:{:02x} 10.{}.{}.{}",
                    (i >> 16) & 0xff,
                    (i >> 8) & 0xff,
                    i & 0xff,
                    (i >> 16) & 0xff,
                    (i >> 8) & 0xff,
                    i & 0xff
                ))),
            ),
            (
                "external_ids".to_owned(),
                Datum::map([(Atom::from("topo:stack"), Atom::from("bench"))]),
            ),
        ]
        .into_iter()
        .collect();
        let uuid_name = format!("p{i}");
        ports.push(Atom::NamedUuid(uuid_name.clone()));
        ops.push(Operation::insert("Logical_Switch_Port", row).with_uuid_name(&uuid_name));
    }
    let ls = [
        (
            "name".to_owned(),
            Datum::scalar(Atom::from(format!("{tag}-ls"))),
        ),
        ("ports".to_owned(), Datum::set(ports)),
    ]
    .into_iter()
    .collect();
    ops.push(Operation::insert("Logical_Switch", ls));
    ops
}

fn request_bytes(method: &str, params: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": 1, "method": method, "params": params})).expect("json")
}

fn clear(rt: &tokio::runtime::Runtime, client: &Client) {
    rt.block_on(client.transact(
        DB,
        &[
            Operation::delete("Logical_Switch", vec![]),
            Operation::delete("Logical_Switch_Port", vec![]),
        ],
    ))
    .expect("clear");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let iters: usize = std::env::var("BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let server = Server::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = rt
        .block_on(Client::connect(
            &server.remote(),
            ConnectOptions::for_database(DB),
        ))
        .expect("topo connects");

    // 1. One transaction inserting 10,000 rows.
    let n = 10_000;
    let (mut topo_t, mut raw_t) = (Vec::new(), Vec::new());
    for i in 0..iters {
        clear(&rt, &client);
        // Alternate who goes first so neither benefits from a warm server.
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_topo in order {
            if is_topo {
                // Both sides get the operations ready-made; topo encodes them on the clock.
                let ops = insert_ops(n, "t");
                let start = Instant::now();
                let results = rt.block_on(client.transact(DB, &ops)).expect("transact");
                topo_t.push(start.elapsed());
                assert_eq!(results.len(), n);
            } else {
                // The raw client's bytes are prepared outside the clock: it is the floor.
                let ops = insert_ops(n, "r");
                let mut params = vec![json!(DB)];
                params.extend(ops.iter().map(Operation::to_json));
                let bytes = request_bytes("transact", Value::Array(params));
                let start = Instant::now();
                let reply = raw_call(&server.sock(), &bytes);
                raw_t.push(start.elapsed());
                assert_eq!(reply["result"].as_array().map(Vec::len), Some(n));
            }
        }
    }
    let (t, r) = (median(topo_t), median(raw_t));
    println!(
        "transact of {n} inserts:   topo {:>8.1} ms   raw {:>8.1} ms   ratio {:.3}",
        t.as_secs_f64() * 1e3,
        r.as_secs_f64() * 1e3,
        t.as_secs_f64() / r.as_secs_f64()
    );

    // 2. monitor_cond of a 15,000-row NB (all tables, all columns).
    clear(&rt, &client);
    for chunk in 0..3 {
        rt.block_on(client.transact(DB, &insert_ops(5_000, &format!("m{chunk}"))))
            .expect("fill");
    }
    let schema = rt.block_on(client.get_schema(DB)).expect("schema");
    let requests: std::collections::BTreeMap<String, MonitorRequest> = schema
        .tables
        .keys()
        .map(|t| (t.clone(), MonitorRequest::all()))
        .collect();
    let raw_reqs: serde_json::Map<String, Value> = schema
        .tables
        .keys()
        .map(|t| (t.clone(), json!([{}])))
        .collect();
    let raw_bytes = request_bytes("monitor_cond", json!([DB, null, raw_reqs]));
    let (mut topo_t, mut raw_t) = (Vec::new(), Vec::new());
    for i in 0..iters {
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_topo in order {
            if is_topo {
                let start = Instant::now();
                let c = rt
                    .block_on(Client::connect(
                        &server.remote(),
                        ConnectOptions::for_database(DB),
                    ))
                    .expect("connect");
                let updates = rt
                    .block_on(c.monitor_cond(DB, json!("bench"), &requests))
                    .expect("monitor_cond");
                topo_t.push(start.elapsed());
                let rows: usize = updates.values().map(|t| t.len()).sum();
                assert!(rows >= 15_000, "{rows} rows");
                rt.block_on(c.close());
            } else {
                let start = Instant::now();
                let reply = raw_call(&server.sock(), &raw_bytes);
                raw_t.push(start.elapsed());
                assert!(reply["result"].is_object());
            }
        }
    }
    let (t, r) = (median(topo_t), median(raw_t));
    println!(
        "monitor_cond of 15k rows: topo {:>8.1} ms   raw {:>8.1} ms   ratio {:.3}",
        t.as_secs_f64() * 1e3,
        r.as_secs_f64() * 1e3,
        t.as_secs_f64() / r.as_secs_f64()
    );
}

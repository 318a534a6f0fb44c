//! A unix-socket proxy between topo and an `ovsdb-server`, for fault tests that must hit a
//! point of the protocol, not a moment: it forwards every connection's bytes both ways, splits
//! the client's stream into JSON-RPC messages (brace depth outside strings, as OVSDB frames
//! them), and, for the first request that matches a [`Rule`], cuts or holds it after a number
//! of bytes, or holds the server's reply. The test is told when that point is reached
//! ([`Proxy::wait_for`]) and then kills whatever it wants (by PID). Later connections (a
//! reconnect after a kill) are forwarded untouched.
//!
//! The proxy listens on its own socket in the test's temp dir and connects to the upstream
//! socket anew for each connection, so an upstream server restarted on the same socket is
//! reached again.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What to do with the first client request whose text contains `marker` (e.g. the stack's
/// lock name in an apply's `assert`).
#[derive(Debug, Clone)]
pub enum Action {
    /// Forward `bytes` of the request (clamped to its length), then close both sides.
    Cut { bytes: usize },
    /// Forward `bytes` of the request, then forward nothing more either way (the connections
    /// stay open until the client or the server closes its side).
    Hold { bytes: usize },
    /// [`Action::Hold`] after `per_mille` thousandths of the request.
    HoldPart { per_mille: usize },
    /// Forward the whole request; hold everything the server sends from then on.
    HoldReply,
    /// Forward the request and its reply; then forward nothing more either way.
    HoldAfterReply,
    /// Forward everything; only say when the request went through (and when its reply began).
    Watch,
    /// Hold the request whole until [`Proxy::release`], then forward it (and everything after)
    /// as [`Action::Watch`] does: the test does something between the two.
    Gate,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub marker: String,
    pub action: Action,
}

/// What the proxy saw of the matched request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// The request matched; its length in bytes.
    Matched(usize),
    /// The action's bytes of the request were forwarded (all of them for the reply holds).
    Forwarded,
    /// The server's first bytes after the request arrived (the reply began, so the server has
    /// processed the request).
    ReplyStarted,
    /// The reply went to the client whole (its first message after the request).
    ReplyForwarded,
}

#[derive(Default)]
struct State {
    rule: Option<Rule>,
    released: bool,
    points: Vec<(Point, Instant)>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn reached(&self, p: Point) {
        let mut st = self.state.lock().unwrap();
        st.points.push((p, Instant::now()));
        self.changed.notify_all();
    }
}

pub struct Proxy {
    path: PathBuf,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on `dir/name` and forwards to the unix socket `upstream`.
    pub fn start(dir: &Path, name: &str, upstream: &Path) -> Proxy {
        let path = dir.join(name);
        let listener = UnixListener::bind(&path)
            .unwrap_or_else(|e| panic!("proxy cannot listen on {}: {e}", path.display()));
        listener.set_nonblocking(true).unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let (sh, up) = (shared.clone(), upstream.to_owned());
        thread::spawn(move || {
            while !sh.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let (sh, up) = (sh.clone(), up.clone());
                        thread::spawn(move || serve(client, &up, &sh));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy { path, shared }
    }

    /// `unix:<the proxy's socket>`, for topo's `--db`.
    pub fn remote(&self) -> String {
        format!("unix:{}", self.path.display())
    }

    /// Arms `rule`: the first request that matches it, on any connection, gets its action
    /// (a client that tries several remotes may open and drop connections first).
    pub fn arm(&self, rule: Rule) {
        let mut st = self.shared.state.lock().unwrap();
        st.rule = Some(rule);
        st.released = false;
        st.points.clear();
    }

    /// Lets a request held by [`Action::Gate`] go.
    pub fn release(&self) {
        self.shared.state.lock().unwrap().released = true;
        self.shared.changed.notify_all();
    }

    /// Waits until the proxy reached `point` (panics after `timeout`); when it did.
    pub fn wait_for(&self, point: fn(&Point) -> bool, timeout: Duration) -> (Point, Instant) {
        let st = self.shared.state.lock().unwrap();
        let (st, res) = self
            .shared
            .changed
            .wait_timeout_while(st, timeout, |st| !st.points.iter().any(|(p, _)| point(p)))
            .unwrap();
        assert!(
            !res.timed_out(),
            "the proxy did not reach the point within {timeout:?}; saw {:?}",
            st.points
        );
        *st.points.iter().find(|(p, _)| point(p)).unwrap()
    }

    /// Whether the proxy reached `point` already.
    pub fn reached(&self, point: fn(&Point) -> bool) -> bool {
        self.shared
            .state
            .lock()
            .unwrap()
            .points
            .iter()
            .any(|(p, _)| point(p))
    }

    pub fn points(&self) -> Vec<(Point, Instant)> {
        self.shared.state.lock().unwrap().points.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

/// One connection: the client → server direction in this thread (message by message), the
/// other in a second thread.
fn serve(mut client: UnixStream, upstream: &Path, shared: &Arc<Shared>) {
    let Ok(mut server) = UnixStream::connect(upstream) else {
        return;
    };
    // Set once the server → client direction must stop forwarding; counts server bytes seen
    // after the matched request.
    let hold_down = Arc::new(AtomicBool::new(false));
    let after_request = Arc::new(AtomicBool::new(false));
    let hold_after_reply = Arc::new(AtomicBool::new(false));
    {
        let (mut s, mut c) = (server.try_clone().unwrap(), client.try_clone().unwrap());
        let (hold, after, hold_after, sh) = (
            hold_down.clone(),
            after_request.clone(),
            hold_after_reply.clone(),
            shared.clone(),
        );
        thread::spawn(move || {
            let mut framer = Framer::default();
            let mut buf = vec![0u8; 64 * 1024];
            let mut started = false;
            loop {
                let n = match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if after.load(Ordering::SeqCst) && !started {
                    started = true;
                    sh.reached(Point::ReplyStarted);
                }
                if hold.load(Ordering::SeqCst) {
                    continue; // read and dropped: the client never gets it
                }
                if c.write_all(&buf[..n]).is_err() {
                    break;
                }
                if started && hold_after.load(Ordering::SeqCst) {
                    // The reply is the first whole message after the request.
                    if framer.push(&buf[..n]).next().is_some() {
                        hold.store(true, Ordering::SeqCst);
                        sh.reached(Point::ReplyForwarded);
                    }
                }
            }
            // The server went away: so does the client's connection (as a dead server's would).
            let _ = c.shutdown(std::net::Shutdown::Both);
        });
    }
    let mut framer = Framer::default();
    let mut held = false;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if held {
            continue;
        }
        let mut out = Vec::new();
        for message in framer.push(&buf[..n]) {
            if held {
                continue;
            }
            let action = {
                let mut st = shared.state.lock().unwrap();
                let matched = st
                    .rule
                    .as_ref()
                    .is_some_and(|r| find(&message, r.marker.as_bytes()));
                if matched { st.rule.take() } else { None }
            };
            let Some(Rule { action, .. }) = action else {
                out.extend_from_slice(&message);
                continue;
            };
            shared.reached(Point::Matched(message.len()));
            if server.write_all(&out).is_err() {
                return;
            }
            out.clear();
            match action {
                Action::Cut { bytes } => {
                    let _ = server.write_all(&message[..bytes.min(message.len())]);
                    shared.reached(Point::Forwarded);
                    let _ = server.shutdown(std::net::Shutdown::Both);
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    return;
                }
                Action::Hold { bytes } => {
                    hold_down.store(true, Ordering::SeqCst);
                    let _ = server.write_all(&message[..bytes.min(message.len())]);
                    shared.reached(Point::Forwarded);
                    held = true;
                }
                Action::HoldPart { per_mille } => {
                    hold_down.store(true, Ordering::SeqCst);
                    let bytes = message.len() * per_mille.min(1000) / 1000;
                    let _ = server.write_all(&message[..bytes]);
                    shared.reached(Point::Forwarded);
                    held = true;
                }
                Action::HoldReply => {
                    hold_down.store(true, Ordering::SeqCst);
                    after_request.store(true, Ordering::SeqCst);
                    let _ = server.write_all(&message);
                    shared.reached(Point::Forwarded);
                    held = true;
                }
                Action::Gate => {
                    let st = shared.state.lock().unwrap();
                    drop(shared.changed.wait_while(st, |st| !st.released).unwrap());
                    after_request.store(true, Ordering::SeqCst);
                    let _ = server.write_all(&message);
                    shared.reached(Point::Forwarded);
                }
                Action::Watch => {
                    after_request.store(true, Ordering::SeqCst);
                    let _ = server.write_all(&message);
                    shared.reached(Point::Forwarded);
                }
                Action::HoldAfterReply => {
                    hold_after_reply.store(true, Ordering::SeqCst);
                    after_request.store(true, Ordering::SeqCst);
                    let _ = server.write_all(&message);
                    shared.reached(Point::Forwarded);
                    held = true;
                }
            }
        }
        if !out.is_empty() && server.write_all(&out).is_err() {
            break;
        }
    }
    // The client went away (killed, or done): the server sees its side close.
    let _ = server.shutdown(std::net::Shutdown::Both);
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Splits a byte stream into JSON texts: depth of `{`/`[` outside strings. Every message is
/// buffered until it is whole (the tests' messages are a few MB at most).
#[derive(Default)]
struct Framer {
    buf: Vec<u8>,
    depth: usize,
    in_string: bool,
    escape: bool,
}

impl Framer {
    /// The whole messages completed by `bytes` (whitespace between messages is dropped).
    fn push(&mut self, bytes: &[u8]) -> std::vec::IntoIter<Vec<u8>> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.depth == 0 && !self.in_string && b.is_ascii_whitespace() {
                continue;
            }
            self.buf.push(b);
            if self.in_string {
                match (self.escape, b) {
                    (true, _) => self.escape = false,
                    (false, b'\\') => self.escape = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        out.push(std::mem::take(&mut self.buf));
                    }
                }
                _ => {}
            }
        }
        out.into_iter()
    }
}

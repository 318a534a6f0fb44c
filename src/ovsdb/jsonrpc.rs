//! JSON-RPC 1.0 over one OVSDB connection.
//!
//! A reader task frames incoming bytes ([`Framer`]), matches replies to requests by id, answers
//! the server's `echo` requests (ovsdb-server drops clients that don't), forwards
//! notifications (`update`, `update2`, `update3`, `locked`, `stolen`) to a channel, and runs
//! the inactivity probe: after `probe` of silence it sends an `echo`, and after another
//! `probe` without any message it declares the connection dead — unless a request is awaiting
//! its reply: ovsdb-server runs one request at a time and answers nothing, not even the echo,
//! until it is done (a 150,000-row transaction or read takes it longer than 10 s), so then the
//! silence may last until the request's own timeout (`busy`). The channel carries
//! [`RawEvent`]s: the server's notifications and, last, [`RawEvent::Disconnected`] when the
//! connection ends. Writes go through one lock so messages are never interleaved.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot};

use super::framing::Framer;
use super::transport::Stream;

/// Why a request got no result.
#[derive(Debug, Clone)]
pub(crate) enum CallError {
    /// The server answered with a JSON-RPC error.
    Rpc(Value),
    /// The connection was closed before (or while) the request was sent.
    NotSent(String),
    /// The request was sent, then the connection was lost before the reply.
    Lost(String),
    /// No reply within the request timeout (the request was sent).
    Timeout,
}

/// A message the server sent on its own initiative, its parameters as the server's JSON text.
#[derive(Debug, Clone)]
pub(crate) struct RawNotification {
    pub method: String,
    pub params: Box<RawValue>,
}

/// What a connection's reader task sends its client: the server's notifications, then (once)
/// the end of the connection.
#[derive(Debug, Clone)]
pub(crate) enum RawEvent {
    /// A notification, as the server sent it.
    Notification(RawNotification),
    /// The connection to `remote` was lost (or closed); its monitors and locks are gone.
    Disconnected { remote: String, reason: String },
}

#[derive(Serialize)]
struct Request<'a, P: Serialize + ?Sized> {
    id: u64,
    method: &'a str,
    params: &'a P,
}

/// Where a request's reply goes: its result as the server's JSON text, or why there is none.
type ReplySender = oneshot::Sender<Result<Box<RawValue>, CallError>>;

/// What the caller side and the reader task share.
#[derive(Default)]
struct Shared {
    /// Requests awaiting their reply, by id.
    pending: Mutex<HashMap<u64, ReplySender>>,
    closed: AtomicBool,
    close_reason: Mutex<Option<String>>,
}

impl Shared {
    /// Marks the connection dead and fails every pending request.
    fn close(&self, why: &str) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            *lock(&self.close_reason) = Some(why.to_owned());
        }
        for (_, tx) in lock(&self.pending).drain() {
            let _ = tx.send(Err(CallError::Lost(why.to_owned())));
        }
    }
}

/// One live connection. Cheap to share behind an `Arc`.
pub(crate) struct Connection {
    writer: tokio::sync::Mutex<WriteHalf<Box<dyn Stream>>>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    reader: tokio::task::JoinHandle<()>,
}

/// Connection tuning.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionOptions {
    /// Silence after which an echo is sent, and after which (again) the peer is dead.
    pub probe: Option<Duration>,
    /// The silence allowed while a request awaits its reply (its timeout): the server is busy
    /// with it. `None`: the probe's.
    pub busy: Option<Duration>,
    /// Largest accepted message.
    pub max_message: usize,
}

impl Connection {
    /// Starts the reader task on `stream` (connected to `remote`); notifications go to
    /// `notifications`.
    pub(crate) fn start(
        remote: String,
        stream: Box<dyn Stream>,
        options: ConnectionOptions,
        notifications: mpsc::UnboundedSender<RawEvent>,
    ) -> Arc<Connection> {
        let (read, write) = tokio::io::split(stream);
        let shared = Arc::new(Shared::default());
        Arc::new_cyclic(|weak: &std::sync::Weak<Connection>| {
            let reader = tokio::spawn(read_loop(
                remote,
                read,
                weak.clone(),
                shared.clone(),
                options,
                notifications,
            ));
            Connection {
                writer: tokio::sync::Mutex::new(write),
                shared,
                next_id: AtomicU64::new(1),
                reader,
            }
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    fn reason(&self) -> String {
        lock(&self.shared.close_reason)
            .clone()
            .unwrap_or_else(|| "connection closed".to_owned())
    }

    /// Sends a request and waits for its reply.
    pub(crate) async fn call<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Option<Duration>,
    ) -> Result<Value, CallError> {
        let raw = self.call_raw(method, params, timeout).await?;
        serde_json::from_str(raw.get())
            .map_err(|e| CallError::Lost(format!("invalid JSON from the server: {e}")))
    }

    /// [`Connection::call`], the result left as the JSON text the server sent: for replies
    /// large enough that their reader decodes them straight into its own types.
    pub(crate) async fn call_raw<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Option<Duration>,
    ) -> Result<Box<RawValue>, CallError> {
        if self.is_closed() {
            return Err(CallError::NotSent(self.reason()));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id, tx);
        let message = Request { id, method, params };
        let bytes = match serde_json::to_vec(&message) {
            Ok(b) => b,
            Err(e) => {
                lock(&self.shared.pending).remove(&id);
                return Err(CallError::NotSent(e.to_string()));
            }
        };
        if let Err(e) = self.write(&bytes).await {
            lock(&self.shared.pending).remove(&id);
            // Some or all of the request may have reached the server: it may run.
            return Err(CallError::Lost(format!("write failed: {e}")));
        }
        self.reply(id, rx, timeout).await
    }

    /// The reply to request `id`, within `timeout`; on a timeout the request is forgotten.
    async fn reply(
        &self,
        id: u64,
        rx: oneshot::Receiver<Result<Box<RawValue>, CallError>>,
        timeout: Option<Duration>,
    ) -> Result<Box<RawValue>, CallError> {
        let reply = match timeout {
            Some(t) => match tokio::time::timeout(t, rx).await {
                Ok(r) => r,
                Err(_) => {
                    lock(&self.shared.pending).remove(&id);
                    return Err(CallError::Timeout);
                }
            },
            None => rx.await,
        };
        reply.unwrap_or_else(|_| Err(CallError::Lost(self.reason())))
    }

    /// [`Connection::call`] for a request whose params are the array `[head, items...]`,
    /// written to the socket in pieces as it is serialized: the server, whose JSON parser is
    /// incremental, parses the start while the rest is serialized, and no copy of the whole
    /// request is held (a 150,000-row transaction is 40 MB of JSON).
    pub(crate) async fn call_streamed<H: Serialize + ?Sized, T: Serialize>(
        &self,
        method: &str,
        head: &H,
        items: &[T],
        timeout: Option<Duration>,
    ) -> Result<Value, CallError> {
        /// Bytes serialized before they are written.
        const PIECE: usize = 256 * 1024;
        if self.is_closed() {
            return Err(CallError::NotSent(self.reason()));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let method_json = serde_json::to_string(method).unwrap_or_default();
        let mut piece = format!("{{\"id\":{id},\"method\":{method_json},\"params\":[").into_bytes();
        if let Err(e) = serde_json::to_writer(&mut piece, head) {
            return Err(CallError::NotSent(e.to_string()));
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id, tx);
        let mut w = self.writer.lock().await;
        let mut sent = false;
        let mut items = items.iter();
        let written: std::io::Result<()> = async {
            loop {
                let last = loop {
                    let Some(item) = items.next() else { break true };
                    piece.push(b',');
                    serde_json::to_writer(&mut piece, item)?;
                    if piece.len() >= PIECE {
                        break false;
                    }
                };
                if last {
                    piece.extend_from_slice(b"]}");
                }
                sent = true;
                w.write_all(&piece).await?;
                piece.clear();
                if last {
                    return w.flush().await;
                }
            }
        }
        .await;
        drop(w);
        if let Err(e) = written {
            lock(&self.shared.pending).remove(&id);
            if !sent {
                return Err(CallError::NotSent(e.to_string()));
            }
            // Part of the request is on the wire: nothing else may follow it on this
            // connection, and the server may or may not run it.
            self.shared.close(&format!("write failed: {e}"));
            return Err(CallError::Lost(format!("write failed: {e}")));
        }
        drop(piece);
        let raw = self.reply(id, rx, timeout).await?;
        serde_json::from_str(raw.get())
            .map_err(|e| CallError::Lost(format!("invalid JSON from the server: {e}")))
    }

    /// Sends a message that expects no reply (or whose reply is not awaited).
    pub(crate) async fn notify(&self, message: &Value) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(message)?;
        self.write(&bytes).await
    }

    async fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut w = self.writer.lock().await;
        w.write_all(bytes).await?;
        w.flush().await
    }

    /// Closes the connection; pending requests fail with [`CallError::Lost`].
    pub(crate) async fn close(&self) {
        self.shared.close("closed by topo");
        let mut w = self.writer.lock().await;
        let _ = w.shutdown().await;
        self.reader.abort();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn read_loop(
    remote: String,
    mut read: ReadHalf<Box<dyn Stream>>,
    conn: std::sync::Weak<Connection>,
    shared: Arc<Shared>,
    options: ConnectionOptions,
    notifications: mpsc::UnboundedSender<RawEvent>,
) {
    let mut framer = Framer::new(options.max_message);
    let mut buf = vec![0u8; 64 * 1024];
    let mut probing = false;
    let mut heard = tokio::time::Instant::now();
    let why = loop {
        let read_result = match options.probe {
            Some(probe) => match tokio::time::timeout(probe, read.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) if probing => {
                    let busy = options
                        .busy
                        .filter(|busy| heard.elapsed() < *busy)
                        .is_some_and(|_| !lock(&shared.pending).is_empty());
                    if busy {
                        continue;
                    }
                    break format!(
                        "inactivity probe: no message from the server for {:?}",
                        Duration::from_secs(heard.elapsed().as_secs())
                    );
                }
                Err(_) => {
                    probing = true;
                    if let Some(c) = conn.upgrade() {
                        let echo = json!({"id": "echo", "method": "echo", "params": []});
                        tokio::spawn(async move {
                            let _ = c.notify(&echo).await;
                        });
                    }
                    continue;
                }
            },
            None => read.read(&mut buf).await,
        };
        let n = match read_result {
            Ok(0) => break "the server closed the connection".to_owned(),
            Ok(n) => n,
            Err(e) => break format!("read failed: {e}"),
        };
        probing = false;
        heard = tokio::time::Instant::now();
        framer.push(&buf[..n]);
        let mut failure = None;
        loop {
            let message = match framer.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            };
            // Only the envelope is parsed here; a reply's result stays text for its caller.
            let envelope: Envelope = match serde_json::from_slice(&message) {
                Ok(v) => v,
                Err(e) => {
                    failure = Some(format!("invalid JSON from the server: {e}"));
                    break;
                }
            };
            if let Err(e) = dispatch(envelope, &conn, &shared, &notifications) {
                failure = Some(e);
                break;
            }
        }
        if let Some(f) = failure {
            break f;
        }
    };
    shared.close(&why);
    let _ = notifications.send(RawEvent::Disconnected {
        remote,
        reason: why,
    });
}

/// JSON `null` as raw text (a reply without a result).
fn null_raw() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).unwrap_or_else(|_| unreachable!("null is JSON"))
}

/// A JSON-RPC message with its payload unparsed.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    method: Option<String>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Value,
}

fn dispatch(
    envelope: Envelope<'_>,
    conn: &std::sync::Weak<Connection>,
    shared: &Shared,
    notifications: &mpsc::UnboundedSender<RawEvent>,
) -> Result<(), String> {
    if let Some(method) = envelope.method {
        let params = envelope
            .params
            .map(RawValue::to_owned)
            .unwrap_or_else(null_raw);
        let id = envelope.id;
        if method == "echo" && !id.is_null() {
            // Answered from its own task so a long write by the caller never stalls reading.
            if let Some(c) = conn.upgrade() {
                let reply = json!({"id": id, "result": params, "error": null});
                tokio::spawn(async move {
                    let _ = c.notify(&reply).await;
                });
            }
        } else if id.is_null() {
            let _ = notifications.send(RawEvent::Notification(RawNotification { method, params }));
        }
        // Other requests from the server are not part of OVSDB; ignore them.
        return Ok(());
    }
    // A reply. Ids we did not send as integers (the probe's "echo") only prove liveness.
    let Some(id) = envelope.id.as_u64() else {
        return Ok(());
    };
    let Some(tx) = lock(&shared.pending).remove(&id) else {
        return Ok(()); // a request that timed out
    };
    let result = if envelope.error.is_null() {
        Ok(envelope
            .result
            .map(RawValue::to_owned)
            .unwrap_or_else(null_raw))
    } else {
        Err(CallError::Rpc(envelope.error))
    };
    let _ = tx.send(result);
    Ok(())
}

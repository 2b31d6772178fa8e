//! `WebSocketChannel`: one WebSocket as Python drives it, every operation an awaitable.
//!
//! Before `accept` the channel holds the handshake: the decision goes back to the upgrade
//! request's service future (101, or 403 on `close`), and `accept`'s awaitable then waits for
//! hyper to hand over the upgraded connection and starts the [`pump`](super::pump). After it,
//! messages cross two bounded queues between the handler's task and the pump:
//! - inbound (client → handler): `receive` takes the next message; when the handler does not
//!   read, the queue fills and the pump stops reading the socket (TCP backpressure);
//! - outbound (handler → client): `send_*` returns an awaitable that is already done when the
//!   queue has room (no suspension), else waits for room, which the pump makes only as fast
//!   as the client reads.
//!
//! Results are plain values the Python `WebSocket` interprets: `receive` gives `str`, `bytes`
//! or `(code, reason)` once the client is gone; `accept` and `send_*` give None, or the close
//! code 1006 when the connection is already gone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::response::{self, HttpResponse, RequestHead};
use crate::runtime::{Awaitable, Completion};
use crate::util::lock;
use crate::ws::pump::{self, Inbound, Outbound, ABNORMAL};
use crate::ws::{OpenSockets, WsLimits};

/// Messages the pump may hold for a handler that has not received them yet.
const INBOUND_QUEUE: usize = 16;
/// Messages a handler may queue before `send` waits for the client to read.
const OUTBOUND_QUEUE: usize = 64;
/// The most tungstenite reads from the socket at once. It zeroes that much of its read buffer
/// before every read (including the one that finds nothing), so its 128 KiB default cost more
/// than all the rest of a small message's handling; bigger messages just take more reads.
const READ_CHUNK: usize = 8 * 1024;

/// How the handler answered the handshake.
pub(crate) enum Decision {
    Accept {
        subprotocol: Option<String>,
        headers: Vec<(HeaderName, HeaderValue)>,
    },
    /// `close()` before `accept()`: 403.
    Reject,
    /// `send_denial_response(response)` before `accept()`: that response.
    Deny(HttpResponse),
    /// The handler failed or returned without answering: 500.
    Fail,
}

/// What the channel and the upgrade request share.
pub(crate) struct Session {
    handshake: Mutex<Option<(oneshot::Sender<Decision>, OnUpgrade)>>,
    inbound: OnceLock<tokio::sync::Mutex<mpsc::Receiver<Inbound>>>,
    outbound: OnceLock<mpsc::Sender<Outbound>>,
    /// The handler sent its close frame: nothing more may be sent.
    closed: AtomicBool,
    limits: WsLimits,
    open: Arc<OpenSockets>,
}

impl Session {
    pub(crate) fn new(
        decide: oneshot::Sender<Decision>,
        upgrade: OnUpgrade,
        limits: WsLimits,
        open: Arc<OpenSockets>,
    ) -> Arc<Self> {
        Arc::new(Self {
            handshake: Mutex::new(Some((decide, upgrade))),
            inbound: OnceLock::new(),
            outbound: OnceLock::new(),
            closed: AtomicBool::new(false),
            limits,
            open,
        })
    }

    /// The handler's coroutine finished; `code` closes a socket it left open (1000 after a
    /// return, 1011 after an exception). A handshake it never answered gets a 500.
    pub(crate) fn handler_finished(&self, code: u16) {
        if let Some((decide, _)) = lock(&self.handshake).take() {
            let _ = decide.send(Decision::Fail);
            return;
        }
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(tx) = self.outbound.get() {
            let close = Outbound::Close(code, String::new());
            if let Err(mpsc::error::TrySendError::Full(close)) = tx.try_send(close) {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(close).await;
                });
            }
        }
    }
}

#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct WebSocketChannel {
    session: Arc<Session>,
}

impl WebSocketChannel {
    pub(crate) fn new(session: Arc<Session>) -> Self {
        Self { session }
    }

    fn outbound(&self, what: &str) -> PyResult<&mpsc::Sender<Outbound>> {
        if self.session.closed.load(Ordering::Acquire) {
            return Err(PyRuntimeError::new_err(format!("Cannot call \"{what}\" once a close message has been sent.")));
        }
        self.session
            .outbound
            .get()
            .ok_or_else(|| PyRuntimeError::new_err("WebSocket is not connected. Need to call \"accept\" first."))
    }

    /// Queues `item`: a done awaitable if there was room, else one that waits for it.
    fn send(&self, py: Python<'_>, what: &'static str, item: Outbound) -> PyResult<Awaitable> {
        let tx = self.outbound(what)?;
        match tx.try_send(item) {
            Ok(()) => Ok(Awaitable::ready(what, py.None())),
            Err(mpsc::error::TrySendError::Closed(_)) => Ok(Awaitable::ready(what, abnormal(py))),
            Err(mpsc::error::TrySendError::Full(item)) => {
                let tx = tx.clone();
                Ok(Awaitable::new(what, async move {
                    let sent = tx.send(item).await.is_ok();
                    Box::new(move |py: Python<'_>| Ok(if sent { py.None() } else { abnormal(py) })) as Completion
                }))
            }
        }
    }
}

fn abnormal(py: Python<'_>) -> Py<PyAny> {
    ABNORMAL.into_pyobject(py).expect("int").into_any().unbind()
}

fn inbound_value(py: Python<'_>, msg: Option<Inbound>) -> PyResult<Py<PyAny>> {
    Ok(match msg {
        Some(Inbound::Text(t)) => PyString::new(py, t.as_str()).into_any().unbind(),
        Some(Inbound::Binary(b)) => PyBytes::new(py, &b).into_any().unbind(),
        Some(Inbound::Closed(code, reason)) => (code, reason).into_pyobject(py)?.into_any().unbind(),
        None => (ABNORMAL, "").into_pyobject(py)?.into_any().unbind(),
    })
}

#[pymethods]
impl WebSocketChannel {
    /// Answers the handshake with 101 (with `subprotocol` and `headers`), then waits for the
    /// upgraded connection: None once open, 1006 if the client went away meanwhile.
    #[pyo3(signature = (subprotocol = None, headers = Vec::new()))]
    fn accept(&self, subprotocol: Option<String>, headers: Vec<(Vec<u8>, Vec<u8>)>) -> PyResult<Awaitable> {
        let mut extra = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            let name =
                HeaderName::from_bytes(&name).map_err(|e| PyValueError::new_err(format!("bad header name: {e}")))?;
            let value =
                HeaderValue::from_bytes(&value).map_err(|e| PyValueError::new_err(format!("bad header value: {e}")))?;
            extra.push((name, value));
        }
        let Some((decide, upgrade)) = lock(&self.session.handshake).take() else {
            return Err(PyRuntimeError::new_err(
                "Expected ASGI message \"websocket.send\" or \"websocket.close\", but got \"websocket.accept\".",
            ));
        };
        let _ = decide.send(Decision::Accept { subprotocol, headers: extra });
        let session = Arc::clone(&self.session);
        Ok(Awaitable::new("WebSocket.accept", async move {
            let Ok(upgraded) = upgrade.await else {
                return Box::new(|py: Python<'_>| Ok(abnormal(py))) as Completion;
            };
            let limits = &session.limits;
            let config = WebSocketConfig::default()
                .read_buffer_size(READ_CHUNK)
                .max_message_size(Some(limits.max_message))
                .max_frame_size(Some(limits.max_message));
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
            let (in_tx, in_rx) = mpsc::channel(INBOUND_QUEUE);
            let (out_tx, out_rx) = mpsc::channel(OUTBOUND_QUEUE);
            let _ = session.inbound.set(tokio::sync::Mutex::new(in_rx));
            let _ = session.outbound.set(out_tx);
            let (counted, closing, limits) = (session.open.opened(), session.open.closing(), limits.clone());
            tokio::spawn(async move {
                pump::run(ws, in_tx, out_rx, limits, closing).await;
                drop(counted);
            });
            Box::new(|py: Python<'_>| Ok(py.None())) as Completion
        }))
    }

    /// The next message: `str`, `bytes`, or `(code, reason)` once the connection has ended.
    fn receive(&self, py: Python<'_>) -> PyResult<Awaitable> {
        let Some(queue) = self.session.inbound.get() else {
            return Err(PyRuntimeError::new_err("WebSocket is not connected. Need to call \"accept\" first."));
        };
        if let Ok(mut rx) = queue.try_lock() {
            match rx.try_recv() {
                Ok(msg) => return Ok(Awaitable::ready("WebSocket.receive", inbound_value(py, Some(msg))?)),
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    return Ok(Awaitable::ready("WebSocket.receive", inbound_value(py, None)?));
                }
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
        }
        let session = Arc::clone(&self.session);
        Ok(Awaitable::new("WebSocket.receive", async move {
            let msg = match session.inbound.get() {
                Some(queue) => queue.lock().await.recv().await,
                None => None,
            };
            Box::new(move |py: Python<'_>| inbound_value(py, msg)) as Completion
        }))
    }

    fn send_text(&self, py: Python<'_>, data: &str) -> PyResult<Awaitable> {
        self.send(py, "WebSocket.send_text", Outbound::Message(Message::text(data)))
    }

    fn send_bytes(&self, py: Python<'_>, data: &[u8]) -> PyResult<Awaitable> {
        self.send(py, "WebSocket.send_bytes", Outbound::Message(Message::binary(Bytes::copy_from_slice(data))))
    }

    /// Before `accept`: answers the handshake with `response` (a `fastcore.Response`, converted
    /// as a handler's return value is) instead of the 101: Starlette's `send_denial_response`.
    fn deny(&self, response: &Bound<'_, PyAny>) -> PyResult<()> {
        let head = RequestHead { method: "GET", headers: &hyper::HeaderMap::new() };
        let response = response::from_python(response, &head, None)?;
        let Some((decide, _)) = lock(&self.session.handshake).take() else {
            return Err(PyRuntimeError::new_err(
                "Expected ASGI message \"websocket.send\" or \"websocket.close\", but got \"websocket.http.response.start\".",
            ));
        };
        self.session.closed.store(true, Ordering::Release);
        let _ = decide.send(Decision::Deny(response));
        Ok(())
    }

    /// Before `accept`: refuses the handshake (403). After: sends the close frame; the pump
    /// waits for the client's reply, then closes the connection.
    #[pyo3(signature = (code = 1000, reason = None))]
    fn close(&self, py: Python<'_>, code: u16, reason: Option<String>) -> PyResult<Awaitable> {
        if let Some((decide, _)) = lock(&self.session.handshake).take() {
            self.session.closed.store(true, Ordering::Release);
            let _ = decide.send(Decision::Reject);
            return Ok(Awaitable::ready("WebSocket.close", py.None()));
        }
        let item = Outbound::Close(code, reason.unwrap_or_default());
        let awaitable = self.send(py, "WebSocket.close", item)?;
        self.session.closed.store(true, Ordering::Release);
        Ok(awaitable)
    }
}

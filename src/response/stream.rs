//! Streaming bodies: a `StreamingResponse`'s iterator, sent chunk by chunk with backpressure.
//!
//! The response's `_stream_into(send)` is a coroutine (the pump) that iterates the user's
//! iterator — an async one stepped right here, a sync one a `next()` at a time in the worker's
//! thread pool, as Starlette iterates it — and awaits `send(chunk)` for each chunk. `send` puts
//! the chunk in a bounded channel and waits while it is full. The body hyper polls owns both
//! the channel's receiver and the pump's driver, and polls the pump only when it wants the next
//! chunk: a slow client stops hyper polling, which stops the pump, so at most the channel, the
//! connection's write buffer and the kernel's socket buffers are ever ahead of the client.
//!
//! A client that goes away drops the body, and with it the driver, which throws
//! `CancelledError` into the pump: its `finally` closes the iterator (`aclose()`/`close()`), so
//! the iterator's own `finally` runs. An exception from the iterator after the head went out
//! is logged to `fastcore.error` and ends the body with an error, which makes hyper close the
//! connection; one raised before any chunk was sent goes to the error handler like a
//! handler's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::Frame;
use pyo3::exceptions::{PyConnectionError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::mpsc;

use crate::response::background::log_error;
use crate::runtime::{self, Awaitable, Begun, Completion, Task};

/// Why a body stopped before its end: hyper then closes the connection, since the head (and
/// perhaps part of the body) has already gone out.
#[derive(Debug)]
pub(crate) struct Aborted(pub(crate) String);

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Aborted {}

/// The bytes of a `bytes` object, or of whatever `bytes()` accepts (a memoryview, a
/// bytearray: Starlette's `render` may return a memoryview), copied.
pub(crate) fn bytes_of(obj: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Bytes::copy_from_slice(b.as_bytes()));
    }
    let b = obj.py().get_type::<PyBytes>().call1((obj,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "expected bytes, got {}",
            obj.get_type().name().map_or_else(|_| "?".into(), |n| n.to_string())
        ))
    })?;
    Ok(Bytes::copy_from_slice(b.cast::<PyBytes>()?.as_bytes()))
}

/// Chunks the pump may have ready before hyper asks for them.
pub(crate) const CAPACITY: usize = 2;

/// What fills the channel: a Python pump's driver, or a file reader (`file`).
pub(crate) type Pump = Pin<Box<dyn Future<Output = Result<(), Aborted>> + Send>>;

/// The receiving end, polled by hyper through [`crate::response::body::Body`].
pub(crate) struct Stream {
    chunks: mpsc::Receiver<Bytes>,
    /// The pump until it finishes.
    pump: Option<Pump>,
    /// The exact length, when known (a file).
    pub(crate) length: Option<u64>,
    /// How the pump failed, reported once the chunks it sent before are out.
    failed: Option<Aborted>,
    /// The failure was held back one poll, so that hyper flushes the chunks before it (it
    /// drops what it has buffered when a body fails).
    held: bool,
}

/// `send(chunk)`, handed to the response's pump: an awaitable that waits for room in the
/// channel. Empty chunks are skipped (an empty chunk would end a chunked body).
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct ChunkSender {
    tx: mpsc::Sender<Bytes>,
}

#[pymethods]
impl ChunkSender {
    fn __call__(&self, chunk: &Bound<'_, PyAny>) -> PyResult<Awaitable> {
        let data = bytes_of(chunk)?;
        let tx = self.tx.clone();
        Ok(Awaitable::new("StreamingResponse send", async move {
            let sent = if data.is_empty() { Ok(()) } else { tx.send(data).await };
            match sent {
                Ok(()) => Box::new(|py: Python<'_>| Ok(py.None())) as Completion,
                Err(_) => Box::new(|_: Python<'_>| Err(PyConnectionError::new_err("the client disconnected"))),
            }
        }))
    }
}

/// Starts the pump of `response` (its first step runs now, attached). An exception raised
/// before it sent anything is returned, for the error handler.
pub(crate) fn start(response: &Bound<'_, PyAny>, context: Option<&Py<PyAny>>) -> PyResult<Stream> {
    let py = response.py();
    let (tx, chunks) = mpsc::channel(CAPACITY);
    let sender = Bound::new(py, ChunkSender { tx })?;
    let coro = response.call_method1(intern!(py, "_stream_into"), (sender,))?;
    let context = context.map(|c| c.clone_ref(py));
    let task = Bound::new(py, Task::new(py, coro.unbind(), context, Some("fastcore-stream".to_owned()))?)?;
    let mut stream = Stream { chunks, pump: None, length: None, failed: None, held: false };
    match runtime::begin(task) {
        Begun::Done(Ok(_)) => {}
        Begun::Done(Err(err)) if stream.chunks.is_empty() => return Err(err),
        Begun::Done(Err(err)) => stream.failed = Some(failure(py, err)),
        Begun::Suspended(driver) => {
            let run = driver.run();
            stream.pump =
                Some(Box::pin(async move { run.await.map(drop).map_err(|err| Python::attach(|py| failure(py, err))) }));
        }
    }
    Ok(stream)
}

/// Logs a failure of the pump after the head was sent.
fn failure(py: Python<'_>, err: PyErr) -> Aborted {
    let message = err.to_string();
    // Cancelled at shutdown: told to stop, not a failure.
    if err.is_instance_of::<pyo3::exceptions::asyncio::CancelledError>(py) {
        return Aborted(message);
    }
    log_error(py, "Exception in the body iterator of a StreamingResponse; closing the connection", Some(err));
    Aborted(message)
}

impl Stream {
    pub(crate) fn new(chunks: mpsc::Receiver<Bytes>, pump: Pump, length: Option<u64>) -> Self {
        Self { chunks, pump: Some(pump), length, failed: None, held: false }
    }

    pub(crate) fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        loop {
            if let Ok(chunk) = self.chunks.try_recv() {
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
            let Some(pump) = self.pump.as_mut() else {
                if self.failed.is_some() && !self.held {
                    self.held = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                return Poll::Ready(self.failed.take().map(Err));
            };
            match pump.as_mut().poll(cx) {
                Poll::Pending => {
                    // The pump may have sent a chunk and then suspended on something else.
                    return match self.chunks.poll_recv(cx) {
                        Poll::Ready(Some(chunk)) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
                        _ => Poll::Pending,
                    };
                }
                Poll::Ready(result) => {
                    self.pump = None;
                    self.failed = result.err();
                }
            }
        }
    }
}

//! Request bodies: read whole before a sync handler runs, or read on demand by async ones.
//!
//! A sync handler cannot await, so its body is collected first (within the size limit). An
//! async handler gets the unread body: `await request.body()` collects it and
//! `async for chunk in request.stream()` takes it frame by frame as it arrives, both as
//! Rust futures awaited by the stepper. The size limit holds either way.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, Incoming};
use hyper::StatusCode;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;

use crate::request::whole::{Filling, Whole};
use crate::response::{self, HttpResponse};
use crate::runtime::{Awaitable, Completion};
use crate::util::lock;

/// Why a body could not be read; becomes a 413, a 400 or a 408.
#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge(usize),
    Broken,
    /// No data for longer than the body-read timeout.
    TimedOut,
}

const BROKEN: &str = "Request body could not be read";
const TIMED_OUT: &str = "Request body not received in time";

impl BodyError {
    pub(crate) fn response(&self) -> HttpResponse {
        match self {
            Self::TooLarge(max) => response::detail(StatusCode::PAYLOAD_TOO_LARGE, &too_large(*max)),
            Self::Broken => response::detail(StatusCode::BAD_REQUEST, BROKEN),
            Self::TimedOut => response::detail(StatusCode::REQUEST_TIMEOUT, TIMED_OUT),
        }
    }

    /// The same failure as a `fastcore.HTTPException`, raised inside an async handler.
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        static T: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let (status, detail) = match self {
            Self::TooLarge(max) => (413, too_large(max)),
            Self::Broken => (400, BROKEN.to_owned()),
            Self::TimedOut => (408, TIMED_OUT.to_owned()),
        };
        match T.import(py, "fastcore.exceptions", "HTTPException").and_then(|t| t.call1((status, detail))) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    }
}

fn too_large(max: usize) -> String {
    format!("Request body is larger than the limit of {max} bytes")
}

/// Collects the whole body, refusing more than `max` bytes or a wait over `timeout` between
/// two reads.
pub(crate) async fn collect(mut body: Incoming, max: usize, timeout: Duration) -> Result<Whole, BodyError> {
    collect_from(&mut body, max, timeout).await
}

/// The next frame of the body, if it comes within `timeout` (the body-read timeout bounds each
/// wait for data, as nginx's `client_body_timeout` does, not the whole upload).
/// A frame already there (a small body comes with its headers) is taken without a timer.
async fn next_frame(incoming: &mut Incoming, timeout: Duration) -> Option<Result<Frame<Bytes>, BodyError>> {
    let frame = match incoming.frame().now_or_never() {
        Some(frame) => frame,
        None => match tokio::time::timeout(timeout, incoming.frame()).await {
            Ok(frame) => frame,
            Err(_) => return Some(Err(BodyError::TimedOut)),
        },
    };
    frame.map(|frame| frame.map_err(|_| BodyError::Broken))
}

/// A request body as the handler sees it.
pub(crate) enum Source {
    Read(Whole),
    Unread(Incoming),
    Streaming {
        incoming: Incoming,
        seen: usize,
    },
    /// Taken by an awaitable that is reading it right now.
    Busy,
    Consumed,
    /// Left part-way by a reader that stopped (a refused form, a body over the limit): to
    /// Python it is consumed; after the response the rest is drained (`leftover`), so the
    /// connection can carry the next request.
    Left(Incoming),
}

/// The body slot of one request, shared by the request object, its read awaitables and the
/// dispatcher (which drains what the handler left unread, `request::settle`).
#[derive(Clone)]
pub(crate) struct BodySlot {
    source: std::sync::Arc<Mutex<Source>>,
    max: usize,
    timeout: Duration,
}

impl BodySlot {
    pub(crate) fn new(source: Source, max: usize, timeout: Duration) -> Self {
        Self { source: std::sync::Arc::new(Mutex::new(source)), max, timeout }
    }

    pub(crate) fn source(&self) -> &Mutex<Source> {
        &self.source
    }

    /// The body, if it has been read whole already.
    pub(crate) fn read(&self) -> Option<Whole> {
        match &*lock(&self.source) {
            Source::Read(b) => Some(b.clone()),
            _ => None,
        }
    }

    /// `await request.body()`: the whole body (cached for later calls).
    pub(crate) fn read_all(&self) -> PyResult<Awaitable> {
        let taken = std::mem::replace(&mut *lock(&self.source), Source::Busy);
        let (slot, max, timeout) = (std::sync::Arc::clone(&self.source), self.max, self.timeout);
        let incoming = match taken {
            Source::Read(b) => {
                *lock(&slot) = Source::Read(b.clone());
                return Ok(Awaitable::new("request.body", async move { whole_completion(b) }));
            }
            Source::Unread(incoming) => incoming,
            other => {
                *lock(&slot) = other;
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the request body is being streamed or was consumed by request.stream()",
                ));
            }
        };
        Ok(Awaitable::new("request.body", async move {
            let mut incoming = incoming;
            match collect_from(&mut incoming, max, timeout).await {
                Ok(b) => {
                    *lock(&slot) = Source::Read(b.clone());
                    whole_completion(b)
                }
                Err(e) => {
                    *lock(&slot) = Source::Left(incoming);
                    Box::new(move |py: Python<'_>| Err(e.into_pyerr(py))) as Completion
                }
            }
        }))
    }

    /// One step of `request.stream()`: the next chunk, or None at the end.
    pub(crate) fn next_chunk(&self) -> PyResult<Awaitable> {
        let taken = std::mem::replace(&mut *lock(&self.source), Source::Busy);
        let (slot, max, timeout) = (std::sync::Arc::clone(&self.source), self.max, self.timeout);
        let (mut incoming, mut seen) = match taken {
            // Already read whole: hand it out as one chunk, then end.
            Source::Read(b) => {
                *lock(&slot) = Source::Consumed;
                return Ok(Awaitable::new("request.stream", async move {
                    if b.bytes.is_empty() {
                        none_completion()
                    } else {
                        whole_completion(b)
                    }
                }));
            }
            Source::Consumed => {
                *lock(&slot) = Source::Consumed;
                return Ok(Awaitable::new("request.stream", async { none_completion() }));
            }
            Source::Left(incoming) => {
                *lock(&slot) = Source::Left(incoming);
                return Ok(Awaitable::new("request.stream", async { none_completion() }));
            }
            Source::Unread(incoming) => (incoming, 0),
            Source::Streaming { incoming, seen } => (incoming, seen),
            Source::Busy => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the request body is already being read by another awaitable",
                ))
            }
        };
        Ok(Awaitable::new("request.stream", async move {
            loop {
                match next_frame(&mut incoming, timeout).await {
                    None => {
                        *lock(&slot) = Source::Consumed;
                        return none_completion();
                    }
                    Some(Err(e)) => {
                        *lock(&slot) = Source::Left(incoming);
                        return Box::new(move |py: Python<'_>| Err(e.into_pyerr(py))) as Completion;
                    }
                    Some(Ok(frame)) => {
                        // Trailers carry no body bytes; keep reading.
                        let Ok(data) = frame.into_data() else { continue };
                        seen += data.len();
                        if seen > max {
                            *lock(&slot) = Source::Left(incoming);
                            return Box::new(move |py: Python<'_>| Err(BodyError::TooLarge(max).into_pyerr(py)));
                        }
                        *lock(&slot) = Source::Streaming { incoming, seen };
                        return bytes_completion(data);
                    }
                }
            }
        }))
    }
}

/// How far ahead of the bytes received a declared length may make `collect_from` allocate.
const RESERVE_MAX: usize = 16 << 20;

/// Where the pieces of a body after the first go.
enum Gathered {
    /// One piece so far: kept as it is, no copy.
    One(Option<Bytes>),
    /// A declared length: copied once into the `bytes` object Python will get (`whole`).
    Filling(Filling),
    /// No declared length (chunked), or a `bytes` object could not be made.
    Buffer(Vec<u8>),
}

/// Reads the rest of `incoming` whole, refusing more than `max` bytes; on failure the body
/// stays with the caller, so that what is left can still be drained.
async fn collect_from(incoming: &mut Incoming, max: usize, timeout: Duration) -> Result<Whole, BodyError> {
    let mut gathered = Gathered::One(None);
    let mut seen = 0usize;
    while let Some(frame) = next_frame(incoming, timeout).await {
        let Ok(data) = frame?.into_data() else { continue };
        seen += data.len();
        if seen > max {
            return Err(BodyError::TooLarge(max));
        }
        gathered = match gathered {
            Gathered::One(None) => Gathered::One(Some(data)),
            Gathered::One(Some(first)) => second_piece(first, &data, incoming, max),
            Gathered::Filling(mut filling) => {
                // More than declared: hyper stops at Content-Length, so this cannot happen.
                if !filling.push(&data) {
                    return Err(BodyError::Broken);
                }
                Gathered::Filling(filling)
            }
            Gathered::Buffer(mut buffer) => {
                buffer.extend_from_slice(&data);
                Gathered::Buffer(buffer)
            }
        };
        // Every declared byte is in: no need to wait for the channel's end.
        if incoming.is_end_stream() {
            break;
        }
    }
    match gathered {
        Gathered::One(first) => Ok(Whole::from(first.unwrap_or_default())),
        Gathered::Filling(filling) => filling.finish().ok_or(BodyError::Broken),
        Gathered::Buffer(buffer) => Ok(Whole::from(Bytes::from(buffer))),
    }
}

/// A second piece arrived: one allocation for the whole body from now on. Where its length is
/// declared (Content-Length; hyper's size hint is then exactly what is left of it) and within
/// the limit and RESERVE_MAX, that is the `bytes` object Python will get; otherwise a buffer
/// reserved for what the hint says, never more than RESERVE_MAX ahead of what has arrived.
fn second_piece(first: Bytes, data: &[u8], incoming: &Incoming, max: usize) -> Gathered {
    let hint = hyper::body::Body::size_hint(incoming);
    let so_far = first.len() + data.len();
    if let Some(total) = hint.exact().and_then(|rest| usize::try_from(rest).ok()).map(|rest| so_far.saturating_add(rest)) {
        if total <= max.min(RESERVE_MAX) {
            if let Ok(mut filling) = Filling::new(total) {
                if filling.push(&first) && filling.push(data) {
                    return Gathered::Filling(filling);
                }
            }
        }
    }
    let rest = usize::try_from(hint.lower()).unwrap_or(0);
    let mut buffer = Vec::with_capacity(so_far.saturating_add(rest.min(RESERVE_MAX)).min(max));
    buffer.extend_from_slice(&first);
    buffer.extend_from_slice(data);
    Gathered::Buffer(buffer)
}

/// A body taken whole for a form parser: the bytes already read, or the unread stream.
pub(crate) enum Taken {
    Read(Bytes),
    Stream(BodyStream),
}

/// An unread body being consumed by one reader, within the size limit. The slot is left
/// `Consumed` when the reader has read it to the end, `Left` (the rest to be drained after
/// the response) when it is dropped before that.
pub(crate) struct BodyStream {
    incoming: Option<Incoming>,
    ended: bool,
    seen: usize,
    max: usize,
    timeout: Duration,
    slot: std::sync::Arc<Mutex<Source>>,
}

impl BodyStream {
    /// The next data frame, None at the end.
    pub(crate) async fn next(&mut self) -> Option<Result<Bytes, BodyError>> {
        let incoming = self.incoming.as_mut()?;
        loop {
            let Some(frame) = next_frame(incoming, self.timeout).await else {
                self.ended = true;
                return None;
            };
            match frame {
                Err(e) => return Some(Err(e)),
                Ok(frame) => {
                    let Ok(data) = frame.into_data() else { continue };
                    self.seen += data.len();
                    if self.seen > self.max {
                        return Some(Err(BodyError::TooLarge(self.max)));
                    }
                    return Some(Ok(data));
                }
            }
        }
    }
}

impl Drop for BodyStream {
    fn drop(&mut self) {
        *lock(&self.slot) = match self.incoming.take() {
            Some(incoming) if !self.ended => Source::Left(incoming),
            _ => Source::Consumed,
        };
    }
}

impl BodySlot {
    /// The body for a reader that wants all of it (`request.form()`): the bytes if read,
    /// else the stream. Refused while it is streamed or after `request.stream()` consumed it.
    pub(crate) fn take(&self) -> PyResult<Taken> {
        let mut source = lock(&self.source);
        match std::mem::replace(&mut *source, Source::Busy) {
            Source::Read(b) => {
                let bytes = b.bytes.clone();
                *source = Source::Read(b);
                Ok(Taken::Read(bytes))
            }
            Source::Unread(incoming) => Ok(Taken::Stream(BodyStream {
                incoming: Some(incoming),
                ended: false,
                seen: 0,
                max: self.max,
                timeout: self.timeout,
                slot: std::sync::Arc::clone(&self.source),
            })),
            other => {
                *source = other;
                Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the request body is being streamed or was consumed by request.stream()",
                ))
            }
        }
    }
}

fn bytes_completion(b: Bytes) -> Completion {
    Box::new(move |py| Ok(PyBytes::new(py, &b).into_any().unbind()))
}

fn whole_completion(b: Whole) -> Completion {
    Box::new(move |py| Ok(b.to_py(py).into_any().unbind()))
}

fn none_completion() -> Completion {
    Box::new(|py| Ok(py.None()))
}

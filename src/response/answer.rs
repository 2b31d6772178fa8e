//! A response made in Rust (a mount's: a static file, a mounted app's answer or routing error)
//! handed to the Python middleware as what `call_next` returns, as Starlette's middleware sees
//! the response of whatever it wraps.
//!
//! Python gets its status and headers as values (`fastcore.middleware.base._Answered`); the
//! body stays in Rust, read chunk by chunk only if the middleware asks for `body_iterator`.
//! Sent back untouched, the same body goes out (a file still streams from disk) with the
//! status and headers as the middleware left them.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::header::{CONTENT_LENGTH, SERVER};
use hyper::HeaderMap;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::response::body::Body;
use crate::runtime::{Awaitable, Completion};
use crate::util::lock;

#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Answer {
    status: u16,
    headers: HeaderMap,
    /// None while a chunk is being read, or once the body was read to its end or sent.
    body: Arc<Mutex<Option<Body>>>,
}

impl Answer {
    pub(crate) fn new(resp: hyper::Response<Body>) -> Self {
        let (head, body) = resp.into_parts();
        Self { status: head.status.as_u16(), headers: head.headers, body: Arc::new(Mutex::new(Some(body))) }
    }

    /// The body, to be sent; an error if it was read (or is being read) already.
    pub(crate) fn take_body(&self) -> PyResult<Body> {
        lock(&self.body).take().ok_or_else(|| PyRuntimeError::new_err("the response's body was already read or sent"))
    }
}

#[pymethods]
impl Answer {
    #[getter]
    fn status_code(&self) -> u16 {
        self.status
    }

    /// The headers as a `Response`'s `raw_headers`: `(name, value)` str pairs (latin-1) in order, without
    /// the server's own `server` header, and with the `content-length` of a whole body that
    /// does not declare one (as Starlette's `Response` does, for statuses that have a body).
    fn raw_headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (name, value) in &self.headers {
            if name != SERVER {
                let value: Cow<'_, str> = match value.to_str() {
                    Ok(ascii) => Cow::Borrowed(ascii),
                    Err(_) => Cow::Owned(value.as_bytes().iter().map(|&b| char::from(b)).collect()),
                };
                list.append((name.as_str(), value))?;
            }
        }
        let bodiless = self.status < 200 || self.status == 204 || self.status == 304;
        if !bodiless && !self.headers.contains_key(CONTENT_LENGTH) {
            if let Some(whole) = lock(&self.body).as_ref().and_then(Body::whole) {
                list.append(("content-length", itoa::Buffer::new().format(whole.len())))?;
            }
        }
        Ok(list)
    }

    /// An awaitable for the body's next chunk (bytes), None at its end. The body is dropped
    /// at its end, which starts the response's background task, as Starlette runs it once the
    /// body was sent.
    fn next_chunk(&self, py: Python<'_>) -> Awaitable {
        let Some(mut body) = lock(&self.body).take() else {
            return Awaitable::ready("fastcore.Answer.next_chunk", py.None());
        };
        let slot = Arc::clone(&self.body);
        Awaitable::new("fastcore.Answer.next_chunk", async move {
            loop {
                match body.frame().await {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => {
                            *lock(&slot) = Some(body);
                            return Box::new(move |py: Python<'_>| Ok(PyBytes::new(py, &data).into_any().unbind()))
                                as Completion;
                        }
                        Err(_trailers) => {} // not part of the body
                    },
                    Some(Err(aborted)) => {
                        return Box::new(move |_: Python<'_>| Err(PyRuntimeError::new_err(aborted.0))) as Completion;
                    }
                    None => {
                        drop(body);
                        return Box::new(|py: Python<'_>| Ok(py.None())) as Completion;
                    }
                }
            }
        })
    }
}

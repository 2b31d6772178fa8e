//! A request a mount answers, when the app has Python middleware: the middleware runs first,
//! and the stack's innermost layer awaits `MountCall.respond(state)` for the mount's response,
//! as Starlette's middleware wraps the whole app, mounts included.
//!
//! The mount's routing and answer are the ones the app gives without middleware (the `run`
//! that `serve` hands over); the response comes back as an `Answer` (status, headers, and the
//! body left in Rust), which the middleware may read, change or replace.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use hyper::http::request::Parts;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::request::Https;
use crate::response::{Answer, HttpResponse};
use crate::runtime::{Awaitable, Completion};
use crate::util::lock;

/// Routes the request through the mount, given the middleware's `request.state`.
pub(crate) type Run = Box<dyn FnOnce(Py<PyAny>) -> Pin<Box<dyn Future<Output = HttpResponse> + Send>> + Send>;

#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct MountCall {
    /// Taken by the first `respond`.
    run: Mutex<Option<Run>>,
}

impl MountCall {
    pub(crate) fn new(run: Run) -> Self {
        Self { run: Mutex::new(Some(run)) }
    }
}

#[pymethods]
impl MountCall {
    /// An awaitable for the mount's response (an `Answer`); `state`: the middleware's
    /// `request.state`, which the mounted app's handlers see as theirs.
    fn respond(&self, state: Py<PyAny>) -> PyResult<Awaitable> {
        let run = lock(&self.run)
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("call_next() was already called for this request"))?;
        Ok(Awaitable::new("fastcore mount", async move {
            let resp = run(state).await;
            Box::new(move |py: Python<'_>| Ok(Py::new(py, Answer::new(resp))?.into_any())) as Completion
        }))
    }
}

/// A copy of a request's head (method, target, version, headers, the https mark).
pub(crate) fn copy_parts(parts: &Parts) -> Parts {
    let mut req = hyper::Request::new(());
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    *req.version_mut() = parts.version;
    *req.headers_mut() = parts.headers.clone();
    if parts.extensions.get::<Https>().is_some() {
        req.extensions_mut().insert(Https);
    }
    req.into_parts().0
}

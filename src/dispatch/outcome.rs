//! What a handler call comes to, and its response: a coroutine's first step taken in place,
//! a suspended one driven on (`Pending`), the request kept for the converter and the error
//! handler (`Kept`), and `respond`, which converts a result or hands a failure to the app's
//! error handler.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::http::request::Parts;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::request::{BodySlot, RawRequest};
use crate::response::{self, HttpResponse, RequestHead};
use crate::routing::Routes;
use crate::runtime::{self, Begun, Driver, Task};

/// A response, or a coroutine (a handler's, or an async error handler's) that suspended on
/// its first step and must be driven on.
pub(super) enum Handled {
    Now(HttpResponse),
    /// Boxed: only coroutines that suspend pay for moving it.
    Suspended(Box<Pending>),
}

/// Whose result is being converted: a failure of the handler's goes to the error handler; a
/// failure of the error handler's is a plain 500.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Handler,
    ErrorHandler,
}

pub(super) struct Pending {
    pub(super) driver: Driver,
    /// The app whose error handler takes the handler's exception.
    pub(super) routes: Arc<Routes>,
    pub(super) kept: Kept<'static>,
    pub(super) stage: Stage,
    /// The handler's `contextvars` context, where the response's own work (its background
    /// task, a streamed body's iterator) runs, as it would in the handler's task in FastAPI.
    pub(super) context: Option<Py<PyAny>>,
}

impl Pending {
    pub(super) async fn finish(self: Box<Self>, peer: SocketAddr) -> HttpResponse {
        let mut pending = self;
        loop {
            let Pending { driver, routes, kept, stage, context } = *pending;
            let result = driver.run().await;
            let handled =
                Python::attach(|py| respond(py, result.map(|v| v.into_bound(py)), kept, stage, context, &routes, peer));
            match handled {
                Handled::Now(resp) => return resp,
                Handled::Suspended(next) => pending = next,
            }
        }
    }
}

/// The request while its handler runs: the converter reads its method and headers, and the
/// error handler gets it as a `RawRequest`. Handlers that take only path parameters get no
/// `RawRequest`; one is built from the parts kept here only if the error handler needs it.
#[allow(clippy::large_enum_variant)] // on the stack; boxing the parts would cost every request
pub(super) enum Kept<'t> {
    Parts { parts: Parts, body: BodySlot, route: Cow<'t, str>, path_params: Option<Py<PyDict>>, root_path: String },
    Raw(Py<RawRequest>),
}

impl Kept<'_> {
    pub(super) fn head(&self) -> RequestHead<'_> {
        match self {
            Kept::Parts { parts, .. } => RequestHead { method: parts.method.as_str(), headers: &parts.headers },
            Kept::Raw(raw) => RequestHead { method: raw.get().method_str(), headers: raw.get().header_map() },
        }
    }

    pub(super) fn into_owned(self) -> Kept<'static> {
        match self {
            Kept::Parts { parts, body, route, path_params, root_path } => {
                Kept::Parts { parts, body, route: Cow::Owned(route.into_owned()), path_params, root_path }
            }
            Kept::Raw(raw) => Kept::Raw(raw),
        }
    }

    pub(super) fn into_raw(self, py: Python<'_>, peer: SocketAddr) -> PyResult<Py<RawRequest>> {
        match self {
            Kept::Raw(raw) => Ok(raw),
            Kept::Parts { parts, body, route, path_params, root_path } => {
                let path_params = path_params.unwrap_or_else(|| PyDict::new(py).unbind());
                Py::new(py, RawRequest::new(parts, peer, body, &route, path_params, root_path))
            }
        }
    }
}

/// What calling a handler (or error handler) came to after the first step of its coroutine.
pub(super) enum Started<'py> {
    Done(PyResult<Bound<'py, PyAny>>),
    Suspended(Driver),
}

/// If `result` is a coroutine, takes its first step right away, in this attach: a handler that
/// never suspends then costs one attach, like a sync one. The task's context goes to `context`.
pub(super) fn first_step<'py>(
    py: Python<'py>,
    result: PyResult<Bound<'py, PyAny>>,
    context: &mut Option<Py<PyAny>>,
) -> Started<'py> {
    match result {
        // SAFETY: attached; a type check on a live object.
        Ok(obj) if unsafe { pyo3::ffi::PyCoro_CheckExact(obj.as_ptr()) } == 1 => {
            let task = match Task::new(py, obj.unbind(), None, None).and_then(|t| Bound::new(py, t)) {
                Ok(task) => task,
                Err(err) => return Started::Done(Err(err)),
            };
            *context = Some(task.get().context.clone_ref(py));
            match runtime::begin(task) {
                Begun::Done(result) => Started::Done(result.map(|v| v.into_bound(py))),
                Begun::Suspended(driver) => Started::Suspended(driver),
            }
        }
        other => Started::Done(other),
    }
}

/// Converts a result into the response. A handler's exception (or a result that cannot be
/// sent) goes to the app's error handler with the request, and what that returns (or the
/// coroutine it returns, driven like a handler's) is converted in turn. If even that fails,
/// the client still gets a plain 500 and the failure is printed.
pub(super) fn respond(
    py: Python<'_>,
    result: PyResult<Bound<'_, PyAny>>,
    kept: Kept<'_>,
    stage: Stage,
    context: Option<Py<PyAny>>,
    routes: &Arc<Routes>,
    peer: SocketAddr,
) -> Handled {
    let err = match result.and_then(|obj| response::from_python(&obj, &kept.head(), context.as_ref())) {
        Ok(resp) => return Handled::Now(resp),
        Err(err) => err,
    };
    if stage == Stage::ErrorHandler {
        err.print(py);
        return Handled::Now(response::internal_error());
    }
    let raw = match kept.into_raw(py, peer) {
        Ok(raw) => raw,
        Err(e) => {
            err.print(py);
            e.print(py);
            return Handled::Now(response::internal_error());
        }
    };
    let handled = routes.error_handler.bind(py).call1((err.into_value(py), raw.bind(py)));
    match first_step(py, handled, &mut None) {
        Started::Done(result) => respond(py, result, Kept::Raw(raw), Stage::ErrorHandler, context, routes, peer),
        Started::Suspended(driver) => {
            let routes = Arc::clone(routes);
            let pending = Pending { driver, routes, kept: Kept::Raw(raw), stage: Stage::ErrorHandler, context };
            Handled::Suspended(Box::new(pending))
        }
    }
}

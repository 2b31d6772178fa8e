//! One request, from hyper's parts to a response: body, route lookup, handler call, conversion.
//!
//! Sync handlers run right here, on the worker that read the request: no thread hop, no pool.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;
use hyper::body::{Body as _, Incoming};
use hyper::http::request::Parts;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::dispatch::access_log::AccessLine;
use crate::request::{self, BodyError, BodySlot, RawRequest, Source};
use crate::response::{self, HttpResponse};
use crate::routing::{Endpoint, Lookup, ParamValue, Params, Routes};
use crate::runtime::{self, attach, Begun, Driver, Task};

/// What every request on a worker shares.
pub(crate) struct Config {
    pub(crate) routes: Arc<Routes>,
    pub(crate) max_body: usize,
    /// `access_log(client, method, target, http_version, status)`, or None when off.
    pub(crate) access_log: Option<Py<PyAny>>,
}

/// Serves one request. A panic anywhere below becomes a 500 for this request alone (and is
/// still access-logged); the connection and the worker carry on.
pub(crate) async fn serve(req: hyper::Request<Incoming>, cfg: &Config, peer: SocketAddr) -> HttpResponse {
    let logged = cfg.access_log.as_ref().map(|_| AccessLine::new(&req, peer));
    let served = AssertUnwindSafe(handle(req, cfg, peer)).catch_unwind().await;
    let resp = served.unwrap_or_else(|_| response::internal_error());
    if let (Some(line), Some(log)) = (logged, cfg.access_log.as_ref()) {
        line.emit(log, resp.status());
    }
    resp
}

async fn handle(req: hyper::Request<Incoming>, cfg: &Config, peer: SocketAddr) -> HttpResponse {
    let (parts, body) = req.into_parts();
    match prepare_body(&parts, body, cfg).await {
        Ok(body) => match dispatch(parts, body, cfg, peer) {
            Handled::Now(resp) => resp,
            Handled::Suspended(pending) => pending.finish(cfg).await,
        },
        Err(err) => rust_only(err.response()),
    }
}

/// Sync handlers get their body read in full first; async handlers read it themselves.
async fn prepare_body(parts: &Parts, body: Incoming, cfg: &Config) -> Result<Source, BodyError> {
    if body.is_end_stream() {
        return Ok(Source::Read(Bytes::new()));
    }
    let for_async = {
        let table = cfg.routes.table.load();
        matches!(table.lookup(parts.method.as_str(), parts.uri.path()), Lookup::Found { handler, .. } if handler.is_async)
    };
    if for_async {
        Ok(Source::Unread(body))
    } else {
        request::collect(body, cfg.max_body).await.map(Source::Read)
    }
}

/// A response, or an async handler that suspended on its first step and must be driven on.
enum Handled {
    Now(HttpResponse),
    Suspended(Pending),
}

struct Pending {
    driver: Driver,
    method: hyper::Method,
    uri: hyper::Uri,
}

impl Pending {
    async fn finish(self, cfg: &Config) -> HttpResponse {
        let Pending { driver, method, uri } = self;
        let result = driver.run().await;
        Python::attach(|py| respond(py, result.map(|v| v.into_bound(py)), cfg, &method, &uri))
    }
}

fn dispatch(parts: Parts, body: Source, cfg: &Config, peer: SocketAddr) -> Handled {
    let table = cfg.routes.table.load();
    match table.lookup(parts.method.as_str(), parts.uri.path()) {
        Lookup::Found { handler, params, route } => {
            Python::attach(|py| call(py, handler, params, route, parts, body, cfg, peer))
        }
        Lookup::BadParam(err) => Handled::Now(rust_only(response::bad_param(&err))),
        Lookup::MethodNotAllowed { allow } => Handled::Now(rust_only(response::method_not_allowed(&allow))),
        Lookup::NotFound => Handled::Now(rust_only(response::not_found())),
    }
}

/// A response made without running Python: gives stop-the-world pauses their safe point.
fn rust_only(resp: HttpResponse) -> HttpResponse {
    attach::safe_point();
    resp
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename these
fn call(
    py: Python<'_>,
    ep: &Endpoint,
    params: Params,
    route: &str,
    parts: Parts,
    body: Source,
    cfg: &Config,
    peer: SocketAddr,
) -> Handled {
    let func = ep.func.bind(py);
    let method = parts.method.clone();
    let uri = parts.uri.clone();
    let invoke = || {
        if ep.takes_request {
            params_dict(py, params).and_then(|pp| {
                let raw = RawRequest::new(parts, peer, BodySlot::new(body, cfg.max_body), route, pp.unbind());
                func.call1((Bound::new(py, raw)?,))
            })
        } else if params.is_empty() {
            func.call0()
        } else {
            params_dict(py, params).and_then(|kwargs| func.call((), Some(&kwargs)))
        }
    };
    // A sync handler runs in a fresh copy of the worker's context, so contextvars it sets
    // never reach the next request; an async one gets its context from its task below.
    let result = if ep.is_async {
        invoke()
    } else {
        runtime::copy_context(py).and_then(|ctx| runtime::run_in(ctx.bind(py), invoke)).and_then(|r| r)
    };
    // An async handler returned a coroutine: take its first step right away, so a handler
    // that never suspends costs one attach, like a sync one.
    let result = match result {
        // SAFETY: attached; a type check on a live object.
        Ok(obj) if unsafe { pyo3::ffi::PyCoro_CheckExact(obj.as_ptr()) } == 1 => {
            let task = match Task::new(py, obj.unbind(), None, None).and_then(|t| Bound::new(py, t)) {
                Ok(task) => task,
                Err(err) => return Handled::Now(handle_error(py, &cfg.routes, err, method.as_str(), uri.path())),
            };
            match runtime::begin(task) {
                Begun::Done(result) => result.map(|v| v.into_bound(py)),
                Begun::Suspended(driver) => return Handled::Suspended(Pending { driver, method, uri }),
            }
        }
        other => other,
    };
    Handled::Now(respond(py, result, cfg, &method, &uri))
}

fn respond(
    py: Python<'_>,
    result: PyResult<Bound<'_, PyAny>>,
    cfg: &Config,
    method: &hyper::Method,
    uri: &hyper::Uri,
) -> HttpResponse {
    match result.and_then(|obj| response::from_python(&obj)) {
        Ok(resp) => resp,
        Err(err) => handle_error(py, &cfg.routes, err, method.as_str(), uri.path()),
    }
}

fn params_dict(py: Python<'_>, params: Params) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in params {
        match value {
            ParamValue::Str(s) => dict.set_item(name, s)?,
            ParamValue::Int(i) => dict.set_item(name, i)?,
            ParamValue::Float(f) => dict.set_item(name, f)?,
        }
    }
    Ok(dict)
}

/// Hands the exception to the app's error handler (HTTPException, logging, custom handlers).
/// If even that fails, the client still gets a plain 500 and the failure is printed.
fn handle_error(py: Python<'_>, routes: &Routes, err: PyErr, method: &str, path: &str) -> HttpResponse {
    let handled =
        routes.error_handler.bind(py).call1((err.into_value(py), method, path)).and_then(|r| response::from_python(&r));
    handled.unwrap_or_else(|e| {
        e.print(py);
        response::internal_error()
    })
}

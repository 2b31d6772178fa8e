//! The router's own answers when no route takes a request — 404, 405, a path parameter's 422,
//! a static mount's other statuses — as FastAPI makes them, and the error list a 422 hands to
//! the app's own handler (`serve.rs` calls the app's `route_error` hook with it).

use hyper::StatusCode;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::response::{self, HttpResponse};
use crate::routing::ConversionError;

/// What the router answers by itself when no route takes the request.
pub(super) enum RouteError {
    NotFound,
    MethodNotAllowed(String),
    BadParam(Vec<ConversionError>),
    /// Another of Starlette's `HTTPException`s (a static mount's 401).
    Status(StatusCode),
}

/// FastAPI's answer to `err`.
pub(super) fn route_error_response(err: &RouteError) -> HttpResponse {
    match err {
        RouteError::NotFound => response::not_found(),
        RouteError::MethodNotAllowed(allow) => response::method_not_allowed(allow),
        RouteError::BadParam(e) => response::bad_param(e),
        RouteError::Status(status) => response::detail(*status, status.canonical_reason().unwrap_or("")),
    }
}

/// The error list of a path-parameter 422, as pydantic would report it.
pub(super) fn bad_param_errors<'py>(py: Python<'py>, errors: &[ConversionError]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for e in errors {
        let (kind, msg) = response::bad_param_error(e);
        let item = PyDict::new(py);
        item.set_item("type", kind)?;
        item.set_item("loc", PyList::new(py, ["path", e.name.as_str()])?)?;
        item.set_item("msg", msg)?;
        item.set_item("input", e.input.as_str())?;
        list.append(item)?;
    }
    Ok(list)
}

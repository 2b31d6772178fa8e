//! Turning handler results, and failures, into HTTP responses.
//!
//! Return values follow FastAPI: JSON-able values become `application/json`, `bytes` become
//! `application/octet-stream`, and a `fastcore.Response` is sent as it says. Every failure
//! here becomes a response; nothing in this module may bring a connection down.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, SERVER};
use hyper::StatusCode;
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::response::hooks;
use crate::response::json::{write_str, Encoder};
use crate::routing::{ConversionError, Converter};

pub(crate) type Body = Full<Bytes>;
pub(crate) type HttpResponse = hyper::Response<Body>;

static SERVER_NAME: HeaderValue = HeaderValue::from_static("fastcore");
static JSON: HeaderValue = HeaderValue::from_static("application/json");
static OCTETS: HeaderValue = HeaderValue::from_static("application/octet-stream");
static PLAIN_TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// A deliberately unconvertible value whose conversion panics, and whose `panic()` method
/// panics inside the coroutine that calls it; tests use it to prove that a panic while serving
/// one request costs only that request and leaves nothing behind on the worker.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct PanicProbe;

#[pymethods]
impl PanicProbe {
    #[new]
    fn new() -> Self {
        Self
    }

    #[allow(clippy::unused_self)] // a method, so that handlers call it as `probe.panic()`
    fn panic(&self) {
        panic!("PanicProbe.panic() called");
    }
}

fn with_body(status: StatusCode, content_type: &HeaderValue, body: impl Into<Bytes>) -> HttpResponse {
    let mut resp = hyper::Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, content_type.clone());
    h.insert(SERVER, SERVER_NAME.clone());
    resp
}

/// `{"detail": "..."}` with the given status: the body FastAPI sends for its own errors.
pub(crate) fn detail(status: StatusCode, message: &str) -> HttpResponse {
    let mut body = Vec::with_capacity(message.len() + 14);
    body.extend_from_slice(b"{\"detail\":");
    write_str(message, &mut body);
    body.push(b'}');
    with_body(status, &JSON, body)
}

pub(crate) fn not_found() -> HttpResponse {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

pub(crate) fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut resp = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    if let Ok(v) = HeaderValue::from_str(allow) {
        resp.headers_mut().insert(ALLOW, v);
    }
    resp
}

/// FastAPI's answer to an exception nothing handled (Starlette's ServerErrorMiddleware).
pub(crate) fn internal_error() -> HttpResponse {
    with_body(StatusCode::INTERNAL_SERVER_ERROR, &PLAIN_TEXT, "Internal Server Error")
}

/// The 422 FastAPI sends when a path parameter does not parse as its declared type.
pub(crate) fn bad_param(err: &ConversionError) -> HttpResponse {
    let (kind, msg) = match err.converter {
        Converter::Int => ("int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
        Converter::Float => ("float_parsing", "Input should be a valid number, unable to parse string as a number"),
        Converter::Str | Converter::Path => ("string_type", "Input should be a valid string"),
    };
    let mut body = Vec::with_capacity(160);
    body.extend_from_slice(b"{\"detail\":[{\"type\":");
    write_str(kind, &mut body);
    body.extend_from_slice(b",\"loc\":[\"path\",");
    write_str(&err.name, &mut body);
    body.extend_from_slice(b"],\"msg\":");
    write_str(msg, &mut body);
    body.extend_from_slice(b",\"input\":");
    write_str(&err.input, &mut body);
    body.extend_from_slice(b"}]}");
    with_body(StatusCode::UNPROCESSABLE_ENTITY, &JSON, body)
}

/// Converts what a handler returned. An `Err` means the value could not be sent (for example
/// an unserialisable type); the caller reports it like any handler exception.
pub(crate) fn from_python(obj: &Bound<'_, PyAny>) -> PyResult<HttpResponse> {
    let py = obj.py();
    let hooks = hooks::get();
    if let Ok(bytes) = obj.cast_exact::<PyBytes>() {
        return Ok(with_body(StatusCode::OK, &OCTETS, Bytes::copy_from_slice(bytes.as_bytes())));
    }
    if let Some(h) = hooks {
        if obj.is_instance(h.response_type.bind(py))? {
            return from_response_object(obj);
        }
    }
    assert!(!obj.is_instance_of::<PanicProbe>(), "PanicProbe reached the response converter");
    let fallback = hooks.map(|h| h.jsonable.bind(py));
    let body = Encoder::new(fallback).encode(obj)?;
    Ok(with_body(StatusCode::OK, &JSON, body))
}

/// Reads a `fastcore.Response`: `status_code`, `body` (bytes) and `raw_headers`
/// (a list of `(name, value)` str pairs, content-type included).
fn from_response_object(obj: &Bound<'_, PyAny>) -> PyResult<HttpResponse> {
    let py = obj.py();
    let status: u16 = obj.getattr(intern!(py, "status_code"))?.extract()?;
    let status =
        StatusCode::from_u16(status).map_err(|_| PyTypeError::new_err(format!("invalid HTTP status code {status}")))?;
    let body_obj = obj.getattr(intern!(py, "body"))?;
    let body = body_obj.cast::<PyBytes>().map_err(|_| PyTypeError::new_err("Response.body must be bytes"))?;
    let mut resp = hyper::Response::new(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(SERVER, SERVER_NAME.clone());
    let raw = obj.getattr(intern!(py, "raw_headers"))?;
    for pair in raw.cast::<PyList>()?.iter() {
        let pair = pair.cast_into::<PyTuple>()?;
        let name: String = pair.get_item(0)?.extract()?;
        let value: String = pair.get_item(1)?.extract()?;
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| PyTypeError::new_err(format!("invalid header name {name:?}")))?;
        // hyper computes the length from the body; a second, possibly wrong, one must not leak out.
        if name == CONTENT_LENGTH {
            continue;
        }
        let value = HeaderValue::from_str(&value)
            .map_err(|_| PyTypeError::new_err(format!("invalid value for header {name}")))?;
        headers.append(name, value);
    }
    Ok(resp)
}

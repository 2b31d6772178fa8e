//! Turning handler results, and failures, into HTTP responses.
//!
//! Return values follow FastAPI: JSON-able values become `application/json`, `bytes` become
//! `application/octet-stream`, and a `fastcore.Response` is sent as it says. Every failure
//! here becomes a response; nothing in this module may bring a connection down.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, IF_RANGE, RANGE, SERVER};
use hyper::{HeaderMap, StatusCode};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::response::answer::Answer;
use crate::response::background::AfterSend;
use crate::response::body::Body;
use crate::response::file;
use crate::response::hooks;
use crate::response::json::{write_str, Encoder};
use crate::response::stream::{self, bytes_of};
use crate::routing::{ConversionError, Converter};

pub(crate) type HttpResponse = hyper::Response<Body>;

/// `fastcore/<version>`: the version is Cargo.toml's, the one place it is written (also
/// `fastcore.__version__`, `fastcore --version` and the wheel's metadata).
pub(crate) static SERVER_NAME: HeaderValue = HeaderValue::from_static(concat!("fastcore/", env!("CARGO_PKG_VERSION")));
static JSON: HeaderValue = HeaderValue::from_static("application/json");
static OCTETS: HeaderValue = HeaderValue::from_static("application/octet-stream");
static PLAIN_TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// A deliberately unconvertible value whose conversion panics, whose `panic()` method panics
/// inside the coroutine that calls it, and whose `panic_awaitable()` is an awaitable whose Rust
/// future panics while the stepper polls it; tests use it to prove that a panic while serving
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

    /// An awaitable whose future sleeps `seconds` (so the coroutine is suspended on it, not
    /// finished in its first step), then panics inside `poll`.
    #[allow(clippy::unused_self)]
    #[pyo3(signature = (seconds = 0.001))]
    fn panic_awaitable(&self, seconds: f64) -> PyResult<crate::runtime::Awaitable> {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(pyo3::exceptions::PyValueError::new_err("seconds must be a non-negative number"));
        }
        let delay = std::time::Duration::from_secs_f64(seconds);
        Ok(crate::runtime::Awaitable::new("PanicProbe.panic_awaitable", async move {
            tokio::time::sleep(delay).await;
            panic!("PanicProbe.panic_awaitable() polled");
        }))
    }
}

/// JSON already encoded, with its status: what a route's finisher hands back for the common
/// `response_model` answer (`Finisher.plain`), sent as `JSONResponse(status_code=...)` would be
/// (`content-type: application/json`, the length hyper writes) without a `Response` object to
/// be read back attribute by attribute. The middleware stack turns one into its `Response`.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct JsonReply {
    #[pyo3(get)]
    body: Py<PyBytes>,
    status: StatusCode,
}

#[pymethods]
impl JsonReply {
    /// `status_code`: one whose response has a body (not 1xx, 204, 205 or 304).
    #[new]
    fn new(body: Bound<'_, PyBytes>, status_code: u16) -> PyResult<Self> {
        match StatusCode::from_u16(status_code) {
            Ok(status) if status_code >= 200 && !matches!(status_code, 204 | 205 | 304) => {
                Ok(Self { body: body.unbind(), status })
            }
            _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "JsonReply needs a status with a body, not {status_code}"
            ))),
        }
    }

    #[getter]
    fn status_code(&self) -> u16 {
        self.status.as_u16()
    }
}

fn with_body(status: StatusCode, content_type: &HeaderValue, body: impl Into<Bytes>) -> HttpResponse {
    let mut resp = hyper::Response::new(Body::full(body));
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

/// A `PlainTextResponse(text, status_code=status)` (the middleware's 400s, CORS preflights).
pub(crate) fn plain_text(status: StatusCode, text: impl Into<Bytes>) -> HttpResponse {
    with_body(status, &PLAIN_TEXT, text)
}

/// A `RedirectResponse(url)`: 307, an empty body, `location` (already quoted).
pub(crate) fn redirect(location: HeaderValue) -> HttpResponse {
    let mut resp = hyper::Response::new(Body::full(Bytes::new()));
    *resp.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    let h = resp.headers_mut();
    h.insert(SERVER, SERVER_NAME.clone());
    h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    h.insert(hyper::header::LOCATION, location);
    resp
}

/// Pydantic's error type and message for a path parameter that did not convert.
pub(crate) fn bad_param_error(err: &ConversionError) -> (&'static str, &'static str) {
    match err.converter {
        Converter::Int => ("int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
        Converter::Float => ("float_parsing", "Input should be a valid number, unable to parse string as a number"),
        Converter::Str | Converter::Path => ("string_type", "Input should be a valid string"),
    }
}

/// The 422 FastAPI sends when path parameters do not parse as their declared types.
pub(crate) fn bad_param(errors: &[ConversionError]) -> HttpResponse {
    let mut body = Vec::with_capacity(160 * errors.len());
    body.extend_from_slice(b"{\"detail\":[");
    for (i, err) in errors.iter().enumerate() {
        let (kind, msg) = bad_param_error(err);
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{\"type\":");
        write_str(kind, &mut body);
        body.extend_from_slice(b",\"loc\":[\"path\",");
        write_str(&err.name, &mut body);
        body.extend_from_slice(b"],\"msg\":");
        write_str(msg, &mut body);
        body.extend_from_slice(b",\"input\":");
        write_str(&err.input, &mut body);
        body.push(b'}');
    }
    body.extend_from_slice(b"]}");
    with_body(StatusCode::UNPROCESSABLE_ENTITY, &JSON, body)
}

/// What the converter may need to know of the request (a file response answers `Range` and
/// `HEAD` itself).
pub(crate) struct RequestHead<'a> {
    pub(crate) method: &'a str,
    pub(crate) headers: &'a HeaderMap,
}

/// Converts what a handler returned. An `Err` means the value could not be sent (for example
/// an unserialisable type); the caller reports it like any handler exception.
/// `context` is the handler's `contextvars` context: a background task and a streamed body's
/// iterator run in it, as they would in the handler's own task under FastAPI.
pub(crate) fn from_python(
    obj: &Bound<'_, PyAny>,
    head: &RequestHead<'_>,
    context: Option<&Py<PyAny>>,
) -> PyResult<HttpResponse> {
    let py = obj.py();
    let hooks = hooks::get();
    if let Ok(bytes) = obj.cast_exact::<PyBytes>() {
        return Ok(with_body(StatusCode::OK, &OCTETS, Bytes::copy_from_slice(bytes.as_bytes())));
    }
    if let Ok(reply) = obj.cast_exact::<JsonReply>() {
        let reply = reply.get();
        return Ok(with_body(reply.status, &JSON, Bytes::copy_from_slice(reply.body.bind(py).as_bytes())));
    }
    if let Some(h) = hooks {
        if obj.is_instance(h.response_type.bind(py))? {
            return from_response_object(obj, head, context);
        }
    }
    assert!(!obj.is_instance_of::<PanicProbe>(), "PanicProbe reached the response converter");
    let fallback = hooks.map(|h| h.jsonable.bind(py));
    let body = Encoder::new(py, fallback).encode(obj)?;
    Ok(with_body(StatusCode::OK, &JSON, body))
}

/// Reads a `fastcore.Response`: `status_code`, `body` (bytes), `raw_headers` (a list of
/// `(name, value)` pairs, str or bytes) and `background`.
fn from_response_object(
    obj: &Bound<'_, PyAny>,
    head: &RequestHead<'_>,
    context: Option<&Py<PyAny>>,
) -> PyResult<HttpResponse> {
    let py = obj.py();
    let mut status = obj.getattr(intern!(py, "status_code"))?;
    let mut raw_headers = obj.getattr(intern!(py, "raw_headers"))?;
    // `whole`: the length of a whole body, which hyper frames by; a declared one must match it.
    let (body, whole) = match obj.getattr_opt(intern!(py, "body"))? {
        Some(body) => {
            let bytes = bytes_of(&body)?;
            let len = bytes.len();
            (Body::full(bytes), Some(len))
        }
        None if obj.hasattr(intern!(py, "_stream_into"))? => (Body::stream(stream::start(obj, context)?), None),
        None if obj.hasattr(intern!(py, "_file_plan"))? => {
            let range = header_str(head.headers, &RANGE);
            let if_range = header_str(head.headers, &IF_RANGE);
            let plan = obj.call_method1(intern!(py, "_file_plan"), (head.method, range, if_range))?;
            // A 400 or 416 answer, which (as Starlette's) runs no background task.
            if !plan.is_instance_of::<PyTuple>() {
                return from_response_object(&plan, head, context);
            }
            let (plan_status, plan_headers, path, pieces): (
                Bound<'_, PyAny>,
                Bound<'_, PyAny>,
                String,
                Bound<'_, PyList>,
            ) = plan.extract()?;
            (status, raw_headers) = (plan_status, plan_headers);
            (file::body(&path, &pieces)?, None)
        }
        // A mount's response, made in Rust, that a Python middleware passed on.
        None => match obj.getattr_opt(intern!(py, "_answer"))? {
            Some(answer) => (answer.cast::<Answer>()?.get().take_body()?, None),
            None => return Err(PyTypeError::new_err("a Response needs a `body` (or a `body_iterator`)")),
        },
    };
    let status: u16 = status.extract()?;
    let status =
        StatusCode::from_u16(status).map_err(|_| PyTypeError::new_err(format!("invalid HTTP status code {status}")))?;
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = status;
    copy_headers(&raw_headers, resp.headers_mut(), whole)?;
    if let Some(background) = obj.getattr_opt(intern!(py, "background"))?.filter(|b| !b.is_none()) {
        let context = context.map(|c| c.clone_ref(py));
        if resp.body().has_after() {
            // A mount's body with its own background task: that one runs first, then this.
            let inner = std::mem::replace(resp.body_mut(), Body::full(Bytes::new()));
            *resp.body_mut() = Body::boxed(Box::pin(inner));
        }
        resp.body_mut().set_after(AfterSend::new(background.unbind(), context));
    }
    Ok(resp)
}

/// A request header as str (latin-1, as ASGI servers decode them), if present.
fn header_str(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers.get(name).map(|v| v.as_bytes().iter().map(|&b| char::from(b)).collect())
}

/// Copies `raw_headers` into `headers` in order, after fastcore's `server` header.
///
/// A whole body's `content-length` is kept (where Starlette puts it) only if it is the body's
/// length; a wrong one is left out, and hyper writes the right one. A stream's or file's is
/// kept, as Starlette keeps it: hyper then frames the body by it instead of chunking it.
fn copy_headers(raw: &Bound<'_, PyAny>, headers: &mut HeaderMap, whole: Option<usize>) -> PyResult<()> {
    headers.insert(SERVER, SERVER_NAME.clone());
    for pair in raw.cast::<PyList>()?.iter() {
        let pair = pair.cast_into::<PyTuple>()?;
        let (name, value) = (pair.get_item(0)?, pair.get_item(1)?);
        let name = latin1(&name, |b| HeaderName::from_bytes(b).ok())?
            .ok_or_else(|| PyTypeError::new_err(format!("invalid header name {name}")))?;
        if name == CONTENT_LENGTH {
            if let Some(len) = whole {
                if latin1(&value, |b| b != itoa::Buffer::new().format(len).as_bytes())? {
                    continue;
                }
            }
        }
        let value = latin1(&value, |b| HeaderValue::from_bytes(b).ok())?
            .ok_or_else(|| PyTypeError::new_err(format!("invalid value for header {name}")))?;
        headers.append(name, value);
    }
    Ok(())
}

/// Hands `f` a header name or value as bytes: a str encoded as latin-1 (as Starlette encodes
/// headers), or bytes as they are.
fn latin1<R>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str()?;
        if s.is_ascii() {
            return Ok(f(s.as_bytes()));
        }
        let bytes = s
            .chars()
            .map(|c| u8::try_from(u32::from(c)))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| PyTypeError::new_err(format!("header {s:?} cannot be encoded as latin-1")))?;
        return Ok(f(&bytes));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(f(b.as_bytes()));
    }
    Err(PyTypeError::new_err("header names and values must be str or bytes"))
}

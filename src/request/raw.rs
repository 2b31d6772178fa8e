//! The request as Python sees it: a frozen, read-only record built only for handlers that ask.
//!
//! Handlers that take just path parameters never pay for this object. The Python-side
//! `fastcore.Request` wraps it and adds the conveniences (query params, cookies, JSON).

use std::net::SocketAddr;

use hyper::http::request::Parts;
use hyper::{HeaderMap, Method, Uri};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::request::body::BodySlot;
use crate::request::form::{self, MultipartArgs};
use crate::request::multipart::Limits;
use crate::runtime::Awaitable;

#[pyclass(frozen, module = "fastcore._core", name = "RawRequest")]
pub(crate) struct RawRequest {
    /// The request line's method and target, moved out of hyper's parts (not copied).
    method: Method,
    uri: Uri,
    http_version: &'static str,
    /// The scheme is https: the connection is TLS, or a trusted proxy says so.
    https: bool,
    headers: HeaderMap,
    client: SocketAddr,
    body: BodySlot,
    route: String,
    path_params: Py<PyDict>,
    /// The prefixes of the mounts the request came through ("" at the served app's level).
    root_path: String,
    /// `request.state`, made on first use and shared by every `Request` over this record (a
    /// middleware's and the handler's).
    state: std::sync::OnceLock<Py<PyAny>>,
}

/// Marks a request whose scheme is https, in its extensions: it came over TLS (set by the
/// connection's service), or reached a trusted proxy over https (`X-Forwarded-Proto`, set by
/// the dispatcher).
#[derive(Clone, Copy)]
pub(crate) struct Https;

impl RawRequest {
    pub(crate) fn new(
        parts: Parts,
        client: SocketAddr,
        body: BodySlot,
        route: &str,
        path_params: Py<PyDict>,
        root_path: String,
    ) -> Self {
        let http_version = match parts.version {
            hyper::Version::HTTP_10 => "1.0",
            hyper::Version::HTTP_2 => "2",
            _ => "1.1",
        };
        Self {
            method: parts.method,
            uri: parts.uri,
            http_version,
            https: parts.extensions.get::<Https>().is_some(),
            headers: parts.headers,
            client,
            body,
            route: route.to_owned(),
            path_params,
            root_path,
            state: std::sync::OnceLock::new(),
        }
    }

    /// Makes `state` this request's `request.state` (the middleware's, for a mounted app's
    /// handler); a no-op if it has one already.
    pub(crate) fn share_state(&self, state: Py<PyAny>) {
        let _ = self.state.set(state);
    }

    pub(crate) fn method_str(&self) -> &str {
        self.method.as_str()
    }

    fn query_str(&self) -> &str {
        self.uri.query().unwrap_or("")
    }

    pub(crate) fn header_map(&self) -> &HeaderMap {
        &self.headers
    }
}

#[pymethods]
impl RawRequest {
    #[getter]
    fn method(&self) -> &str {
        self.method.as_str()
    }

    /// The path as sent, still percent-encoded.
    #[getter]
    fn raw_path(&self) -> &str {
        self.uri.path()
    }

    #[getter]
    fn query_string(&self) -> &str {
        self.query_str()
    }

    /// The query string decoded into `(name, value)` pairs (`+` and `%XX` decoded, blanks
    /// kept), in order; what `urllib.parse.parse_qsl(..., keep_blank_values=True)` returns.
    #[getter]
    fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query_str().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    /// The decoded query as `{name: [values...]}` (each list in arrival order), what the
    /// dependency solver looks parameters up in; built in one pass, without the pairs list.
    fn query_lists<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in form_urlencoded::parse(self.query_str().as_bytes()) {
            append_value(&dict, &PyString::new(py, &k), PyString::new(py, &v))?;
        }
        Ok(dict)
    }

    /// The headers as `{lower-case name: [values...]}` (latin-1 values, arrival order).
    fn header_lists<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in &self.headers {
            append_value(&dict, &PyString::new(py, name.as_str()), latin1_str(py, value.as_bytes()))?;
        }
        Ok(dict)
    }

    /// The first value of one header (latin-1), None if absent; `name` must be lower-case.
    fn header(&self, py: Python<'_>, name: &str) -> Option<Py<PyString>> {
        self.headers.get(name).map(|v| latin1_str(py, v.as_bytes()).unbind())
    }

    #[getter]
    fn http_version(&self) -> &'static str {
        self.http_version
    }

    /// Header pairs in arrival order; names are lower-case, values decoded as latin-1.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (name, value) in &self.headers {
            list.append(PyTuple::new(py, [PyString::new(py, name.as_str()), latin1_str(py, value.as_bytes())])?)?;
        }
        Ok(list)
    }

    /// "https" over TLS or when a trusted proxy says so (`X-Forwarded-Proto`), else "http".
    #[getter]
    fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    #[getter]
    fn client(&self) -> (String, u16) {
        (self.client.ip().to_string(), self.client.port())
    }

    /// The whole body, when it has been read: always for sync handlers; for async ones after
    /// `await read_body()`.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        match self.body.read() {
            Some(b) => Ok(b.to_py(py)),
            None => Err(PyRuntimeError::new_err(
                "the body of a request to an async handler is read with `await request.body()`",
            )),
        }
    }

    /// The request's state object: the one made by the first call's `make()`.
    fn state(&self, py: Python<'_>, make: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(state) = self.state.get() {
            return Ok(state.clone_ref(py));
        }
        let fresh = make.call0()?.unbind();
        Ok(self.state.get_or_init(|| fresh).clone_ref(py))
    }

    /// An awaitable for the whole body.
    fn read_body(&self) -> PyResult<Awaitable> {
        self.body.read_all()
    }

    /// An awaitable for the next chunk of the body, None at the end.
    fn next_chunk(&self) -> PyResult<Awaitable> {
        self.body.next_chunk()
    }

    /// A multipart body already read (sync handlers), parsed: see `request/form.rs`.
    // The arguments are the Python signature's (Starlette's three limits and the spool size).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (boundary, charset, max_files, max_fields, max_part_size, spool_max))]
    fn parse_multipart(
        &self,
        py: Python<'_>,
        boundary: &[u8],
        charset: &str,
        max_files: usize,
        max_fields: usize,
        max_part_size: usize,
        spool_max: usize,
    ) -> PyResult<Py<PyList>> {
        let limits = Limits { max_files, max_fields, max_part_size, spool_max };
        form::parse_read(py, &self.body, &MultipartArgs { boundary, charset, limits })
    }

    /// An awaitable parsing the multipart body as it arrives (or as read): see `request/form.rs`.
    #[pyo3(signature = (boundary, charset, max_files, max_fields, max_part_size, spool_max))]
    fn read_multipart(
        &self,
        boundary: &[u8],
        charset: &str,
        max_files: usize,
        max_fields: usize,
        max_part_size: usize,
        spool_max: usize,
    ) -> PyResult<Awaitable> {
        let limits = Limits { max_files, max_fields, max_part_size, spool_max };
        form::read(&self.body, &MultipartArgs { boundary, charset, limits })
    }

    /// The route pattern that matched, e.g. `/users/{user_id:int}`.
    #[getter]
    fn route(&self) -> &str {
        &self.route
    }

    /// The prefixes of the mounts that led to this app (`/v2` for a request to an app mounted
    /// at `/v2`), "" for the served app's own routes: Starlette's `scope["root_path"]` less
    /// any server-level root path.
    #[getter]
    fn root_path(&self) -> &str {
        &self.root_path
    }

    #[getter]
    fn path_params(&self, py: Python<'_>) -> Py<PyDict> {
        self.path_params.clone_ref(py)
    }

    fn __repr__(&self) -> String {
        format!("<RawRequest {} {}>", self.method, self.uri.path())
    }
}

/// Bytes as a str, one code point per byte (latin-1, as ASGI servers decode header values).
fn latin1_str<'py>(py: Python<'py>, bytes: &[u8]) -> Bound<'py, PyString> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => PyString::new(py, s),
        _ => PyString::new(py, &bytes.iter().map(|&b| char::from(b)).collect::<String>()),
    }
}

/// `dict.setdefault(key, []).append(value)`.
fn append_value<'py>(
    dict: &Bound<'py, PyDict>,
    key: &Bound<'py, PyString>,
    value: Bound<'py, PyString>,
) -> PyResult<()> {
    match dict.get_item(key)? {
        Some(list) => list.cast_into::<PyList>()?.append(value),
        None => dict.set_item(key, PyList::new(dict.py(), [value])?),
    }
}

//! The engine of `fastcore.http`: outgoing HTTP/1.1 requests on the awaiting worker's runtime.
//!
//! `HttpClient.request(...)` checks and converts everything Python hands it up front, then
//! returns an `Awaitable` whose future owns only Rust data (no Python objects), so dropping it
//! (client disconnect, timeout, cancelled sibling) simply drops the hyper request. Python
//! objects are made only in the completion, once the worker is attached again: the response
//! becomes a `fastcore.http.Response`, a failure one of the `fastcore.http` exceptions.
//!
//! Connections come from hyper-util's legacy pooled client. Its connection tasks are spawned on
//! the runtime that is current when a request is issued, i.e. on the worker awaiting it, since
//! the request is issued inside the awaited future. Each worker thread gets its own pool: a
//! pooled connection only makes progress while the runtime that opened it runs, and a worker
//! busy in a sync handler (or stopped) would otherwise stall the requests of the others.

use std::error::Error as StdError;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::runtime::{Awaitable, Completion};
use crate::util::lock;

type Pool = Client<HttpConnector, Full<Bytes>>;

/// Idle connections are closed after this long. Short, like httpx's default, because many
/// servers drop idle keep-alive connections after ~5 s, and reusing one they are closing fails
/// the request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

const DEFAULT_USER_AGENT: &str = concat!("fastcore/", env!("CARGO_PKG_VERSION"));

/// One pool per worker thread, created on first use. Threads are the workers, which live as
/// long as the server, so the list stays as short as the number of workers.
#[derive(Default)]
struct Pools(Mutex<Vec<(ThreadId, Pool)>>);

impl Pools {
    /// The calling thread's pool; call it only inside a Tokio runtime (inside the future).
    fn current(&self) -> Pool {
        let me = std::thread::current().id();
        let mut pools = lock(&self.0);
        if let Some((_, pool)) = pools.iter().find(|(id, _)| *id == me) {
            return pool.clone();
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let pool: Pool = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build(connector);
        pools.push((me, pool.clone()));
        pool
    }
}

/// The pooled client behind `fastcore.http.Client`; cheap to create, safe to share between
/// worker threads.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct HttpClient {
    pools: Arc<Pools>,
}

#[pymethods]
impl HttpClient {
    #[new]
    fn new() -> Self {
        Self { pools: Arc::default() }
    }

    /// `request(method, url, headers, body=None, timeout=None)`: an awaitable of a
    /// `fastcore.http.Response`. `headers` is a list of `(name, value)` string pairs; `timeout`
    /// bounds the whole exchange, body included. Bad input raises `ValueError` right away.
    #[pyo3(signature = (method, url, headers, body = None, timeout = None))]
    fn request(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<&[u8]>,
        timeout: Option<f64>,
    ) -> PyResult<Awaitable> {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| PyValueError::new_err(format!("invalid HTTP method {method:?}")))?;
        let uri = parse_url(url)?;
        let limit = timeout.map(seconds).transpose()?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Full::new(body.map(Bytes::copy_from_slice).unwrap_or_default()))
            .map_err(|e| PyValueError::new_err(format!("invalid request for {url}: {e}")))?;
        fill_headers(request.headers_mut(), headers)?;
        let pools = Arc::clone(&self.pools);
        let target = Target { method: method.to_string(), url: url.to_owned() };
        Ok(Awaitable::new("fastcore.http", async move {
            let exchange = send(pools.current(), request);
            let outcome = match limit {
                Some(limit) => tokio::time::timeout(limit, exchange).await.unwrap_or(Err(Failure::Timeout(limit))),
                None => exchange.await,
            };
            match outcome {
                Ok(received) => Box::new(move |py: Python<'_>| received.into_response(py, &target)) as Completion,
                Err(failure) => Box::new(move |py: Python<'_>| Err(failure.into_pyerr(py, &target))),
            }
        }))
    }

    /// Drops the idle pooled connections; the client stays usable and reconnects as needed.
    fn close(&self) {
        let pools = std::mem::take(&mut *lock(&self.pools.0));
        drop(pools);
    }

    fn __repr__(&self) -> String {
        format!("<fastcore._core.HttpClient pools={}>", lock(&self.pools.0).len())
    }
}

fn parse_url(url: &str) -> PyResult<Uri> {
    let uri: Uri = url.parse().map_err(|e| PyValueError::new_err(format!("invalid URL {url:?}: {e}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(s) if s.eq_ignore_ascii_case("https") => {
            return Err(PyValueError::new_err(format!(
                "https is not supported yet by fastcore.http (plain http:// only): {url}"
            )));
        }
        Some(s) => {
            return Err(PyValueError::new_err(format!("unsupported URL scheme {s:?} in {url}: use http://")));
        }
        None => return Err(PyValueError::new_err(format!("URL must be absolute, like http://host/path: {url:?}"))),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(PyValueError::new_err(format!("URL has no host: {url:?}")));
    }
    Ok(uri)
}

fn seconds(value: f64) -> PyResult<Duration> {
    if value.is_nan() || value < 0.0 {
        return Err(PyValueError::new_err(format!("timeout must be a non-negative number of seconds, not {value}")));
    }
    Ok(Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX / 2))
}

fn fill_headers(map: &mut HeaderMap, headers: Vec<(String, String)>) -> PyResult<()> {
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| PyValueError::new_err(format!("invalid header name {name:?}")))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| PyValueError::new_err(format!("invalid value for header {name:?}: {value:?}")))?;
        map.append(header, value);
    }
    if !map.contains_key(USER_AGENT) {
        map.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    Ok(())
}

/// What the request was, for messages and for the `Response`.
struct Target {
    method: String,
    url: String,
}

struct Received {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

enum Failure {
    Connect(String),
    Timeout(Duration),
    Other(String),
}

/// Sends the request and reads the whole body. Runs inside the worker's runtime, where hyper
/// spawns the connection task.
async fn send(pool: Pool, request: Request<Full<Bytes>>) -> Result<Received, Failure> {
    let response = pool.request(request).await.map_err(|e| {
        if e.is_connect() {
            Failure::Connect(causes(&e))
        } else {
            Failure::Other(causes(&e))
        }
    })?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| Failure::Other(format!("reading the body: {}", causes(&e))))?;
    // The connection goes back to the pool only once its task (on this same runtime) has seen
    // the response end. Give it that turn now, or a request issued right after this one finds
    // the pool empty and opens a second connection.
    tokio::task::yield_now().await;
    Ok(Received { status: parts.status.as_u16(), headers: parts.headers, body: body.to_bytes() })
}

/// The error and its causes, innermost last, skipping hyper-util's opaque "client error (..)"
/// wrapper when it has a cause that says more.
fn causes(e: &(dyn StdError + 'static)) -> String {
    let mut parts = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        parts.push(err.to_string());
        next = err.source();
    }
    if parts.len() > 1 && parts[0].starts_with("client error") {
        parts.remove(0);
    }
    parts.dedup();
    parts.join(": ")
}

impl Received {
    fn into_response(self, py: Python<'_>, target: &Target) -> PyResult<Py<PyAny>> {
        let headers = PyList::empty(py);
        for (name, value) in &self.headers {
            // Header values are bytes on the wire; anything not UTF-8 is read as Latin-1.
            let value = value
                .to_str()
                .map_or_else(|_| value.as_bytes().iter().map(|&b| char::from(b)).collect(), str::to_owned);
            headers.append(PyTuple::new(py, [name.as_str().to_owned(), value])?)?;
        }
        let kwargs = PyDict::new(py);
        kwargs.set_item("method", &target.method)?;
        kwargs.set_item("url", &target.url)?;
        let body = PyBytes::new(py, &self.body);
        Ok(python_class(py, "Response")?.call((self.status, headers, body), Some(&kwargs))?.unbind())
    }
}

impl Failure {
    fn into_pyerr(self, py: Python<'_>, target: &Target) -> PyErr {
        let Target { method, url } = target;
        let (class, message) = match self {
            Failure::Connect(why) => ("ConnectError", format!("{method} {url}: could not connect: {why}")),
            Failure::Timeout(limit) => {
                ("TimeoutError", format!("{method} {url}: no complete response within {}s", limit.as_secs_f64()))
            }
            Failure::Other(why) => ("HTTPError", format!("{method} {url}: {why}")),
        };
        let make = || -> PyResult<PyErr> {
            let kwargs = PyDict::new(py);
            kwargs.set_item("method", method)?;
            kwargs.set_item("url", url)?;
            Ok(PyErr::from_value(python_class(py, class)?.call((message,), Some(&kwargs))?))
        };
        make().unwrap_or_else(|e| e)
    }
}

/// A class of `fastcore.http`, imported once; the module imports `_core`, not the reverse.
fn python_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE.get_or_try_init(py, || py.import("fastcore.http").map(Bound::unbind))?;
    module.bind(py).getattr(name)
}

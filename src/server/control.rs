//! The server object Python drives: bind, start the workers, stop them, wait for them.
//!
//! All workers accept from clones of one listening socket, so whichever worker is idle takes
//! the next connection; a worker busy in a long handler does not get new work queued behind
//! it, as it would with per-worker `SO_REUSEPORT` hashing. `SO_REUSEPORT` is set only when
//! asked (`--workers N` forks processes that must share the port); otherwise a second server
//! on a busy port fails to bind instead of silently splitting its traffic.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::{watch, Semaphore};

use crate::dispatch::{Config, Proxies};
use crate::middleware::Plan;
use crate::routing::PyRouter;
use crate::server::limits::ConnLimits;
use crate::server::malloc;
use crate::server::protocol::{Http2Limits, HttpVersions, Protocols};
use crate::server::tls::{self, TlsError};
use crate::server::worker::{Liveness, Load, Worker};
use crate::util::lock;
use crate::ws::{OpenSockets, WsLimits};

#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Server {
    config: Arc<Config>,
    limits: Arc<ConnLimits>,
    protocols: Arc<Protocols>,
    /// "http" or "https", for the start-up line.
    scheme: &'static str,
    host: String,
    port: u16,
    threads: usize,
    reuse_port: bool,
    drain: Duration,
    liveness: Arc<Liveness>,
    /// The largest body or WebSocket message, for glibc malloc's thresholds (`server::malloc`);
    /// None: leave them.
    tune_malloc: Option<usize>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    shutdown: Option<watch::Sender<bool>>,
    handles: Vec<JoinHandle<()>>,
    bound: Option<SocketAddr>,
    /// One more handle on the listening socket, to stop it listening at `stop`.
    listener: Option<TcpListener>,
}

#[pymethods]
impl Server {
    #[new]
    #[pyo3(signature = (
        router, host, port, threads, *, max_body = 16 * 1024 * 1024, drain_timeout = 10.0, access_log = None,
        reuse_port = false, max_header_size = 16 * 1024, max_headers = 100, max_uri = 8 * 1024,
        header_timeout = 30.0, keep_alive_timeout = 5.0, body_timeout = 60.0, handler_timeout = None,
        max_connections = None, forwarded_allow_ips = None, ssl_certfile = None, ssl_keyfile = None,
        ssl_keyfile_password = None, http = None, h2_max_concurrent_streams = 100,
        ws_max_message_size = 16 * 1024 * 1024, ws_idle_timeout = Some(60.0), ws_ping_interval = Some(20.0),
        middleware = None, tune_malloc = true,
    ))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments one to one
    fn new(
        router: &Bound<'_, PyRouter>,
        host: String,
        port: u16,
        threads: usize,
        max_body: usize,
        drain_timeout: f64,
        access_log: Option<Py<PyAny>>,
        reuse_port: bool,
        max_header_size: usize,
        max_headers: usize,
        max_uri: usize,
        header_timeout: f64,
        keep_alive_timeout: f64,
        body_timeout: f64,
        handler_timeout: Option<f64>,
        max_connections: Option<usize>,
        forwarded_allow_ips: Option<&str>,
        ssl_certfile: Option<PathBuf>,
        ssl_keyfile: Option<PathBuf>,
        ssl_keyfile_password: Option<&str>,
        http: Option<&str>,
        h2_max_concurrent_streams: u32,
        ws_max_message_size: usize,
        ws_idle_timeout: Option<f64>,
        ws_ping_interval: Option<f64>,
        middleware: Option<&Bound<'_, PyAny>>,
        tune_malloc: bool,
    ) -> PyResult<Self> {
        let proxies = forwarded_allow_ips.map(Proxies::parse).transpose().map_err(PyValueError::new_err)?;
        if threads == 0 {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        let drain_timeout = seconds("drain_timeout", drain_timeout)?;
        if max_header_size < 1024 || max_headers == 0 || max_uri == 0 || max_connections == Some(0) {
            return Err(PyValueError::new_err(
                "max_header_size must be at least 1024; max_headers, max_uri and max_connections at least 1",
            ));
        }
        let limits = ConnLimits {
            max_header_size,
            max_headers,
            header_timeout: positive("header_timeout", header_timeout)?,
            keep_alive_timeout: positive("keep_alive_timeout", keep_alive_timeout)?,
            connections: max_connections.map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))),
        };
        if h2_max_concurrent_streams == 0 {
            return Err(PyValueError::new_err("h2_max_concurrent_streams must be at least 1"));
        }
        let versions = HttpVersions::parse(http, ssl_certfile.is_some()).map_err(PyValueError::new_err)?;
        let tls = match (&ssl_certfile, &ssl_keyfile) {
            (None, None) if ssl_keyfile_password.is_none() => None,
            (Some(cert), Some(key)) => {
                Some(tls::server_config(cert, key, ssl_keyfile_password, versions).map_err(|e| match e {
                    TlsError::Io(msg) => PyOSError::new_err(msg),
                    TlsError::Invalid(msg) => PyValueError::new_err(msg),
                })?)
            }
            _ => {
                return Err(PyValueError::new_err(
                    "TLS needs both ssl_certfile and ssl_keyfile (ssl_keyfile_password only with them)",
                ))
            }
        };
        let protocols =
            Protocols::new(versions, tls, &limits, &Http2Limits { max_concurrent_streams: h2_max_concurrent_streams });
        let handler_timeout = handler_timeout.map(|t| positive("handler_timeout", t)).transpose()?;
        if ws_max_message_size == 0 {
            return Err(PyValueError::new_err("ws_max_message_size must be at least 1"));
        }
        let ws = WsLimits {
            max_message: ws_max_message_size,
            idle_timeout: ws_idle_timeout.map(|t| positive("ws_idle_timeout", t)).transpose()?,
            ping_interval: ws_ping_interval.map(|t| positive("ws_ping_interval", t)).transpose()?,
        };
        let table = Arc::clone(&router.get().routes);
        Ok(Self {
            config: Arc::new(Config {
                routes: table,
                max_body,
                max_uri,
                body_timeout: positive("body_timeout", body_timeout)?,
                handler_timeout,
                access_log,
                proxies,
                ws,
                ws_open: OpenSockets::new(),
                middleware: middleware.map(Plan::from_python).transpose()?.flatten(),
            }),
            limits: Arc::new(limits),
            scheme: if ssl_certfile.is_some() { "https" } else { "http" },
            protocols: Arc::new(protocols),
            host,
            port,
            threads,
            reuse_port,
            drain: drain_timeout,
            liveness: Arc::new(Liveness::default()),
            tune_malloc: tune_malloc.then_some(max_body.max(ws_max_message_size)),
            state: Mutex::new(State::default()),
        })
    }

    /// Binds and starts the workers; returns the bound `(host, port)`.
    fn start(&self) -> PyResult<(String, u16)> {
        let mut state = lock(&self.state);
        if state.shutdown.is_some() {
            return Err(PyRuntimeError::new_err("server already started"));
        }
        let listener = bind(&self.host, self.port, self.reuse_port)?;
        let bound = listener.local_addr()?;
        if let Some(largest) = self.tune_malloc {
            malloc::tune(largest);
        }
        let (tx, rx) = watch::channel(false);
        let load: Load = (0..self.threads).map(|_| AtomicUsize::new(0)).collect();
        for index in 0..self.threads {
            let worker = Worker {
                index,
                load: Arc::clone(&load),
                listener: listener.try_clone()?,
                config: Arc::clone(&self.config),
                limits: Arc::clone(&self.limits),
                protocols: Arc::clone(&self.protocols),
                shutdown: rx.clone(),
                drain: self.drain,
                liveness: Arc::clone(&self.liveness),
            };
            state.handles.push(worker.spawn()?);
        }
        state.shutdown = Some(tx);
        state.bound = Some(bound);
        state.listener = Some(listener);
        Ok((bound.ip().to_string(), bound.port()))
    }

    /// Asks every worker to stop accepting and drain. Returns at once; `wait` for the end.
    ///
    /// The listening socket stops listening at once (shut down for reading, which Linux turns
    /// into leaving the LISTEN state): new connections are refused even while a worker is
    /// stuck in a sync handler and cannot drop its own handle on the socket yet; otherwise
    /// they would complete into the backlog and wait, unanswered, until reset.
    fn stop(&self) {
        let state = lock(&self.state);
        if let Some(tx) = &state.shutdown {
            let _ = tx.send(true);
        }
        self.config.ws_open.close_all();
        if let Some(listener) = &state.listener {
            let _ = socket2::SockRef::from(listener).shutdown(std::net::Shutdown::Read);
        }
    }

    /// Waits, detached from the interpreter, until every worker has exited (True) or
    /// `timeout` seconds pass (False). Call it in a loop so Python can run signal handlers.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let timeout = match timeout {
            Some(t) if t.is_finite() && t >= 0.0 => Duration::from_secs_f64(t),
            Some(_) => return Err(PyValueError::new_err("timeout must be a non-negative number")),
            None => Duration::from_secs(u64::from(u32::MAX)),
        };
        let liveness = Arc::clone(&self.liveness);
        let idle = py.detach(move || liveness.wait_idle(timeout));
        if idle {
            let handles = std::mem::take(&mut lock(&self.state).handles);
            py.detach(move || handles.into_iter().for_each(|h| drop(h.join())));
        }
        Ok(idle)
    }

    /// "https" when serving TLS, else "http".
    #[getter]
    fn scheme(&self) -> &'static str {
        self.scheme
    }

    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// The bound `(host, port)`, or None before `start`.
    #[getter]
    fn address(&self) -> Option<(String, u16)> {
        let state = lock(&self.state);
        state.bound.map(|a| (a.ip().to_string(), a.port()))
    }
}

/// A non-negative, finite number of seconds.
fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    if value.is_finite() && value >= 0.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(PyValueError::new_err(format!("{name} must be a non-negative number of seconds")))
    }
}

/// A positive, finite number of seconds.
fn positive(name: &str, value: f64) -> PyResult<Duration> {
    match seconds(name, value) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(PyValueError::new_err(format!("{name} must be a positive number of seconds"))),
    }
}

fn bind(host: &str, port: u16, reuse_port: bool) -> PyResult<TcpListener> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| PyOSError::new_err(format!("cannot resolve {host}:{port}: {e}")))?
        .next()
        .ok_or_else(|| PyOSError::new_err(format!("{host} resolves to no address")))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(reuse_port)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into()).map_err(|e| PyOSError::new_err(format!("cannot bind {addr}: {e}")))?;
    socket.listen(4096)?;
    Ok(socket.into())
}

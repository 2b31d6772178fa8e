//! Which HTTP versions a server speaks, and serving one accepted connection with them.
//!
//! - cleartext, `http="1"` (the default): hyper's HTTP/1 builder on the `TcpStream`, with a
//!   service that does nothing but dispatch (the https mark is compiled out of it);
//! - cleartext, `"2"`: HTTP/2 by prior knowledge (h2c); `"auto"`: the first bytes are peeked
//!   at (not consumed): HTTP/2's connection preface (`PRI * HTTP/2.0…`) picks HTTP/2, anything
//!   else HTTP/1.1;
//! - TLS: the handshake runs in the connection's task on the worker that accepted it (bounded
//!   by the header timeout), then ALPN's choice picks the builder: `h2` → HTTP/2, anything
//!   else (`http/1.1`, or no ALPN) → HTTP/1.1.
//!
//! Every connection, plain or not, goes through [`Protocols::serve`]: the worker's accept loop
//! spawns it and nothing else.
//!
//! HTTP/2 streams are spawned with `tokio::spawn` (hyper-util's `TokioExecutor`) onto the same
//! current-thread runtime, so every stream of a connection runs on the worker that accepted it,
//! like HTTP/1.1 requests; the per-request future is `Send` already (Python objects are held
//! as `Py<…>` across awaits), so no local executor is needed.
//!
//! HTTP/2 gets the same limits as HTTP/1.1: `max_header_size` is the advertised
//! `SETTINGS_MAX_HEADER_LIST_SIZE` (beyond it, h2 answers 431 and resets the stream),
//! `max_headers` is checked per request (431), the body, URI and timeouts are the dispatcher's
//! and apply unchanged; `h2_max_concurrent_streams` (default 100) caps streams per connection.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::dispatch::{self, Config};
use crate::request::Https;
use crate::response;
use crate::server::keepalive::{run_connection, Activity, Counted, Tracked};
use crate::server::limits::ConnLimits;

/// The HTTP versions a server speaks (`http=` / `--http`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpVersions {
    One,
    Two,
    Auto,
}

impl HttpVersions {
    /// `"1"`, `"2"` or `"auto"`; None: HTTP/1.1 on cleartext (as before HTTP/2 existed), both by
    /// ALPN on TLS.
    pub(crate) fn parse(text: Option<&str>, tls: bool) -> Result<Self, String> {
        match text {
            None if tls => Ok(Self::Auto),
            None | Some("1") => Ok(Self::One),
            Some("2") => Ok(Self::Two),
            Some("auto") => Ok(Self::Auto),
            Some(other) => Err(format!("http must be \"1\", \"2\" or \"auto\", got {other:?}")),
        }
    }
}

/// HTTP/2 settings beyond the shared limits.
pub(crate) struct Http2Limits {
    /// Concurrent streams a client may open on one connection (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    pub(crate) max_concurrent_streams: u32,
}

/// Everything a worker needs to serve its connections, built once per worker.
pub(crate) struct Protocols {
    versions: HttpVersions,
    tls: Option<TlsAcceptor>,
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    handshake_timeout: Duration,
    keep_alive_timeout: Duration,
    max_headers: usize,
}

impl Protocols {
    pub(crate) fn new(
        versions: HttpVersions,
        tls: Option<Arc<rustls::ServerConfig>>,
        limits: &ConnLimits,
        h2: &Http2Limits,
    ) -> Self {
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(h2.max_concurrent_streams)
            .max_header_list_size(u32::try_from(limits.max_header_size).unwrap_or(u32::MAX))
            // Pings find dead peers of long-lived connections (streams, slow handlers).
            .keep_alive_interval(H2_PING_INTERVAL)
            .keep_alive_timeout(H2_PING_INTERVAL);
        Self {
            versions,
            tls: tls.map(TlsAcceptor::from),
            http1: limits.http(),
            http2,
            handshake_timeout: limits.header_timeout,
            keep_alive_timeout: limits.keep_alive_timeout,
            max_headers: limits.max_headers,
        }
    }

    /// Serves one accepted connection to its end, whatever it speaks, under the keep-alive idle
    /// timeout and graceful shutdown (`keepalive`); a stream in flight keeps an HTTP/2
    /// connection busy as a request does an HTTP/1.1 one. Cleartext HTTP/1.1 (the default)
    /// goes straight to [`Self::serve_io`]: one match per connection, nothing per request.
    pub(crate) async fn serve(
        &self,
        stream: TcpStream,
        config: Arc<Config>,
        peer: SocketAddr,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let Some(acceptor) = &self.tls else {
            let h2 = match self.versions {
                HttpVersions::One => false,
                HttpVersions::Two => true,
                HttpVersions::Auto => {
                    match until_shutdown(&mut shutdown, sniff_preface(&stream, self.handshake_timeout)).await {
                        Some(Some(h2)) => h2,
                        _ => return,
                    }
                }
            };
            self.serve_io(stream, h2, config, peer, shutdown).await;
            return;
        };
        // A client that never finishes its handshake is closed like one that never sends a
        // request head; a failed handshake (bad client hello, no common ALPN) just closes.
        let handshake = tokio::time::timeout(self.handshake_timeout, acceptor.accept(stream));
        let Some(Ok(Ok(stream))) = until_shutdown(&mut shutdown, handshake).await else {
            return;
        };
        let alpn = stream.get_ref().1.alpn_protocol();
        let h2 = alpn == Some(b"h2") || (self.versions == HttpVersions::Two && alpn.is_none());
        self.serve_io(stream, h2, config, peer, shutdown).await;
    }

    /// HTTP/1.1 (with upgrades: a WebSocket handshake hands the stream over, over TLS too) or
    /// HTTP/2 over a byte stream, its reads counted for the keep-alive timeout.
    async fn serve_io<I: Transport>(
        &self,
        io: I,
        h2: bool,
        config: Arc<Config>,
        peer: SocketAddr,
        shutdown: watch::Receiver<bool>,
    ) {
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Counted::new(io, Arc::clone(&activity)));
        let keep_alive = self.keep_alive_timeout;
        if h2 {
            let service = http2_service::<I>(config, peer, self.max_headers, Arc::clone(&activity));
            run_connection(self.http2.serve_connection(io, service), &activity, keep_alive, shutdown).await;
        } else {
            let service = http1_service::<I>(config, peer, Arc::clone(&activity));
            let conn = self.http1.serve_connection(io, service).with_upgrades();
            run_connection(conn, &activity, keep_alive, shutdown).await;
        }
    }
}

/// A connection's byte stream: whether requests on it are https is known from its type, so
/// the service for cleartext carries no TLS check at all.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    const HTTPS: bool;
}

impl Transport for TcpStream {
    const HTTPS: bool = false;
}

impl Transport for TlsStream<TcpStream> {
    const HTTPS: bool = true;
}

/// `work`'s output, or None if the server starts shutting down first.
async fn until_shutdown<F: std::future::Future>(shutdown: &mut watch::Receiver<bool>, work: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        out = work => Some(out),
        _ = shutdown.wait_for(|stopping| *stopping) => None,
    }
}

/// How often an idle HTTP/2 connection is pinged, and how long the answer may take.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);

/// HTTP/2's connection preface, which a client speaking HTTP/2 by prior knowledge sends first.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the client opens with HTTP/2's preface, by peeking at its first bytes (they stay in
/// the socket for hyper to read). "PRI " already rules HTTP/1.1 out (RFC 9113 reserves the
/// method for this); fewer bytes that could still begin either are waited on, up to `timeout`.
/// None: the client closed, or sent too little in time.
async fn sniff_preface(stream: &TcpStream, timeout: Duration) -> Option<bool> {
    const DECISIVE: usize = 4;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = [0u8; DECISIVE];
    loop {
        let n = tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        if buf[..n] != PREFACE[..n] {
            return Some(false);
        }
        if n == DECISIVE {
            return Some(true);
        }
        // A prefix of "PRI " (or of "PUT"/"POST"/"PATCH"): peeking again would return at once
        // with the same bytes, so wait a little for the rest.
        tokio::time::sleep(Duration::from_millis(1)).await;
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
    }
}

/// The per-connection HTTP/1.1 service. Each request counts as in flight on the connection
/// (for the keep-alive timeout) until hyper drops its response body; requests over TLS are
/// marked https (a constant per transport, so cleartext HTTP/1.1 pays nothing for it).
fn http1_service<I: Transport>(
    config: Arc<Config>,
    peer: SocketAddr,
    activity: Arc<Activity>,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<Tracked>,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<hyper::Response<Tracked>, Infallible>> + Send,
> + Clone
       + Send {
    service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let config = Arc::clone(&config);
        let busy = activity.begin();
        async move {
            if I::HTTPS {
                req.extensions_mut().insert(Https);
            }
            Ok(dispatch::serve(req, &config, peer).await.map(|body| Tracked::new(body, busy)))
        }
    })
}

/// The per-connection HTTP/2 service: as [`http1_service`], and each request gets a `host`
/// header from `:authority` (as HTTP/1.1 clients send it; `request.url` is built from it) and
/// the `max_headers` check (hyper's HTTP/1 parser applies it by itself).
///
/// hyper spawns every stream's future as a task, moving it through several calls on the way;
/// the dispatcher's future is large, so it is boxed here once and only a pointer moves
/// (those copies were 14% of an h2c JSON hello's CPU time).
fn http2_service<I: Transport>(
    config: Arc<Config>,
    peer: SocketAddr,
    max_headers: usize,
    activity: Arc<Activity>,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<Tracked>,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<hyper::Response<Tracked>, Infallible>> + Send,
> + Clone
       + Send {
    service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let config = Arc::clone(&config);
        let busy = activity.begin();
        Box::pin(async move {
            let tracked = |resp: hyper::Response<response::Body>| resp.map(|body| Tracked::new(body, busy));
            if I::HTTPS {
                req.extensions_mut().insert(Https);
            }
            if req.headers().len() > max_headers {
                return Ok(tracked(response::detail(
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "Request Header Fields Too Large",
                )));
            }
            if !req.headers().contains_key(hyper::header::HOST) {
                if let Some(host) = req.uri().authority().and_then(|a| a.as_str().parse().ok()) {
                    req.headers_mut().insert(hyper::header::HOST, host);
                }
            }
            Ok(tracked(dispatch::serve(req, &config, peer).await))
        })
    })
}

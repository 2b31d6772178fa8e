//! The upgrade handshake: from an HTTP/1.1 upgrade request to a handler serving the socket.
//!
//! An upgrade request (`GET`, `Connection: upgrade`, `Upgrade: websocket`) is routed against
//! the WebSocket routes only, as Starlette routes the `websocket` scope: the app's own, then
//! those of the apps mounted in it. No route, or a route whose path parameters do not convert,
//! is a 403. Otherwise the endpoint is called with the request record and a
//! [`WebSocketChannel`], and its coroutine is spawned as its own task on this worker, to
//! outlive the request: the service future waits only for the handler's decision (`accept` →
//! 101 with the subprotocol and headers it chose, `close` → 403, `send_denial_response` → that
//! response, failure or return without any → 500). hyper hands the connection over once the
//! 101 is written.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL};
use hyper::header::{SEC_WEBSOCKET_VERSION, UPGRADE};
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use pyo3::prelude::*;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::request::{BodySlot, RawRequest, Source};
use crate::response::{self, Body, HttpResponse};
use crate::routing::{params_dict, Endpoint, Lookup, Params, Routes, Target};
use crate::runtime::{self, Task};
use crate::ws::channel::{Decision, Session, WebSocketChannel};
use crate::ws::{OpenSockets, WsLimits};

/// An HTTP/1.1 request asking to become a WebSocket.
pub(crate) fn is_upgrade<B>(req: &hyper::Request<B>) -> bool {
    let h = req.headers();
    req.method() == Method::GET
        && h.get(UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
        && h.get_all(CONNECTION).iter().any(|v| has_token(v.as_bytes(), b"upgrade"))
}

fn has_token(list: &[u8], token: &[u8]) -> bool {
    list.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

pub(crate) async fn serve(
    mut req: hyper::Request<Incoming>,
    routes: &Routes,
    limits: &WsLimits,
    open: &Arc<OpenSockets>,
    peer: SocketAddr,
) -> HttpResponse {
    let key = match check(&req) {
        Ok(key) => key,
        Err(Refused::Version) => {
            let mut resp = response::detail(StatusCode::UPGRADE_REQUIRED, "Unsupported WebSocket version");
            resp.headers_mut().insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            return resp;
        }
        Err(Refused::Bad(why)) => return response::detail(StatusCode::BAD_REQUEST, why),
    };
    let upgrade = hyper::upgrade::on(&mut req);
    let (parts, _) = req.into_parts();
    let (decide, decision) = oneshot::channel();
    let session = Session::new(decide, upgrade, limits.clone(), Arc::clone(open));
    let Some(found) = find(routes, parts.uri.path(), "") else { return forbidden() };
    let task = Python::attach(|py| {
        start(py, found, parts, peer, &session).map_err(|e| {
            e.print(py);
        })
    });
    let Ok(task) = task else { return response::internal_error() };
    let finished = Arc::clone(&session);
    drop(session);
    let counted = open.opened();
    tokio::spawn(async move {
        let _counted = counted;
        // The Python side reports the handler's exceptions; here they only pick the code.
        let code = if runtime::start(task).await.is_ok() { 1000 } else { 1011 };
        finished.handler_finished(code);
    });
    match decision.await {
        Ok(Decision::Accept { subprotocol, headers }) => switching(&key, subprotocol, headers),
        Ok(Decision::Reject) => forbidden(),
        Ok(Decision::Deny(response)) => response,
        Ok(Decision::Fail) | Err(_) => response::internal_error(),
    }
}

/// Why a handshake cannot be taken: a version other than 13 (426), or a bad request (400).
enum Refused {
    Version,
    Bad(&'static str),
}

/// The key to answer.
fn check(req: &hyper::Request<Incoming>) -> Result<HeaderValue, Refused> {
    if req.version() != hyper::Version::HTTP_11 {
        return Err(Refused::Bad("WebSocket upgrades need HTTP/1.1"));
    }
    let h = req.headers();
    if h.get(SEC_WEBSOCKET_VERSION).is_none_or(|v| v.as_bytes() != b"13") {
        return Err(Refused::Version);
    }
    match h.get(SEC_WEBSOCKET_KEY) {
        Some(key) if !key.is_empty() => Ok(key.clone()),
        _ => Err(Refused::Bad("Missing Sec-WebSocket-Key header")),
    }
}

/// A WebSocket route that matched, and the `root_path` of the app it belongs to.
struct Found {
    endpoint: Arc<Endpoint>,
    params: Params,
    route: String,
    root_path: String,
}

/// The route for `path` among `routes`' WebSocket routes, else in the app mounted at its
/// prefix (whose paths begin after it), as HTTP requests are routed.
fn find(routes: &Routes, path: &str, root_path: &str) -> Option<Found> {
    let own = routes.websockets.load();
    if let Lookup::Found { handler, params, route } = own.lookup("GET", path) {
        let (endpoint, route, root_path) = (Arc::clone(handler), route.to_owned(), root_path.to_owned());
        return Some(Found { endpoint, params, route, root_path });
    }
    let table = routes.table.load();
    let mounted = table.mount_for(path)?;
    match &mounted.mount.target {
        Target::App(sub) => find(sub, &path[mounted.raw_rest?..], &format!("{root_path}{}", mounted.mount.prefix)),
        Target::Files(_) => None,
    }
}

/// Calls the endpoint: `endpoint(raw_request, channel)` returns the coroutine to drive.
fn start(py: Python<'_>, found: Found, parts: Parts, peer: SocketAddr, session: &Arc<Session>) -> PyResult<Py<Task>> {
    let Found { endpoint, params, route, root_path } = found;
    let path_params = params_dict(py, params)?;
    let body = BodySlot::new(Source::Read(Bytes::new().into()), 0, Duration::ZERO);
    let raw = Py::new(py, RawRequest::new(parts, peer, body, &route, path_params.unbind(), root_path))?;
    let channel = Py::new(py, WebSocketChannel::new(Arc::clone(session)))?;
    let coro = endpoint.func.bind(py).call1((raw, channel))?;
    Py::new(py, Task::new(py, coro.unbind(), None, None)?)
}

fn switching(
    key: &HeaderValue,
    subprotocol: Option<String>,
    headers: Vec<(hyper::header::HeaderName, HeaderValue)>,
) -> HttpResponse {
    let mut resp = hyper::Response::new(Body::full(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = subprotocol.and_then(|p| HeaderValue::from_str(&p).ok()) {
        h.insert(SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    for (name, value) in headers {
        h.append(name, value);
    }
    resp
}

/// A handshake refused (no route, or `close()` before `accept()`): 403, as uvicorn answers.
fn forbidden() -> HttpResponse {
    let mut resp = hyper::Response::new(Body::full(Bytes::new()));
    *resp.status_mut() = StatusCode::FORBIDDEN;
    resp
}

//! The upgrade handshake: from an HTTP/1.1 upgrade request to a handler serving the socket.
//!
//! An upgrade request (`GET`, `Connection: upgrade`, `Upgrade: websocket`) is routed against
//! the WebSocket routes only, as Starlette routes the `websocket` scope: no route, or a route
//! whose path parameters do not convert, is a 403. Otherwise the endpoint is called with the
//! request record and a [`WebSocketChannel`], and its coroutine is spawned as its own task on
//! this worker, to outlive the request: the service future waits only for the handler's
//! decision (`accept` → 101 with the subprotocol and headers it chose, `close` → 403, failure
//! or return without either → 500). hyper hands the connection over once the 101 is written.

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
use crate::routing::{params_dict, Endpoint, Lookup, Params, Routes};
use crate::runtime::{self, Task};
use crate::ws::channel::{Decision, Session, WebSocketChannel};
use crate::ws::WsLimits;

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
    let session = Session::new(decide, upgrade, limits.clone());
    let task = {
        let table = routes.websockets.load();
        let Lookup::Found { handler, params, route } = table.lookup("GET", parts.uri.path()) else {
            return forbidden();
        };
        Python::attach(|py| {
            start(py, handler, params, route, parts, peer, &session).map_err(|e| {
                e.print(py);
            })
        })
    };
    let Ok(task) = task else { return response::internal_error() };
    let finished = Arc::clone(&session);
    drop(session);
    tokio::spawn(async move {
        // The Python side reports the handler's exceptions; here they only pick the code.
        let code = if runtime::start(task).await.is_ok() { 1000 } else { 1011 };
        finished.handler_finished(code);
    });
    match decision.await {
        Ok(Decision::Accept { subprotocol, headers }) => switching(&key, subprotocol, headers),
        Ok(Decision::Reject) => forbidden(),
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

/// Calls the endpoint: `endpoint(raw_request, channel)` returns the coroutine to drive.
fn start(
    py: Python<'_>,
    ep: &Endpoint,
    params: Params,
    route: &str,
    parts: Parts,
    peer: SocketAddr,
    session: &Arc<Session>,
) -> PyResult<Py<Task>> {
    let path_params = params_dict(py, params)?;
    let body = BodySlot::new(Source::Read(Bytes::new().into()), 0, Duration::ZERO);
    let raw = Py::new(py, RawRequest::new(parts, peer, body, route, path_params.unbind(), String::new()))?;
    let channel = Py::new(py, WebSocketChannel::new(Arc::clone(session)))?;
    let coro = ep.func.bind(py).call1((raw, channel))?;
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

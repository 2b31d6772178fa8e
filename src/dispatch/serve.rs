//! One request, from hyper's parts to a response: body, route lookup, handler call, conversion.
//!
//! Sync handlers run right here, on the worker that read the request: no thread hop, no pool.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use hyper::body::{Body as _, Incoming};
use hyper::http::request::Parts;
use hyper::StatusCode;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::dispatch::access_log::AccessLine;
use crate::dispatch::forwarded::Proxies;
use crate::dispatch::mount_call::{self, MountCall, Run};
use crate::dispatch::outcome::{first_step, respond, Handled, Kept, Pending, Stage, Started};
use crate::dispatch::redirect;
use crate::dispatch::route_error::{bad_param_errors, route_error_response, RouteError};
use crate::middleware::Plan;
use crate::request::{self, BodySlot, Https, RawRequest, Source};
use crate::response::{self, HttpResponse, Served, StaticError};
use crate::routing::{params_dict, Endpoint, Lookup, MountMatch, Params, Routes, Table, Target};
use crate::runtime::{self, attach};
use crate::ws::{self, OpenSockets, WsLimits};

/// What every request on a worker shares.
pub(crate) struct Config {
    pub(crate) routes: Arc<Routes>,
    pub(crate) max_body: usize,
    /// Longest request target (path and query), in bytes; beyond it, 414.
    pub(crate) max_uri: usize,
    /// Longest wait for the next piece of a request body; beyond it, 408.
    pub(crate) body_timeout: Duration,
    /// How long an async handler may run before it is cancelled and the client gets a 504.
    pub(crate) handler_timeout: Option<Duration>,
    /// `access_log(client, method, target, http_version, status)`, or None when off.
    pub(crate) access_log: Option<Py<PyAny>>,
    /// Proxies whose `X-Forwarded-For`/`-Proto` are believed; None: nobody's.
    pub(crate) proxies: Option<Proxies>,
    /// Message size, idle timeout and ping interval of every WebSocket.
    pub(crate) ws: WsLimits,
    /// The open WebSockets, closed and waited for at shutdown.
    pub(crate) ws_open: Arc<OpenSockets>,
    /// The app's middleware; None (no cost at all) when it has none.
    pub(crate) middleware: Option<Plan>,
}

/// Serves one request. A panic anywhere below becomes a 500 for this request alone (and is
/// still access-logged); the connection and the worker carry on.
pub(crate) async fn serve(mut req: hyper::Request<Incoming>, cfg: &Config, peer: SocketAddr) -> HttpResponse {
    let peer = match &cfg.proxies {
        None => peer,
        Some(proxies) => {
            let (client, https) = proxies.resolve(req.headers(), peer);
            if https {
                req.extensions_mut().insert(Https);
            }
            client
        }
    };
    let logged = cfg.access_log.as_ref().map(|_| AccessLine::new(&req, peer));
    // WebSocket upgrades go through the Rust middleware too (TrustedHost, HTTPSRedirect apply
    // to Starlette's websocket scope), then to `ws::serve` instead of the HTTP path.
    let served = match &cfg.middleware {
        None if ws::is_upgrade(&req) => {
            AssertUnwindSafe(ws::serve(req, &cfg.routes, &cfg.ws, &cfg.ws_open, peer)).catch_unwind().await
        }
        None => AssertUnwindSafe(handle(req, cfg, peer)).catch_unwind().await,
        Some(plan) => {
            AssertUnwindSafe(plan.around(req, |req| async move {
                if ws::is_upgrade(&req) {
                    ws::serve(req, &cfg.routes, &cfg.ws, &cfg.ws_open, peer).await
                } else {
                    handle(req, cfg, peer).await
                }
            }))
            .catch_unwind()
            .await
        }
    };
    let resp = served.unwrap_or_else(|_| response::internal_error());
    if let (Some(line), Some(log)) = (logged, cfg.access_log.as_ref()) {
        line.emit(log, resp.status());
    }
    resp
}

async fn handle(req: hyper::Request<Incoming>, cfg: &Config, peer: SocketAddr) -> HttpResponse {
    let (parts, body) = req.into_parts();
    if parts.uri.path_and_query().map_or(0, |pq| pq.as_str().len()) > cfg.max_uri {
        return rust_only(request::closing(response::detail(StatusCode::URI_TOO_LONG, "URI Too Long")));
    }
    if body.is_end_stream() {
        return run(parts, Source::Read(Bytes::new().into()), None, cfg, peer).await;
    }
    // A body to read or not: sync handlers get it read in full first, async handlers read it
    // themselves. The route found here to learn which is the one called (no second lookup);
    // the table is held (`load_full`) across the read, since a guard may not be.
    let table = cfg.routes.table.load_full();
    let path = parts.uri.path();
    // (`Table::lookup` leaves out a route that a mount declared before it takes.)
    let found = match table.lookup(parts.method.as_str(), path) {
        found @ Lookup::Found { .. } => Some(found),
        _ => None,
    };
    let is_async = match &found {
        Some(Lookup::Found { handler, .. }) => handler.is_async,
        _ => mount_reaches_async(&table, parts.method.as_str(), path),
    };
    // With Python middleware, the request goes to its entry, which looks the route up itself.
    let found = found.filter(|_| python_middleware(cfg).is_none());
    let source = if is_async {
        Source::Unread(body)
    } else {
        match request::collect(body, cfg.max_body, cfg.body_timeout).await {
            Ok(whole) => Source::Read(whole),
            // The rest of a body over the limit, or broken, is not read: the connection closes.
            Err(err) => return rust_only(request::closing(err.response())),
        }
    };
    run(parts, source, found, cfg, peer).await
}

/// Dispatches the request with its body, drives a suspended handler to its end (within the
/// handler timeout) and settles a body an async handler left unread. `found`: the route, when
/// `handle` has looked it up already (a route of the served app, no Python middleware).
async fn run(
    parts: Parts,
    body: Source,
    found: Option<Lookup<'_, Endpoint>>,
    cfg: &Config,
    peer: SocketAddr,
) -> HttpResponse {
    // An async handler may leave its body unread: settled before the response goes.
    let unread = matches!(body, Source::Unread(_));
    let expects_continue = unread && parts.headers.contains_key(hyper::header::EXPECT);
    let slot = BodySlot::new(body, cfg.max_body, cfg.body_timeout);
    let handled = match found {
        Some(Lookup::Found { handler, params, route }) => {
            let scope = Scope { routes: &cfg.routes, at: 0, root_path: Cow::Borrowed(""), state: None };
            Python::attach(|py| call(py, handler, params, route, parts, slot.clone(), &scope, peer))
        }
        _ => dispatch(parts, slot.clone(), cfg, peer),
    };
    let resp = match handled {
        Handled::Now(resp) => resp,
        Handled::Suspended(pending) => match cfg.handler_timeout {
            None => pending.finish(peer).await,
            // Dropping the pending handler cancels its coroutine (`CancelledError`, its
            // `finally` blocks run on, detached).
            Some(limit) => tokio::time::timeout(limit, pending.finish(peer))
                .await
                .unwrap_or_else(|_| response::detail(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout")),
        },
    };
    if unread {
        request::settle(resp, &slot, expects_continue).await
    } else {
        resp
    }
}

fn python_middleware(cfg: &Config) -> Option<&Py<PyAny>> {
    cfg.middleware.as_ref().and_then(|plan| plan.python.as_ref())
}

/// Whether the request goes to an async handler (or to a static mount, which reads no body).
fn reaches_async(routes: &Routes, method: &str, path: &str) -> bool {
    let table = routes.table.load();
    match table.lookup(method, path) {
        Lookup::Found { handler, .. } => handler.is_async,
        _ => mount_reaches_async(&table, method, path),
    }
}

/// The same for a request no route of `table` takes (or a mount declared before the route
/// takes): whether a mount takes it to an async handler or to static files.
fn mount_reaches_async(table: &Table, method: &str, path: &str) -> bool {
    match table.mount_for(path) {
        Some(MountMatch { mount, raw_rest, .. }) => match &mount.target {
            Target::App(sub) => raw_rest.is_some_and(|at| reaches_async(sub, method, &path[at..])),
            Target::Files(_) => true,
        },
        None => false,
    }
}

/// Which app answers: the served app, or one mounted in it, whose paths begin at byte `at` of
/// the request's path and whose `root_path` is the prefixes of the mounts on the way.
struct Scope<'a> {
    routes: &'a Arc<Routes>,
    at: usize,
    root_path: Cow<'a, str>,
    /// The Python middleware's `request.state`, shared with the handler's `Request` (None
    /// without Python middleware: each request makes its own on first use).
    state: Option<&'a Py<PyAny>>,
}

fn dispatch(parts: Parts, body: BodySlot, cfg: &Config, peer: SocketAddr) -> Handled {
    if let Some(entry) = python_middleware(cfg) {
        return through_python(entry, parts, body, cfg, peer);
    }
    dispatch_in(parts, body, Scope { routes: &cfg.routes, at: 0, root_path: Cow::Borrowed(""), state: None }, peer)
}

/// A request a mount of the served app answers, run from inside its Python middleware
/// (`MountCall`, awaited by the stack's innermost layer): routed as `dispatch` routes it
/// without middleware, the handler's `Request` sharing the middleware's `state`.
async fn through_mount(
    parts: Parts,
    body: BodySlot,
    routes: Arc<Routes>,
    state: Py<PyAny>,
    peer: SocketAddr,
) -> HttpResponse {
    let scope = Scope { routes: &routes, at: 0, root_path: Cow::Borrowed(""), state: Some(&state) };
    match dispatch_in(parts, body, scope, peer) {
        Handled::Now(resp) => resp,
        Handled::Suspended(pending) => pending.finish(peer).await,
    }
}

/// Routes the request through `scope`'s app: its routes, then its mounts (when no route
/// matched; `Table::lookup` leaves out a route declared after a mount that takes the path:
/// Starlette's declaration order), then its redirect and routing errors.
fn dispatch_in(parts: Parts, body: BodySlot, scope: Scope<'_>, peer: SocketAddr) -> Handled {
    let table = scope.routes.table.load();
    let path = &parts.uri.path()[scope.at..];
    let missed = match table.lookup(parts.method.as_str(), path) {
        Lookup::Found { handler, params, route } => {
            return Python::attach(|py| call(py, handler, params, route, parts, body, &scope, peer));
        }
        Lookup::BadParam(err) => RouteError::BadParam(err),
        Lookup::MethodNotAllowed { allow } => RouteError::MethodNotAllowed(allow),
        Lookup::NotFound => RouteError::NotFound,
    };
    if let Some(found) = table.mount_for(path) {
        return mounted(&found, parts, body, &scope, peer);
    }
    // As Starlette's Router: the trailing-slash redirect comes before the app's 404 handler.
    if matches!(missed, RouteError::NotFound) && scope.routes.redirect_slashes {
        if let Some(redirect) = redirect::trailing_slash(&table, &parts, scope.at, &scope.routes.path_prefix()) {
            return Handled::Now(rust_only(redirect));
        }
    }
    routing_error(missed, parts, body, &scope, peer)
}

/// A request a mount takes: a mounted app's routes, or a static directory, answered in Rust.
fn mounted(
    found: &MountMatch<'_, Target>,
    parts: Parts,
    body: BodySlot,
    scope: &Scope<'_>,
    peer: SocketAddr,
) -> Handled {
    match &found.mount.target {
        Target::App(sub) => match found.raw_rest {
            Some(offset) => {
                let root_path = format!("{}{}", scope.root_path, found.mount.prefix);
                let inner =
                    Scope { routes: sub, at: scope.at + offset, root_path: Cow::Owned(root_path), state: scope.state };
                dispatch_in(parts, body, inner, peer)
            }
            // The mount's '/' was sent as `%2F`: the mounted app has no raw path to route.
            None => routing_error(RouteError::NotFound, parts, body, scope, peer),
        },
        Target::Files(root) => match response::serve_static(root, &found.rest, &parts) {
            Served::Response(resp) => Handled::Now(rust_only(resp)),
            Served::AddSlash => {
                let resp = redirect::to(&parts, &format!("{}{}/", scope.routes.path_prefix(), parts.uri.path()));
                Handled::Now(rust_only(resp.unwrap_or_else(response::not_found)))
            }
            Served::Error(err) => {
                let err = match err {
                    StaticError::NotFound => RouteError::NotFound,
                    StaticError::MethodNotAllowed => RouteError::MethodNotAllowed("GET, HEAD".to_owned()),
                    StaticError::Unauthorized => RouteError::Status(StatusCode::UNAUTHORIZED),
                };
                routing_error(err, parts, body, scope, peer)
            }
        },
    }
}

/// With Python middleware, every request goes to its entry (`fastcore/middleware/stack.py`):
/// `entry(raw, kind, detail, takes_request, is_async)`, with what the router found: kind 0 and
/// the handler; kind 1 and a `MountCall` when a mount takes the request (it runs the mount
/// when the stack's innermost layer awaits it, as Starlette's middleware wraps its mounts);
/// or the router's own answer (404; 405 and the `Allow` value; 422 and the error list; 307
/// and the trailing-slash redirect's location). The entry answers every exception itself
/// (the server error's handler), so a failure here is a plain 500.
fn through_python(entry: &Py<PyAny>, parts: Parts, body: BodySlot, cfg: &Config, peer: SocketAddr) -> Handled {
    let table = cfg.routes.table.load();
    let lookup = table.lookup(parts.method.as_str(), parts.uri.path());
    // As `dispatch_in`: a mount is tried when no route matched (`Table::lookup`: or only one
    // declared after the mount), before the redirect.
    let mounted = !matches!(lookup, Lookup::Found { .. }) && table.mount_for(parts.uri.path()).is_some();
    let redirect = match lookup {
        Lookup::NotFound if cfg.routes.redirect_slashes && !mounted => {
            redirect::trailing_slash(&table, &parts, 0, &cfg.routes.path_prefix())
                .and_then(|r| r.headers().get(hyper::header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned))
        }
        _ => None,
    };
    Python::attach(|py| {
        let call = || -> PyResult<(Py<RawRequest>, PyResult<Bound<'_, PyAny>>)> {
            let none = || py.None();
            // The mount gets the request's parts; the middleware's `Request` a copy of them.
            let (parts, mount) = if mounted {
                let copy = mount_call::copy_parts(&parts);
                let (body, routes) = (body.clone(), Arc::clone(&cfg.routes));
                let run: Run = Box::new(move |state| Box::pin(through_mount(parts, body, routes, state, peer)));
                (copy, Some(MountCall::new(run)))
            } else {
                (parts, None)
            };
            let (kind, detail, takes_request, is_async, route, path_params) = match (mount, lookup) {
                (Some(call), _) => (1u16, Py::new(py, call)?.into_any(), false, false, "", PyDict::new(py)),
                (None, Lookup::Found { handler, params, route }) => {
                    let pp = params_dict(py, params)?;
                    (0, handler.func.clone_ref(py), handler.takes_request, handler.is_async, route, pp)
                }
                (None, Lookup::NotFound) => match redirect {
                    Some(location) => {
                        (307, location.into_pyobject(py)?.into_any().unbind(), false, false, "", PyDict::new(py))
                    }
                    None => (404, none(), false, false, "", PyDict::new(py)),
                },
                (None, Lookup::MethodNotAllowed { allow }) => {
                    (405, allow.into_pyobject(py)?.into_any().unbind(), false, false, "", PyDict::new(py))
                }
                (None, Lookup::BadParam(errors)) => {
                    (422, bad_param_errors(py, &errors)?.into_any().unbind(), false, false, "", PyDict::new(py))
                }
            };
            let raw = Py::new(py, RawRequest::new(parts, peer, body, route, path_params.unbind(), String::new()))?;
            let result = entry.bind(py).call1((raw.bind(py), kind, detail, takes_request, is_async));
            Ok((raw, result))
        };
        match call() {
            Ok((raw, result)) => {
                let mut context = None;
                match first_step(py, result, &mut context) {
                    Started::Done(result) => {
                        respond(py, result, Kept::Raw(raw), Stage::ErrorHandler, context, &cfg.routes, peer)
                    }
                    Started::Suspended(driver) => {
                        let routes = Arc::clone(&cfg.routes);
                        let pending =
                            Pending { driver, routes, kept: Kept::Raw(raw), stage: Stage::ErrorHandler, context };
                        Handled::Suspended(Box::new(pending))
                    }
                }
            }
            Err(err) => {
                err.print(py);
                Handled::Now(response::internal_error())
            }
        }
    })
}

/// Rust answers the router's own errors, FastAPI's way, unless the app has its own handler for
/// them: then they go to the app's `route_error` hook, like a handler's exception.
fn routing_error(err: RouteError, parts: Parts, body: BodySlot, scope: &Scope<'_>, peer: SocketAddr) -> Handled {
    if scope.routes.has_route_error() {
        return Python::attach(|py| match scope.routes.route_error(py) {
            Some(hook) => route_error_in_python(py, &hook, &err, parts, body, scope, peer),
            None => Handled::Now(route_error_response(&err)),
        });
    }
    Handled::Now(rust_only(route_error_response(&err)))
}

fn route_error_in_python(
    py: Python<'_>,
    hook: &Py<PyAny>,
    err: &RouteError,
    parts: Parts,
    body: BodySlot,
    scope: &Scope<'_>,
    peer: SocketAddr,
) -> Handled {
    let root_path = scope.root_path.clone().into_owned();
    let kept = Kept::Parts { parts, body, route: Cow::Borrowed(""), path_params: None, root_path };
    let called = kept.into_raw(py, peer).and_then(|raw| {
        let args = match err {
            RouteError::NotFound => (404u16, py.None()),
            RouteError::MethodNotAllowed(allow) => (405, allow.into_pyobject(py)?.into_any().unbind()),
            RouteError::BadParam(e) => (422, bad_param_errors(py, e)?.into_any().unbind()),
            RouteError::Status(status) => (status.as_u16(), py.None()),
        };
        let result = hook.bind(py).call1((raw.bind(py), args.0, args.1));
        Ok((raw, result))
    });
    match called {
        Ok((raw, result)) => match first_step(py, result, &mut None) {
            Started::Done(result) => respond(py, result, Kept::Raw(raw), Stage::ErrorHandler, None, scope.routes, peer),
            Started::Suspended(driver) => {
                let routes = Arc::clone(scope.routes);
                let pending =
                    Pending { driver, routes, kept: Kept::Raw(raw), stage: Stage::ErrorHandler, context: None };
                Handled::Suspended(Box::new(pending))
            }
        },
        Err(e) => {
            e.print(py);
            Handled::Now(response::internal_error())
        }
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
    body: BodySlot,
    scope: &Scope<'_>,
    peer: SocketAddr,
) -> Handled {
    let func = ep.func.bind(py);
    let root_path = || scope.root_path.clone().into_owned();
    let mut kept = None;
    let invoke = || {
        if ep.takes_request {
            let pp = params_dict(py, params)?;
            let raw = Py::new(py, RawRequest::new(parts, peer, body, route, pp.unbind(), root_path()))?;
            if let Some(state) = scope.state {
                raw.get().share_state(state.clone_ref(py));
            }
            let result = func.call1((raw.bind(py),));
            kept = Some(Kept::Raw(raw));
            result
        } else if params.is_empty() {
            kept = Some(Kept::Parts {
                parts,
                body,
                route: Cow::Borrowed(route),
                path_params: None,
                root_path: root_path(),
            });
            func.call0()
        } else {
            let kwargs = params_dict(py, params)?;
            let result = func.call((), Some(&kwargs));
            let path_params = Some(kwargs.unbind());
            kept = Some(Kept::Parts { parts, body, route: Cow::Borrowed(route), path_params, root_path: root_path() });
            result
        }
    };
    // A sync handler runs in a fresh copy of the worker's context, so contextvars it sets
    // never reach the next request; an async one gets its context from its task below.
    let mut context = None;
    let result = if ep.is_async {
        invoke()
    } else {
        runtime::copy_context(py).and_then(|ctx| runtime::run_in(ctx.bind(py), invoke).map(|r| (r, ctx))).and_then(
            |(r, ctx)| {
                context = Some(ctx);
                r
            },
        )
    };
    // Only a failure to build the call's arguments (the path parameters' dict, the RawRequest)
    // leaves nothing kept: the request was consumed on the way, so a plain 500 it is.
    let Some(kept) = kept else {
        if let Err(err) = result {
            err.print(py);
        }
        return Handled::Now(response::internal_error());
    };
    match first_step(py, result, &mut context) {
        Started::Done(result) => respond(py, result, kept, Stage::Handler, context, scope.routes, peer),
        Started::Suspended(driver) => {
            let routes = Arc::clone(scope.routes);
            let pending = Pending { driver, routes, kept: kept.into_owned(), stage: Stage::Handler, context };
            Handled::Suspended(Box::new(pending))
        }
    }
}

"""The app's middleware, planned once when its server is made (`plan(app)`).

Starlette's own middleware classes (`cors`, `gzip`, `trustedhost`, `httpsredirect`) become
layers the Rust core runs around the request (`src/middleware/`). `BaseHTTPMiddleware`
subclasses are chained here, innermost last, around the route; the core then calls the
`Entry` for every request in place of the route's handler, with what its router found.

Inside the chain, as in FastAPI's stack: the route, then the app's exception handlers (for
HTTP exceptions, validation errors and the app's own classes: their responses are what the
middleware sees from `call_next`), then the middleware, then the server-error handler (the
app's `500`/`Exception` handler, or the plain-text 500; the traceback with `debug=True`) for
what escaped everything.
"""
from __future__ import annotations

import inspect
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from ..exception_handlers import debug_response
from ..exceptions import RequestValidationError, StarletteHTTPException
from ..requests import Request
from .._core import JsonReply
from ..responses import JSONResponse, Response, json_response
from .base import _Answered, _StreamingResponse, dispatching

if TYPE_CHECKING:
    from ..applications import FastCore

error_log = logging.getLogger("fastcore.error")
Layer = Callable[[Request], Awaitable[Response]]

# What the core's router found for this request: (kind, detail, takes_request, is_async).
_target: ContextVar[tuple[int, Any, bool, bool]] = ContextVar("fastcore_route_target")

NOT_ASGI = ("{name} is an ASGI middleware (it wraps an ASGI app and is called with scope, receive and send), "
            "and fastcore's core does not speak ASGI, so it cannot run it. Write it as a "
            "fastcore.middleware.base.BaseHTTPMiddleware subclass (dispatch(request, call_next)) or an "
            "@app.middleware('http') function; CORS, GZip, TrustedHost and HTTPSRedirect are built in "
            "(fastcore.middleware.cors, .gzip, .trustedhost, .httpsredirect). See NOTES.md, 'Middleware'.")


def is_http_middleware(cls: Any) -> bool:
    """A `BaseHTTPMiddleware` subclass, fastcore's or Starlette's own (same interface)."""
    return isinstance(cls, type) and any(c.__name__ == "BaseHTTPMiddleware" for c in cls.__mro__)


def check(cls: Any) -> None:
    """Refuses, with the reason, a middleware fastcore cannot run."""
    if is_http_middleware(cls) or (isinstance(cls, type) and hasattr(cls, "_native")):
        return
    raise TypeError(NOT_ASGI.format(name=getattr(cls, "__name__", repr(cls))))


def plan(app: "FastCore") -> tuple[list[tuple[Any, ...]], Any] | None:
    """`(native layers outermost first, Python entry or None)`, or None for no middleware."""
    if not app.user_middleware:
        return None
    native: list[tuple[Any, ...]] = []
    python: list[tuple[type, tuple[Any, ...], dict[str, Any]]] = []
    for cls, args, kwargs in app.user_middleware:
        check(cls)
        if is_http_middleware(cls):
            python.append((cls, args, kwargs))
        else:
            spec = cls(None, *args, **kwargs)._native()
            if spec is not None:
                native.append(spec)
    entry = None
    if python:
        layer: Layer = Route(app)
        for cls, args, kwargs in reversed(python):
            layer = dispatching(cls(layer, *args, **kwargs).dispatch_func, layer)
        entry = Entry(app, layer)
    return (native, entry) if native or entry else None


class Route:
    """The innermost layer: the route's handler (or the router's own 404/405/422/redirect)
    and the app's exception handlers, short of the server-error one; or the mount that takes
    the request, run by the core."""

    def __init__(self, app: "FastCore") -> None:
        self.app = app

    async def __call__(self, request: Request) -> Response:
        kind, detail, takes_request, is_async = _target.get()
        if kind == 1:  # a mount's answer, made by the core (its errors handled there)
            return _Answered(await detail.respond(request.state))
        try:
            if kind == 0:
                raw = request._raw
                if takes_request:
                    result = detail(raw)
                else:
                    params = raw.path_params
                    result = detail(**params) if params else detail()
                if is_async:
                    result = await result
                return as_response(result)
            if kind == 404:
                raise StarletteHTTPException(404)
            if kind == 405:
                raise StarletteHTTPException(405, headers={"Allow": detail})
            if kind == 422:
                raise RequestValidationError(detail)
            return Response(status_code=307, headers={"location": detail})
        except Exception as exc:
            handler, unhandled = self.app.handlers.lookup(exc)
            if unhandled:
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
            return as_response(response)


def as_response(result: Any) -> Response:
    """A handler's result as the core would send it: a Response as it is, bytes as
    `application/octet-stream`, anything else as JSON."""
    if isinstance(result, Response):
        return result
    if type(result) is JsonReply:  # a route's encoded answer (`Finisher.plain`)
        return json_response(result.body, result.status_code)
    if type(result) is bytes:
        return Response(result, media_type="application/octet-stream")
    return JSONResponse(result)


class Entry:
    """What the core calls for each request: `entry(raw, kind, detail, takes_request, is_async)`
    (kind 0: `detail` is the route's handler; 1: a `MountCall`; else the router's own answer)."""

    def __init__(self, app: "FastCore", outermost: Layer) -> None:
        self.app = app
        self.outermost = outermost

    async def __call__(self, raw: Any, kind: int, detail: Any, takes_request: bool, is_async: bool) -> Response:
        _target.set((kind, detail, takes_request, is_async))
        request = Request(raw, self.app)
        try:
            response = await self.outermost(request)
            if not isinstance(response, Response):
                raise TypeError(f"middleware returned {type(response).__name__}, not a Response")
        except Exception as exc:
            error_log.error("Exception in middleware or handler for %s %s", raw.method, raw.raw_path, exc_info=exc)
            sink = self.app.exception_sink
            if sink is not None:
                sink.append(exc)
            handler = debug_response if self.app.debug else self.app.handlers.server_error_handler()
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
            return as_response(response)
        if isinstance(response, _StreamingResponse):
            return response.unwrapped()
        return response

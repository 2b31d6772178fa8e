"""From an exception to its response: FastAPI's default handlers, and the lookup of the app's own.

    @app.exception_handler(ItemMissing)
    async def item_missing(request: Request, exc: ItemMissing):
        return JSONResponse({"missing": exc.item_id}, status_code=404)

A handler is found as Starlette finds it: for an HTTP exception, by its status code first; then
by the exception's class, nearest base first. A handler for `500` or `Exception` answers any
exception nothing else handled, which is still logged with its traceback; with none, the client
gets FastAPI's plain-text 500.
"""
from __future__ import annotations

import html
import logging
import traceback
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .encoders import jsonable_encoder
from .exceptions import (RequestValidationError, StarletteHTTPException, WebSocketException,
                         WebSocketRequestValidationError)
from .responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

if TYPE_CHECKING:
    from .requests import Request
    from .websockets import WebSocket

error_log = logging.getLogger("fastcore.error")
Handler = Callable[["Request", Any], Any]


def http_exception_handler(request: "Request", exc: StarletteHTTPException) -> Response:
    headers = getattr(exc, "headers", None)
    if exc.status_code < 200 or exc.status_code in (204, 205, 304):  # statuses that carry no body
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def request_validation_exception_handler(request: "Request", exc: RequestValidationError) -> Response:
    return JSONResponse({"detail": exc.errors()}, status_code=422)


async def websocket_request_validation_exception_handler(websocket: "WebSocket",
                                                         exc: WebSocketRequestValidationError) -> None:
    await websocket.close(code=1008, reason=jsonable_encoder(exc.errors()))


async def websocket_exception_handler(websocket: "WebSocket", exc: WebSocketException) -> None:
    await websocket.close(code=exc.code, reason=exc.reason)


def server_error(request: "Request", exc: BaseException) -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)


def debug_response(request: "Request", exc: BaseException) -> Response:
    """`FastCore(debug=True)`'s answer to an unhandled exception, as Starlette's debug mode gives
    it: the traceback, as an HTML page for a client that accepts text/html, else as plain text.
    Never for an app on the open internet: it shows code and values."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if "text/html" in request.headers.get("accept", ""):
        title = html.escape(f"{type(exc).__name__}: {exc}")
        page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
                f"<body><h1>500 Server Error</h1><h2>{title}</h2>\n<pre>{html.escape(text)}</pre></body></html>\n")
        return HTMLResponse(page, status_code=500)
    return PlainTextResponse(text, status_code=500)


DEFAULTS: dict[Any, Handler] = {
    StarletteHTTPException: http_exception_handler,
    RequestValidationError: request_validation_exception_handler,
    WebSocketRequestValidationError: websocket_request_validation_exception_handler,
    WebSocketException: websocket_exception_handler,
}


class ExceptionHandlers:
    """The app's handlers by status code and by exception class."""

    def __init__(self, handlers: Mapping[Any, Handler] | None = None) -> None:
        self.by_status: dict[int, Handler] = {}
        self.by_class: dict[type[BaseException], Handler] = {}
        for key, handler in {**DEFAULTS, **(handlers or {})}.items():
            self.add(key, handler)

    def add(self, key: int | type[BaseException], handler: Handler) -> None:
        if isinstance(key, int):
            self.by_status[key] = handler
        else:
            self.by_class[key] = handler

    def lookup(self, exc: BaseException) -> tuple[Handler, bool]:
        """The handler for `exc`, and whether it is the server-error one (the exception is then
        also logged, as an unhandled one)."""
        if isinstance(exc, StarletteHTTPException) and exc.status_code in self.by_status:
            return self.by_status[exc.status_code], False
        for cls in type(exc).__mro__:
            if cls is Exception or cls is BaseException:
                break
            handler = self.by_class.get(cls)
            if handler is not None:
                return handler, False
        return self.server_error_handler(), True

    def server_error_handler(self) -> Handler:
        """The handler for what nothing else handled: the app's `500` or `Exception` one, or
        FastAPI's plain-text 500."""
        return self.by_status.get(500) or self.by_class.get(Exception) or server_error

    def overrides_routing_errors(self) -> bool:
        """Whether an answer of the router's own (404, 405, a path parameter's 422) would reach a
        handler of the app's rather than FastAPI's default one."""
        return (any(code in self.by_status for code in (404, 405, 422))
                or self.by_class.get(StarletteHTTPException) is not http_exception_handler
                or self.by_class.get(RequestValidationError) is not request_validation_exception_handler)

    def as_dict(self) -> dict[Any, Handler]:
        return {**self.by_class, **self.by_status}

"""`BaseHTTPMiddleware`, Starlette's: `dispatch(request, call_next)` around the app.

    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            response = await call_next(request)
            response.headers["x-took"] = "..."
            return response

`call_next(request)` runs the rest (inner middleware, the route, the app's exception handlers)
and returns a `_StreamingResponse`, as Starlette's does: its headers can be changed and its
`body_iterator` read or replaced. One that goes out untouched is sent as the response the
route made (a whole body stays whole, a file stays a file), so passing through costs little.
An exception nothing handled comes out of `call_next`, as in Starlette.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Awaitable, Callable

from .._core import to_thread
from ..requests import Request
from ..responses import Response, StreamingResponse

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]


class BaseHTTPMiddleware:
    def __init__(self, app: Any, dispatch: DispatchFunction | None = None) -> None:
        self.app = app  # the next layer: `await app(request)` gives its response
        self.dispatch_func = self.dispatch if dispatch is None else dispatch

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError()


def dispatching(dispatch: DispatchFunction, inner: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """One layer of the stack: `dispatch(request, call_next)`, `call_next` running `inner`.
    Used for Starlette's own `BaseHTTPMiddleware` subclasses too: they keep their dispatch
    in `dispatch_func` as fastcore's do."""

    async def call_next(request: Request) -> Response:
        return _StreamingResponse(await inner(request))

    async def layer(request: Request) -> Response:
        return await dispatch(request, call_next)

    return layer


class _StreamingResponse(StreamingResponse):
    """What `call_next` returns: the inner response's status and headers (the same list, so a
    change shows on both), and its body as `body_iterator`, made only when asked for."""

    def __init__(self, inner: Response) -> None:
        self.inner = inner
        self.status_code = inner.status_code
        self.raw_headers = inner.raw_headers
        self.media_type = None
        self.background = None
        self.info = None
        self._iterator: Any = None

    @property  # type: ignore[override]
    def body_iterator(self) -> Any:
        if self._iterator is None:
            self._iterator = _body_of(self.inner)
        return self._iterator

    @body_iterator.setter
    def body_iterator(self, value: Any) -> None:
        self._iterator = value

    def unwrapped(self) -> Response:
        """The inner response with this one's status, headers and background, when the body
        was never asked for (Starlette would send the same bytes); else this one."""
        if self._iterator is not None:
            return self
        inner = self.inner
        if isinstance(inner, _StreamingResponse):
            inner = inner.unwrapped()
        inner.status_code = self.status_code
        if inner.raw_headers is not self.raw_headers:
            inner.raw_headers = self.raw_headers
            inner.__dict__.pop("_headers", None)
        if self.background is not None:
            inner.background = _chain(inner.background, self.background) if inner.background else self.background
        return inner


class _Answered(Response):
    """A response the core made (a mount's: a static file, a mounted app's answer), as the
    middleware sees it: its status and headers; its body, left in the core, is read only if
    `body_iterator` is asked for, and sent as it is otherwise."""

    def __init__(self, answer: Any) -> None:
        self._answer = answer
        self.status_code = answer.status_code
        self.raw_headers = answer.raw_headers()
        self.media_type = None
        self.background = None


def _chain(first: Callable[[], Awaitable[None]], then: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    async def both() -> None:
        await first()
        await then()

    return both


async def _body_of(inner: Response) -> AsyncIterator[bytes]:
    """The inner response's body chunk by chunk (empty chunks left out, as Starlette's
    `body_stream`), then its background task, which Starlette runs once the body is sent."""
    if isinstance(inner, _StreamingResponse):
        async for chunk in inner.body_iterator:
            yield chunk
    else:
        body = getattr(inner, "body", None)
        if body is not None:
            if body:
                yield bytes(body)
        elif isinstance(inner, _Answered):
            while (chunk := await inner._answer.next_chunk()) is not None:
                if chunk:
                    yield chunk
        elif hasattr(inner, "_file_plan"):
            with open(inner.path, "rb") as f:  # type: ignore[attr-defined]
                while chunk := await to_thread(f.read, 64 * 1024):
                    yield chunk
        else:
            charset = inner.charset
            content = inner.body_iterator  # type: ignore[attr-defined]
            if hasattr(content, "__aiter__"):
                async for chunk in content:
                    if chunk:
                        yield chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)
            else:
                iterator = iter(content)
                end = object()
                while (chunk := await to_thread(next, iterator, end)) is not end:
                    if chunk:
                        yield chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)
    if inner.background is not None:
        await inner.background()

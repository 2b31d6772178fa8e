"""The request a handler receives when it asks for one.

    @app.post("/echo")
    def echo(request: Request):
        return {"method": request.method, "q": request.query_params.get("q"),
                "length": len(request.body_bytes)}

Everything is read lazily from the Rust record and cached, so a handler pays only for what it
touches.
"""
from __future__ import annotations

import json
from functools import cached_property
from collections.abc import AsyncIterator, Generator
from typing import Any

from ._core import RawRequest
from .datastructures import URL, Address, FormData, Headers, QueryParams, State, parse_cookies
from .formparsers import read_form


class Request:
    __slots__ = ("_raw", "_app", "__dict__")

    def __init__(self, raw: RawRequest, app: Any = None) -> None:
        self._raw = raw
        self._app = app

    @property
    def app(self) -> Any:
        return self._app

    @cached_property
    def state(self) -> State:
        """Per-request attributes, starting from what the app's lifespan yielded."""
        return State(getattr(self._app, "lifespan_state", None))

    @property
    def method(self) -> str:
        return self._raw.method

    @cached_property
    def path(self) -> str:
        from urllib.parse import unquote

        return unquote(self._raw.raw_path)

    @cached_property
    def url(self) -> URL:
        host = self.headers.get("host") or "localhost"
        return URL("http", host, self._raw.raw_path, self._raw.query_string)

    @cached_property
    def headers(self) -> Headers:
        return Headers(self._raw.headers)

    @cached_property
    def query_params(self) -> QueryParams:
        return QueryParams(self._raw.query_pairs)

    @cached_property
    def path_params(self) -> dict[str, Any]:
        return self._raw.path_params

    @cached_property
    def cookies(self) -> dict[str, str]:
        return parse_cookies(self.headers.get("cookie", ""))

    @cached_property
    def client(self) -> Address:
        return Address(*self._raw.client)

    @property
    def http_version(self) -> str:
        return self._raw.http_version

    @property
    def body_bytes(self) -> bytes:
        """The whole body, for sync handlers (the core reads it before they run). Async
        handlers use `await request.body()` or `request.stream()`."""
        return self._raw.body

    async def body(self) -> bytes:
        return await self._raw.read_body()

    async def json(self) -> Any:
        return json.loads(await self.body())

    async def stream(self) -> AsyncIterator[bytes]:
        """The body chunk by chunk, as it arrives: `async for chunk in request.stream(): ...`"""
        while (chunk := await self._raw.next_chunk()) is not None:
            yield chunk

    def form(self, *, max_files: int | float = 1000, max_fields: int | float = 1000,
             max_part_size: int = 1024 * 1024) -> _FormReader:
        """The form (multipart or urlencoded), parsed once per request: `await request.form()`,
        or `async with request.form() as form:`, which closes its files at the end."""
        return _FormReader(self, dict(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size))

    async def close(self) -> None:
        """Closes the files of the form, if it was read."""
        form = self.__dict__.get("_form")
        if form is not None:
            await form.close()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self._raw.raw_path}>"


class _FormReader:
    """What `request.form()` returns: awaitable, or an async context manager (Starlette's)."""

    __slots__ = ("_request", "_limits")

    def __init__(self, request: Request, limits: dict[str, Any]) -> None:
        self._request, self._limits = request, limits

    async def _read(self) -> FormData:
        cached = self._request.__dict__.get("_form")
        if cached is None:
            cached = self._request.__dict__["_form"] = await read_form(self._request._raw, **self._limits)
        return cached

    def __await__(self) -> Generator[Any, None, FormData]:
        return self._read().__await__()

    async def __aenter__(self) -> FormData:
        return await self._read()

    async def __aexit__(self, *exc: object) -> None:
        await self._request.close()

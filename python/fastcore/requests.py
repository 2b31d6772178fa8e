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
from collections.abc import AsyncIterator, Generator
from typing import Any

from ._core import RawRequest
from .datastructures import URL, Address, FormData, Headers, QueryParams, State, parse_cookies
from .formparsers import read_form


class Request:
    # Lazily computed parts live in slots, not in `__dict__` nor `functools.cached_property`:
    # on 3.13t the first touch of a new object's `__dict__` costs about 20 us (measured with
    # `timeit` on CPython 3.13t, against 0.9 us for a slot), and handlers build one per request.
    __slots__ = ("_raw", "_app", "_state", "_path", "_url", "_base_url", "_scope", "_headers", "_query_params",
                 "_cookies", "_client", "_form", "__dict__")

    def __init__(self, raw: RawRequest, app: Any = None) -> None:
        self._raw = raw
        self._app = app

    @property
    def app(self) -> Any:
        return self._app

    @property
    def state(self) -> State:
        """Per-request attributes, starting from what the app's lifespan yielded."""
        try:
            return self._state
        except AttributeError:
            self._state = self._raw.state(self._new_state)
            return self._state

    def _new_state(self) -> State:
        return State(getattr(self._app, "lifespan_state", None))

    @property
    def method(self) -> str:
        return self._raw.method

    @property
    def path(self) -> str:
        try:
            return self._path
        except AttributeError:
            from urllib.parse import unquote

            self._path = unquote(self._raw.raw_path)
            return self._path

    @property
    def url(self) -> URL:
        """The URL the client asked for, behind the server's `--root-path` if it has one (as
        uvicorn's, which puts the root path in front of the request path)."""
        try:
            return self._url
        except AttributeError:
            prefix = getattr(self._app, "server_path_prefix", "")
            self._url = URL(self._raw.scheme, self._netloc(), prefix + self._raw.raw_path, self._raw.query_string)
            return self._url

    @property
    def base_url(self) -> URL:
        """The app's root URL: scheme, host and root path, with a trailing slash (Starlette's).
        In a mounted app, the serving app's root (Starlette's `app_root_path`)."""
        try:
            return self._base_url
        except AttributeError:
            top = self._serving_app()
            root = self.root_path if top is self._app else (top.root_path or top.server_root_path)
            self._base_url = URL(self._raw.scheme, self._netloc(), root if root.endswith("/") else root + "/", "")
            return self._base_url

    @property
    def root_path(self) -> str:
        """`scope["root_path"]`: the app's `root_path=` if set (FastAPI puts it in the scope),
        else the server's `--root-path`; for an app mounted in another, the serving app's root
        path followed by the mounts' prefixes (Starlette's `Mount` appends them)."""
        app = self._app
        if app is None:
            return ""
        own = getattr(app, "root_path", "")
        mounts = self._raw.root_path
        if own or not mounts:
            return own or getattr(app, "server_root_path", "")
        top = app
        while getattr(top, "mounted_in", None) is not None:
            top = top.mounted_in
        return (top.root_path or top.server_root_path) + mounts

    def _netloc(self) -> str:
        return self.headers.get("host") or "localhost"

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route (or mount) called `name`, under the request's base URL.
        Raises `NoMatchFound` when no route has that name and those parameters."""
        return self._serving_app().url_path_for(name, **path_params).make_absolute_url(self.base_url)

    def _serving_app(self) -> Any:
        """The app the server serves: this request's app, or the one it is mounted in (Starlette's
        `scope["router"]`, which `url_for` names routes from, mounts as `"mount:route"`)."""
        app = self._app
        while getattr(app, "mounted_in", None) is not None:
            app = app.mounted_in
        return app

    @property
    def scope(self) -> dict[str, Any]:
        """An ASGI-style scope for code that reads one (Starlette's `request.scope`), built on
        first use. fastcore serves from Rust and has no ASGI scope of its own: changing this
        dict changes nothing about the request."""
        try:
            return self._scope
        except AttributeError:
            raw = self._raw
            prefix = getattr(self._app, "server_path_prefix", "")
            self._scope = {
                "type": "http",
                "asgi": {"version": "3.0", "spec_version": "2.4"},
                "http_version": raw.http_version,
                "method": raw.method,
                "scheme": raw.scheme,
                "path": prefix + self.path,
                "raw_path": (prefix + raw.raw_path).encode("latin-1", "replace"),
                "root_path": self.root_path,
                "query_string": raw.query_string.encode("latin-1", "replace"),
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in raw.headers],
                "client": tuple(raw.client),
                "server": None,
                "state": self.state._state,
                "app": self._app,
                "path_params": raw.path_params,
            }
            return self._scope

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    @property
    def headers(self) -> Headers:
        try:
            return self._headers
        except AttributeError:
            self._headers = Headers(self._raw.headers)
            return self._headers

    @property
    def query_params(self) -> QueryParams:
        try:
            return self._query_params
        except AttributeError:
            self._query_params = QueryParams(self._raw.query_pairs)
            return self._query_params

    @property
    def path_params(self) -> dict[str, Any]:
        return self._raw.path_params

    @property
    def cookies(self) -> dict[str, str]:
        try:
            return self._cookies
        except AttributeError:
            self._cookies = parse_cookies(self.headers.get("cookie", ""))
            return self._cookies

    @property
    def client(self) -> Address:
        try:
            return self._client
        except AttributeError:
            self._client = Address(*self._raw.client)
            return self._client

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
        form = getattr(self, "_form", None)
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
        cached = getattr(self._request, "_form", None)
        if cached is None:
            cached = self._request._form = await read_form(self._request._raw, **self._limits)
        return cached

    def __await__(self) -> Generator[Any, None, FormData]:
        return self._read().__await__()

    async def __aenter__(self) -> FormData:
        return await self._read()

    async def __aexit__(self, *exc: object) -> None:
        await self._request.close()

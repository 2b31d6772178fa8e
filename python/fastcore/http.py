"""An HTTP client for handlers, on the worker's own Tokio runtime: no thread hop, no event loop.

    @app.get("/weather")
    async def weather(city: str):
        r = await fastcore.http.get(f"http://weather.internal/v1/{city}", timeout=2)
        r.raise_for_status()
        return r.json()

    api = fastcore.http.Client(timeout=5, headers={"authorization": "Bearer ..."})

    @app.post("/orders")
    async def order(request: Request):
        a, b = await fastcore.gather(api.get("http://stock/items"), api.post("http://billing/hold", json={...}))

Only plain ``http://`` URLs are supported for now: **https is not supported yet** and an
``https://`` URL raises ``ValueError``. Requests are HTTP/1.1 over pooled keep-alive
connections (hyper's client in Rust); redirects are not followed and bodies are not
decompressed. The awaitables work inside fastcore handlers and tasks (anything a fastcore worker
drives), not under ``asyncio.run``.

Failures raise ``HTTPError`` subclasses naming the method and URL: ``ConnectError`` (refused,
unreachable, DNS), ``TimeoutError`` (also a builtin ``TimeoutError``) and, from
``Response.raise_for_status()``, ``HTTPStatusError``. Bad arguments raise ``ValueError`` or
``TypeError`` when the request is made, before anything is awaited.
"""
from __future__ import annotations

import builtins
import json as _json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, Union

from . import _core
from .datastructures import Headers

__all__ = [
    "Client", "ConnectError", "HTTPError", "HTTPStatusError", "Response", "TimeoutError",
    "delete", "get", "patch", "post", "put", "request",
]

HeaderTypes = Union[Mapping[str, str], Iterable[tuple[str, str]], None]


class HTTPError(Exception):
    """Base of every `fastcore.http` failure; `method` and `url` name the request."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class ConnectError(HTTPError):
    """No connection could be made: refused, unreachable, or the host name did not resolve."""


class TimeoutError(HTTPError, builtins.TimeoutError):
    """The whole exchange (connect, send, response and body) took longer than `timeout`."""


class HTTPStatusError(HTTPError):
    """Raised by `Response.raise_for_status()` for a 4xx or 5xx response."""

    def __init__(self, message: str, *, response: "Response") -> None:
        super().__init__(message, method=response.method, url=response.url)
        self.response = response


class Response:
    """A complete response: `status_code`, `headers` (case-insensitive), `content` (bytes)."""

    __slots__ = ("status_code", "headers", "content", "method", "url")

    def __init__(self, status_code: int, headers: Headers | list[tuple[str, str]], content: bytes = b"", *,
                 method: str = "GET", url: str = "") -> None:
        self.status_code = status_code
        self.headers = headers if isinstance(headers, Headers) else Headers(list(headers))
        self.content = content
        self.method = method
        self.url = url

    @property
    def reason_phrase(self) -> str:
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def encoding(self) -> str:
        """The `charset` of the content-type header, else UTF-8."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:  # an unknown charset
            return self.content.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        return _json.loads(self.content, **kwargs)

    def raise_for_status(self) -> "Response":
        """Raises `HTTPStatusError` for a 4xx or 5xx status; returns the response otherwise."""
        if self.status_code >= 400:
            kind = "Client error" if self.status_code < 500 else "Server error"
            raise HTTPStatusError(f"{kind} '{self.status_code} {self.reason_phrase}' for {self.method} {self.url}",
                                  response=self)
        return self

    def __repr__(self) -> str:
        phrase = self.reason_phrase
        return f"<Response [{self.status_code}{' ' + phrase if phrase else ''}]>"


def _header_pairs(headers: HeaderTypes) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Headers):
        pairs = headers.multi_items()
    elif isinstance(headers, Mapping):
        pairs = list(headers.items())
    else:
        pairs = [tuple(p) for p in headers]
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(x, str) for x in pair):
            raise TypeError(f"headers must be str names and str values, got {pair!r}")
    return pairs  # type: ignore[return-value]


class Client:
    """Pooled keep-alive connections (one pool per worker thread), default headers and timeout.

    `timeout` (seconds, None for no limit) bounds each whole exchange, body included; a
    request's own `timeout` replaces it. `headers` are sent with every request; a request's
    headers replace default headers of the same name. Share one client: it is safe to use from
    every worker at once. `close()` drops idle connections; the client stays usable.
    """

    def __init__(self, timeout: float | None = None, headers: HeaderTypes = None) -> None:
        self.timeout = timeout
        self.headers = _header_pairs(headers)
        self._core = _core.HttpClient()

    def request(self, method: str, url: str, *, headers: HeaderTypes = None, json: Any = None,
                content: bytes | str | None = None, timeout: float | None = None) -> Any:
        """An awaitable of the `Response`. `json` is encoded like a fastcore JSON response and
        sent as application/json; `content` is sent as is (str as UTF-8)."""
        if json is not None and content is not None:
            raise TypeError("pass json= or content=, not both")
        pairs = self.headers
        if headers is not None:
            extra = _header_pairs(headers)
            replaced = {name.lower() for name, _ in extra}
            pairs = [p for p in pairs if p[0].lower() not in replaced] + extra
        body: bytes | None = None
        if json is not None:
            body = _core.encode_json(json)
            if not any(name.lower() == "content-type" for name, _ in pairs):
                pairs = [*pairs, ("content-type", "application/json")]
        elif isinstance(content, str):
            body = content.encode()
        elif isinstance(content, (bytes, bytearray, memoryview)):
            body = bytes(content)
        elif content is not None:
            raise TypeError(f"content must be bytes or str, not {type(content).__name__}")
        url = url.partition("#")[0]  # fragments are not sent
        return self._core.request(method, url, pairs, body, self.timeout if timeout is None else timeout)

    def get(self, url: str, *, headers: HeaderTypes = None, timeout: float | None = None) -> Any:
        return self.request("GET", url, headers=headers, timeout=timeout)

    def delete(self, url: str, *, headers: HeaderTypes = None, timeout: float | None = None) -> Any:
        return self.request("DELETE", url, headers=headers, timeout=timeout)

    def post(self, url: str, *, headers: HeaderTypes = None, json: Any = None, content: bytes | str | None = None,
             timeout: float | None = None) -> Any:
        return self.request("POST", url, headers=headers, json=json, content=content, timeout=timeout)

    def put(self, url: str, *, headers: HeaderTypes = None, json: Any = None, content: bytes | str | None = None,
            timeout: float | None = None) -> Any:
        return self.request("PUT", url, headers=headers, json=json, content=content, timeout=timeout)

    def patch(self, url: str, *, headers: HeaderTypes = None, json: Any = None, content: bytes | str | None = None,
              timeout: float | None = None) -> Any:
        return self.request("PATCH", url, headers=headers, json=json, content=content, timeout=timeout)

    def close(self) -> None:
        self._core.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(timeout={self.timeout!r}, headers={self.headers!r})"


_default = Client()


def request(method: str, url: str, *, headers: HeaderTypes = None, json: Any = None,
            content: bytes | str | None = None, timeout: float | None = None) -> Any:
    """`await fastcore.http.request("PUT", url, json={...})`, on the shared default client."""
    return _default.request(method, url, headers=headers, json=json, content=content, timeout=timeout)


def get(url: str, *, headers: HeaderTypes = None, timeout: float | None = None) -> Any:
    return _default.request("GET", url, headers=headers, timeout=timeout)


def delete(url: str, *, headers: HeaderTypes = None, timeout: float | None = None) -> Any:
    return _default.request("DELETE", url, headers=headers, timeout=timeout)


def post(url: str, *, headers: HeaderTypes = None, json: Any = None, content: bytes | str | None = None,
         timeout: float | None = None) -> Any:
    return _default.request("POST", url, headers=headers, json=json, content=content, timeout=timeout)


def put(url: str, *, headers: HeaderTypes = None, json: Any = None, content: bytes | str | None = None,
        timeout: float | None = None) -> Any:
    return _default.request("PUT", url, headers=headers, json=json, content=content, timeout=timeout)


def patch(url: str, *, headers: HeaderTypes = None, json: Any = None, content: bytes | str | None = None,
          timeout: float | None = None) -> Any:
    return _default.request("PATCH", url, headers=headers, json=json, content=content, timeout=timeout)

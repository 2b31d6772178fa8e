"""Responses a handler can return when a plain value is not enough.

    @app.get("/legacy")
    def legacy():
        return Response("<x/>", media_type="application/xml", headers={"x-kind": "legacy"})

The Rust core reads three attributes: `status_code`, `body` (bytes) and `raw_headers`
(a list of `(name, value)` pairs that already includes the content type).
"""
from __future__ import annotations

from typing import Any, Mapping


# A plain dict, not functools.lru_cache: on 3.13t its reads take no lock, so worker threads do
# not contend on it.
_content_types: dict[tuple[str | None, str], str | None] = {}


def _content_type(media_type: str | None, charset: str) -> str | None:
    key = (media_type, charset)
    try:
        return _content_types[key]
    except KeyError:
        pass
    value = media_type
    if media_type is not None and media_type.startswith("text/") and "charset=" not in media_type:
        value = f"{media_type}; charset={charset}"
    _content_types[key] = value
    return value


class Response:
    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.body = self.render(content)
        # Built with as little work as possible: a handler may create one per request.
        content_type = _content_type(self.media_type, self.charset)
        if not headers:
            self.raw_headers = [("content-type", content_type)] if content_type else []
            return
        self.raw_headers = [(k.lower(), str(v)) for k, v in headers.items()]
        if content_type and not any(k == "content-type" for k, _ in self.raw_headers):
            self.raw_headers.append(("content-type", content_type))

    def render(self, content: Any) -> bytes:
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, (bytes, bytearray, memoryview)):
            return bytes(content)
        return str(content).encode(self.charset)

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.raw_headers)

    def set_cookie(self, key: str, value: str = "", *, max_age: int | None = None, path: str = "/",
                   httponly: bool = False, samesite: str | None = "lax") -> None:
        parts = [f"{key}={value}", f"Path={path}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if httponly:
            parts.append("HttpOnly")
        if samesite:
            parts.append(f"SameSite={samesite}")
        self.raw_headers.append(("set-cookie", "; ".join(parts)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, media_type={self.media_type!r})"


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        from ._core import encode_json

        return encode_json(content)


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class RedirectResponse(Response):
    def __init__(self, url: str, status_code: int = 307, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(None, status_code, {**(headers or {}), "location": url})

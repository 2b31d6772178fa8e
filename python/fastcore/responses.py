"""Responses a handler can return when a plain value is not enough, with Starlette's API.

    @app.get("/legacy")
    def legacy():
        return Response("<x/>", media_type="application/xml", headers={"x-kind": "legacy"})

The Rust core reads `status_code`, `body` (bytes), `raw_headers` (a list of `(name, value)`
str pairs that already includes the content type and length, as Starlette's `init_headers`
sets them; `headers` is a case-insensitive `MutableHeaders` view over it) and `background`
(run after the response has been sent). A response without `body` is streamed: the core calls
`_stream_into(send)` (`StreamingResponse`) and sends what it is given, or `_file_plan(...)`
(`FileResponse`) and sends the file from Rust.
"""
from __future__ import annotations

import hashlib
import http.cookies
import os
import stat
import sys
import threading
from datetime import datetime
from email.utils import format_datetime, formatdate
from mimetypes import guess_type
from secrets import token_hex
from typing import Any, Awaitable, Callable, Iterator, Literal, Mapping
from urllib.parse import quote

from ._core import byte_ranges, encode_json, to_thread
from .background import BackgroundTask
from .datastructures import MutableHeaders

# A plain dict, not functools.lru_cache: on 3.13t its reads take no lock, so worker threads do
# not contend on it.
_content_types: dict[tuple[str | None, str], str | None] = {}


def _content_type(media_type: str | None, charset: str) -> str | None:
    """The content-type header for a media type: text types get the charset, as Starlette does."""
    key = (media_type, charset)
    try:
        return _content_types[key]
    except KeyError:
        pass
    value = media_type
    if media_type is not None and media_type.startswith("text/") and "charset=" not in media_type.lower():
        value = f"{media_type}; charset={charset}"
    _content_types[key] = value
    return value


_LENGTHS = tuple(str(n) for n in range(1024))
_utf8_content_types: dict[str | None, str | None] = {}


class Response:
    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes | memoryview:
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, memoryview):
            return content.cast("B") if content.c_contiguous else content.tobytes()
        if isinstance(content, bytes):
            return content
        if isinstance(content, bytearray):
            return bytes(content)
        return content.encode(self.charset)  # type: ignore[no-any-return]

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Builds `raw_headers` as Starlette does: the given headers (names lower-cased), then
        content-length (unless given, or the status has no body) and content-type (unless
        given; text types get the charset)."""
        # Written for speed (a handler may build one per request): the common case, no headers
        # and a utf-8 media type, costs two dict lookups and two tuples.
        if headers is None:
            raw: list[tuple[str, str]] = []
            add_length = add_type = True
        else:
            raw = [(k.lower(), v) for k, v in headers.items()]
            keys = [k for k, _ in raw]
            add_length = "content-length" not in keys
            add_type = "content-type" not in keys
        try:
            body = self.body
        except AttributeError:  # a streamed or file response
            body = None
        if body is not None and add_length:
            status = self.status_code
            if not (status < 200 or status == 204 or status == 304):
                n = len(body)
                raw.append(("content-length", _LENGTHS[n] if n < 1024 else str(n)))
        if add_type:
            media_type = self.media_type
            if self.charset == "utf-8":
                try:
                    content_type = _utf8_content_types[media_type]
                except KeyError:
                    content_type = _utf8_content_types[media_type] = _content_type(media_type, "utf-8")
            else:
                content_type = _content_type(media_type, self.charset)
            if content_type is not None:
                raw.append(("content-type", content_type))
        self.raw_headers = raw

    @property
    def headers(self) -> MutableHeaders:
        try:
            return self._headers
        except AttributeError:
            self._headers = MutableHeaders(raw=self.raw_headers)
            return self._headers

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Adds a `set-cookie` header, formatted by `http.cookies` exactly as Starlette does."""
        cookie: http.cookies.BaseCookie[str] = http.cookies.SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = max_age  # type: ignore[assignment]
        if expires is not None:
            morsel["expires"] = (format_datetime(expires, usegmt=True) if isinstance(expires, datetime)
                                 else expires)  # type: ignore[assignment]
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True  # type: ignore[assignment]
        if httponly:
            morsel["httponly"] = True  # type: ignore[assignment]
        if samesite is not None:
            assert samesite.lower() in ("strict", "lax", "none"), "samesite must be either 'strict', 'lax' or 'none'"
            morsel["samesite"] = samesite
        if partitioned:
            if sys.version_info < (3, 14):
                raise ValueError("Partitioned cookies are only supported in Python 3.14 and above.")
            morsel["partitioned"] = True  # type: ignore[assignment]
        self.raw_headers.append(("set-cookie", cookie.output(header="").strip()))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        self.set_cookie(key, max_age=0, expires=0, path=path, domain=domain, secure=secure, httponly=httponly,
                        samesite=samesite, partitioned=partitioned)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, media_type={self.media_type!r})"


def json_response(body: bytes, status_code: int) -> Response:
    """`Response(body, status_code, media_type="application/json")` for JSON already encoded,
    built without the generic steps (the route's `response_model` answers, once per request)."""
    if status_code < 200 or status_code == 204 or status_code == 304:
        return Response(body, status_code=status_code, media_type="application/json")
    resp = Response.__new__(Response)
    resp.status_code = status_code
    resp.media_type = "application/json"
    resp.background = None
    resp.body = body
    n = len(body)
    resp.raw_headers = [("content-length", _LENGTHS[n] if n < 1024 else str(n)), ("content-type", "application/json")]
    return resp


class HTMLResponse(Response):
    media_type = "text/html"


class PlainTextResponse(Response):
    media_type = "text/plain"


class JSONResponse(Response):
    """JSON encoded in Rust: compact, UTF-8 (not ASCII-escaped), NaN refused, as Starlette's."""

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        return encode_json(content)


class RedirectResponse(Response):
    def __init__(
        self,
        url: Any,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers, background=background)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


class StreamingResponse(Response):
    """A body sent chunk by chunk, as `content` (a sync or async iterator of str or bytes)
    produces it, with backpressure: a slow client slows the iterator down instead of making the
    server buffer the stream. A sync iterator's `next()` runs in the worker's thread pool, as
    Starlette runs it; an async one is stepped on the worker. If the client goes away, the
    iterator is closed (`aclose()` / `close()`), so its `finally` blocks run."""

    body_iterator: Any

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.body_iterator = content
        self.status_code = status_code
        self.media_type = self.media_type if media_type is None else media_type
        self.background = background
        self.init_headers(headers)

    async def _stream_into(self, send: Callable[[bytes], Awaitable[None]]) -> None:
        """Called by the core with `send`, which waits while the client is behind."""
        charset = self.charset
        content = self.body_iterator
        if hasattr(content, "__aiter__"):
            iterator = content.__aiter__()
            try:
                async for chunk in iterator:
                    await send(chunk.encode(charset) if isinstance(chunk, str) else chunk)
            finally:
                aclose = getattr(iterator, "aclose", None)
                if aclose is not None:
                    await aclose()
            return
        iterator = iter(content)
        # One thread at a time inside the iterator: a `next()` still running in the pool when
        # the client goes away must finish before `close()` may run.
        lock = threading.Lock()
        try:
            while True:
                chunk = await to_thread(_next_chunk, iterator, lock)
                if chunk is _END:
                    break
                await send(chunk.encode(charset) if isinstance(chunk, str) else chunk)
        finally:
            if hasattr(iterator, "close"):
                await to_thread(_close, iterator, lock)


_END = object()


def _next_chunk(iterator: Iterator[Any], lock: threading.Lock) -> Any:
    with lock:
        return next(iterator, _END)


def _close(iterator: Any, lock: threading.Lock) -> None:
    with lock:
        iterator.close()


class MalformedRangeHeader(Exception):
    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content


class RangeNotSatisfiable(Exception):
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size


class FileResponse(Response):
    """A file sent from Rust in chunks, with Starlette's headers (content-type guessed from the
    name, content-length, last-modified, etag, content-disposition, accept-ranges) and its
    answers to `Range` (206, multipart byte ranges, 416, 400), `If-Range` and `HEAD`.

    The core calls `_file_plan(method, range, if_range)`, which decides all of that as
    Starlette's `FileResponse.__call__` does and returns `(status, raw_headers, path, pieces)`,
    pieces being `(start, end)` ranges of the file and literal `bytes`, or a Response to send
    instead; Rust then reads and sends the pieces."""

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        # Older Starlette's `method`: "HEAD" sends the headers only, whatever the request's.
        self.send_header_only = method is not None and method.upper() == "HEAD"
        if media_type is None:
            media_type = guess_type(filename or path)[0] or "application/octet-stream"
        self.media_type = media_type
        self.background = background
        self.init_headers(headers)
        self.headers.setdefault("accept-ranges", "bytes")
        if self.filename is not None:
            quoted = quote(self.filename)
            if quoted != self.filename:
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{self.filename}"'
            self.headers.setdefault("content-disposition", disposition)
        self.stat_result = stat_result
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        """content-length, last-modified and etag (md5 of "mtime-size"), as Starlette 1.10."""
        etag_base = f"{stat_result.st_mtime}-{stat_result.st_size}"
        etag = f'"{hashlib.md5(etag_base.encode(), usedforsecurity=False).hexdigest()}"'
        self.headers.setdefault("content-length", str(stat_result.st_size))
        self.headers.setdefault("last-modified", formatdate(stat_result.st_mtime, usegmt=True))
        self.headers.setdefault("etag", etag)

    def _file_plan(self, method: str, http_range: str | None, http_if_range: str | None) -> Any:
        if self.stat_result is None:
            try:
                stat_result = os.stat(self.path)
                self.set_stat_headers(stat_result)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.")
            if not stat.S_ISREG(stat_result.st_mode):
                raise RuntimeError(f"File at path {self.path} is not a file.")
        else:
            stat_result = self.stat_result
        size = stat_result.st_size
        header_only = self.send_header_only or method.upper() == "HEAD"
        path = os.fsdecode(self.path)
        if (
            self.status_code != 200
            or http_range is None
            or method.upper() not in ("GET", "HEAD")
            or (http_if_range is not None and not self._should_use_range(http_if_range))
        ):
            return self.status_code, self.raw_headers, path, [] if header_only else [(0, size)]
        try:
            ranges = self._parse_range_header(http_range, size)
        except MalformedRangeHeader as exc:
            return PlainTextResponse(exc.content, status_code=400)
        except RangeNotSatisfiable as exc:
            return PlainTextResponse(status_code=416, headers={"Content-Range": f"bytes */{exc.max_size}"})
        if not ranges:
            return self.status_code, self.raw_headers, path, [] if header_only else [(0, size)]
        headers = MutableHeaders(raw=list(self.raw_headers))
        if len(ranges) == 1:
            start, end = ranges[0]
            headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
            headers["content-length"] = str(end - start)
            return 206, headers.raw, path, [] if header_only else [(start, end)]
        # Browsers use about 13 bytes of entropy in their boundaries; so does Starlette.
        boundary = token_hex(13)
        content_type = self.headers["content-type"]
        pieces: list[Any] = []
        for start, end in ranges:
            pieces.append(f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                          f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n".encode("latin-1"))
            pieces.append((start, end))
            pieces.append(b"\r\n")
        pieces.append(f"--{boundary}--".encode("latin-1"))
        length = sum(len(p) if isinstance(p, bytes) else p[1] - p[0] for p in pieces)
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(length)
        return 206, headers.raw, path, [] if header_only else pieces

    def _should_use_range(self, http_if_range: str) -> bool:
        if http_if_range.startswith("W/"):
            return False
        return http_if_range == self.headers["last-modified"] or http_if_range == self.headers["etag"]

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        """Starlette's rules, in Rust (`src/response/file.rs`, which static files use too): the
        merged ranges, or [] to send the whole file."""
        ranges = byte_ranges(http_range, file_size)
        if isinstance(ranges, str):
            raise MalformedRangeHeader(ranges)
        if ranges is None:
            raise RangeNotSatisfiable(file_size)
        return ranges

"""Form bodies (`multipart/form-data` and `application/x-www-form-urlencoded`) as FormData.

    form = await request.form()                  # async handlers: streamed as it arrives
    form = parse_form(raw)                       # sync handlers: the body was read already
    upload = form["file"]                        # an UploadFile; text fields are str

The bytes are parsed in Rust (`src/request/multipart.rs`, `src/request/form.rs`) with
python-multipart's grammar and Starlette's limits: `max_files` and `max_fields` parts, text
parts of at most `max_part_size` bytes. A file part stays in memory up to 1 MiB; past that
Rust writes it to an unlinked temporary file and hands over its descriptor, which becomes the
on-disk file of the part's `SpooledTemporaryFile`, so an upload is never held twice. A refused
form raises `HTTPException(400, detail)` with the detail FastAPI sends ("Invalid multipart
data.", "Missing boundary in multipart.", "Too many files. Maximum number of files is 1000.",
...); other content types give an empty FormData, as in Starlette.
"""
from __future__ import annotations

import codecs
import os
import sys
from tempfile import SpooledTemporaryFile
from typing import Any

from ._core import RawRequest, parse_options_header, parse_urlencoded
from .datastructures import FormData, Headers, UploadFile
from .exceptions import HTTPException

__all__ = ["SPOOL_MAX_SIZE", "parse_form", "read_form"]

SPOOL_MAX_SIZE = 1024 * 1024
"""File parts larger than this (bytes) are spilled to disk, as Starlette's spool."""

_MULTIPART, _URLENCODED = "multipart/form-data", "application/x-www-form-urlencoded"


def parse_form(raw: RawRequest, *, max_files: int | float = 1000, max_fields: int | float = 1000,
               max_part_size: int = 1024 * 1024) -> FormData:
    """The form of a request whose body was read already (sync handlers)."""
    kind, boundary, charset = _content_type(raw)
    if kind == _MULTIPART:
        items = raw.parse_multipart(boundary, charset, _limit(max_files), _limit(max_fields),
                                    _limit(max_part_size), SPOOL_MAX_SIZE)
        return _build(items, charset)
    if kind == _URLENCODED:
        return FormData(parse_urlencoded(raw.body, _limit(max_fields), _limit(max_part_size)))
    return FormData()


async def read_form(raw: RawRequest, *, max_files: int | float = 1000, max_fields: int | float = 1000,
                    max_part_size: int = 1024 * 1024) -> FormData:
    """The form of a request, streaming its body through the parser if it is unread (async
    handlers); also works on a body already read."""
    kind, boundary, charset = _content_type(raw)
    if kind == _MULTIPART:
        items = await raw.read_multipart(boundary, charset, _limit(max_files), _limit(max_fields),
                                         _limit(max_part_size), SPOOL_MAX_SIZE)
        return _build(items, charset)
    if kind == _URLENCODED:
        body = await raw.read_body()
        return FormData(parse_urlencoded(body, _limit(max_fields), _limit(max_part_size)))
    return FormData()


def _limit(n: int | float) -> int:
    """Starlette's limits may be `float('inf')`; Rust takes a count."""
    return max(0, int(min(n, sys.maxsize)))


def _content_type(raw: RawRequest) -> tuple[str, bytes, str]:
    """(media type, boundary, charset codec name) from the first Content-Type header."""
    header = next((v for k, v in raw.headers if k == "content-type"), "")
    kind, params = parse_options_header(header)
    if kind != _MULTIPART:
        return kind, b"", "utf-8"
    options = dict(params)
    try:
        charset = codecs.lookup(options.get("charset", "utf-8")).name
    except LookupError:
        charset = "latin-1"
    if "boundary" not in options:
        raise HTTPException(400, "Missing boundary in multipart.")
    return kind, options["boundary"].encode("latin-1"), charset


def _decode(value: str | bytes, charset: str) -> str:
    """Rust decodes UTF-8 and latin-1 forms; other charsets arrive as bytes (Starlette's
    `_user_safe_decode`: latin-1 when the charset cannot decode them)."""
    if isinstance(value, str):
        return value
    try:
        return value.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return value.decode("latin-1")


def _build(items: list[Any], charset: str) -> FormData:
    """FormData from the parser's parts; spilled file parts' descriptors are adopted (or
    closed, if building fails part-way)."""
    out: list[tuple[str, str | UploadFile]] = []
    try:
        for n, item in enumerate(items):
            if len(item) == 2:
                out.append((_decode(item[0], charset), _decode(item[1], charset)))
                continue
            name, filename, headers, content, size = item
            spool = _spool(content)
            items[n] = None  # its descriptor (if spilled) is owned by the spool from here on
            out.append((_decode(name, charset), UploadFile(spool, size=size,
                                                           filename=_decode(filename, charset),
                                                           headers=Headers(headers))))
    except BaseException:
        for item in items:
            if item is not None and len(item) == 5 and isinstance(item[3], int):
                os.close(item[3])
        for _, value in out:
            if isinstance(value, UploadFile):
                value.file.close()
        raise
    return FormData(out)


def _spool(content: bytes | int) -> SpooledTemporaryFile[bytes]:
    """A SpooledTemporaryFile at position 0: in memory for bytes; for a descriptor, already
    rolled over onto that (unlinked) file, as `rollover()` leaves it."""
    spool: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE)
    if isinstance(content, bytes):
        spool.write(content)
    else:
        spool._file.close()  # type: ignore[attr-defined]
        spool._file = open(content, "w+b")  # type: ignore[attr-defined]  # noqa: SIM115
        spool._rolled = True  # type: ignore[attr-defined]
    spool.seek(0)
    return spool

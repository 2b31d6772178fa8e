"""GZipMiddleware (python/fastcore/middleware/gzip.py, src/middleware/gzip.rs) on
tests/apps/fa_gzip.py, by fastcore and by FastAPI (where installed). Bodies are compared
decompressed, and the compressed bytes themselves where Starlette's would be the same."""
from __future__ import annotations

import gzip
import socket
from typing import Iterator

import pytest

from .compat import Pair, comparable_headers, serve_pair
from .conftest import ServerFactory

GZ = {"accept-encoding": "gzip"}
NONE = {"accept-encoding": "identity"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("gzip")), "fa_gzip", "--threads", "1")


@pytest.fixture(scope="module")
def level1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("gzip1")), "fa_gzip", "--threads", "1",
                          attr="app_level1")


def raw_get(pair: Pair, path: str, headers: dict[str, str]) -> tuple[bytes, bytes]:
    """The response head and the body as sent (httpx would decompress it)."""
    with pair.client.stream("GET", path, headers=headers) as r:
        body = b"".join(r.iter_raw())
    return r.headers, body


@pytest.mark.parametrize("path", ["/big", "/text"])
def test_compressed_when_accepted(app: Pair, path: str) -> None:
    r = app.get(path, headers=GZ)  # compares status, decompressed body and headers
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == ("Cookie, Accept-Encoding" if path == "/text" else "Accept-Encoding")
    headers, sent = raw_get(app, path, GZ)
    assert int(headers["content-length"]) == len(sent) < len(r.content)
    assert gzip.decompress(sent) == r.content
    if app.reference is not None:  # the same zlib with the same parameters: the same bytes
        with app.reference.stream("GET", path, headers=GZ) as theirs:
            assert b"".join(theirs.iter_raw()) == sent


@pytest.mark.parametrize("path", ["/big", "/text"])
def test_not_accepted_gets_vary_only(app: Pair, path: str) -> None:
    r = app.get(path, headers=NONE)
    assert "content-encoding" not in r.headers and "Accept-Encoding" in r.headers["vary"]


@pytest.mark.parametrize("path", ["/small", "/encoded", "/image"])
def test_left_alone(app: Pair, path: str) -> None:
    """Under minimum_size, already encoded, or an excluded type: untouched, no Vary."""
    r = app.get(path, headers=GZ)
    assert r.headers.get("content-encoding") in (None, "identity") and "vary" not in r.headers


def test_stream_compressed_incrementally(app: Pair) -> None:
    r = app.client.get("/stream", headers=GZ)
    expected = "".join(f"chunk {i} " * 20 for i in range(5)).encode()
    assert r.content == expected
    assert r.headers["content-encoding"] == "gzip" and "content-length" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"
    headers, sent = raw_get(app, "/stream", GZ)
    assert gzip.decompress(sent) == expected
    if app.reference is not None:
        theirs = app.reference.get("/stream", headers=GZ)
        assert theirs.content == expected
        assert [h for h in comparable_headers(r) if h[0] != "transfer-encoding"] == comparable_headers(theirs)
        with app.reference.stream("GET", "/stream", headers=GZ) as t:
            assert b"".join(t.iter_raw()) == sent


def test_stream_chunks_arrive_flushed(app: Pair) -> None:
    """Each chunk is sync-flushed: the first one decompresses before the stream ends."""
    headers, sent = raw_get(app, "/stream", GZ)
    decompressor = __import__("zlib").decompressobj(16 + 15)
    assert decompressor.decompress(sent[: len(sent) // 2])  # a prefix already yields data


def test_stream_not_accepted(app: Pair) -> None:
    r = app.client.get("/stream", headers=NONE)
    assert "content-encoding" not in r.headers and r.headers["vary"] == "Accept-Encoding"


def test_event_stream_untouched(app: Pair) -> None:
    r = app.client.get("/events", headers=GZ)
    assert r.text == "data: 1\n\ndata: 2\n\n"
    assert "content-encoding" not in r.headers and "vary" not in r.headers


def test_compresslevel(level1: Pair, app: Pair) -> None:
    r = level1.get("/text", headers=GZ)
    assert r.headers["content-encoding"] == "gzip"
    fast, _ = raw_get(level1, "/text", GZ)
    best, _ = raw_get(app, "/text", GZ)
    assert fast["content-length"] != best["content-length"]


def test_small_error_untouched(app: Pair) -> None:
    r = app.check("HEAD", "/text", headers=GZ)  # FastAPI routes answer HEAD with a 405
    assert r.status_code == 405 and "content-encoding" not in r.headers


def test_gzip_named_anywhere_in_accept_encoding(app: Pair) -> None:
    r = app.get("/text", headers={"accept-encoding": "br;q=1.0, gzip;q=0.8"})
    assert r.headers["content-encoding"] == "gzip"

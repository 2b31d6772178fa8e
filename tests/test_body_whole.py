"""Large request bodies read whole, straight into the `bytes` handed to Python when their
length is declared (src/request/whole.rs, src/request/body.rs), over real sockets: every byte
arrives, in order, for async and sync handlers, streamed after being read, parsed as JSON and
as a multipart form; bodies without a declared length (chunked) and over the limit behave as
before. App: tests/apps/whole_body.py."""
from __future__ import annotations

import hashlib
import json
import os

import httpx
import pytest

from .conftest import ServerFactory


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    factory = ServerFactory(tmp_path_factory.mktemp("whole_body"))
    srv = factory("whole_body", "--threads", "1", "--max-body", str(8 * 1024 * 1024))
    try:
        yield f"http://127.0.0.1:{srv.port}"
    finally:
        problems = factory.close()
        assert not problems, "\n".join(problems)


def digest(body: bytes) -> dict:
    return {"size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "type": "bytes"}


SIZES = [1, 70_000, 1024 * 1024, 3 * 1024 * 1024 + 17]


@pytest.mark.parametrize("size", SIZES)
def test_async_handler_reads_every_byte(base: str, size: int) -> None:
    body = os.urandom(size)
    r = httpx.post(f"{base}/async", content=body, timeout=30)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got.pop("identical") or size < 1024 * 1024  # read into one bytes object, handed out as is
    assert got == {**digest(body), "same": True}


@pytest.mark.parametrize("size", SIZES)
def test_sync_handler_reads_every_byte(base: str, size: int) -> None:
    body = os.urandom(size)
    r = httpx.post(f"{base}/sync", content=body, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == digest(body)


def test_chunked_body_without_a_declared_length(base: str) -> None:
    pieces = [os.urandom(50_000) for _ in range(40)]
    for route in ("async", "sync"):
        r = httpx.post(f"{base}/{route}", content=iter(pieces), timeout=30)
        assert "content-length" not in r.request.headers
        assert r.status_code == 200, r.text
        assert r.json()["sha256"] == hashlib.sha256(b"".join(pieces)).hexdigest()


def test_stream_after_body_gives_the_same_bytes(base: str) -> None:
    body = os.urandom(2 * 1024 * 1024)
    r = httpx.post(f"{base}/stream-after-body", content=body, timeout=30)
    assert r.json() == {**digest(body), "streamed": digest(body)}


def test_large_json_body(base: str) -> None:
    value = {f"k{i}": "x" * 100 for i in range(20_000)}
    r = httpx.post(f"{base}/json", content=json.dumps(value).encode(), timeout=30)
    assert r.json() == {"keys": 20_000, "last": "x" * 100}


def test_large_multipart_file(base: str) -> None:
    data = os.urandom(2 * 1024 * 1024 + 5)
    r = httpx.post(f"{base}/form", files={"file": ("f.bin", data)}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == digest(data)


def test_body_over_the_limit_is_refused(base: str) -> None:
    body = b"x" * (8 * 1024 * 1024 + 1)
    for route in ("async", "sync"):
        r = httpx.post(f"{base}/{route}", content=body, timeout=30)
        assert r.status_code == 413


def test_body_shorter_than_declared_is_not_handed_over(base: str) -> None:
    """A client that declares 1 MiB, sends half and closes: the handler gets no truncated or
    uninitialised bytes (the request fails), and the server goes on serving."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(base)
    with socket.create_connection((u.hostname, u.port)) as s:
        s.sendall(b"POST /async HTTP/1.1\r\nhost: x\r\ncontent-length: 1048576\r\n\r\n" + b"y" * 524288)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert not reply.startswith(b"HTTP/1.1 200"), reply[:200]
    body = os.urandom(1024 * 1024)
    assert httpx.post(f"{base}/async", content=body, timeout=30).json()["sha256"] == digest(body)["sha256"]


def test_concurrent_large_bodies_each_get_their_own_bytes(base: str) -> None:
    """Sixteen 1 MiB bodies at once, three rounds, on one worker thread: memory freed by one
    request is reused by the next (src/server/malloc.rs keeps it in the process), and no body
    comes back with another's bytes or stale ones."""
    from concurrent.futures import ThreadPoolExecutor

    def send(i: int) -> tuple[dict, dict]:
        body = os.urandom(1024 * 1024 + i)
        r = httpx.post(f"{base}/async", content=body, timeout=60)
        got = r.json()
        got.pop("identical", None)
        return got, {**digest(body), "same": True}

    with ThreadPoolExecutor(16) as pool:
        for _ in range(3):
            for got, expected in pool.map(send, range(16)):
                assert got == expected

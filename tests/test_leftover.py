"""A handler that answers without reading the whole request body leaves the connection usable
(src/request/leftover.rs): the rest of the body is drained (up to 1 MiB, within 1 s) before the
response, so keep-alive clients can send their next request on the same connection; a longer
remainder gets `Connection: close` and a clean close. App: tests/apps/leftover.py."""
from __future__ import annotations

import socket
import time
from typing import Iterator

import httpx
import pytest

from tests.conftest import ServerFactory, ServerProcess, read_response

SMALL = 200 * 1024          # under the 1 MiB drain bound
LARGE = 3 * 1024 * 1024     # over it, under the 16 MiB body limit


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("leftover"))
    yield factory("leftover", "--threads", "2")
    problems = factory.close()
    assert not problems, "\n".join(problems)


def post_raw(sock: socket.socket, path: str, body: bytes, *, chunked: bool = False, extra: str = "") -> None:
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                          for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n{extra}\r\n"
    else:
        framed = body
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    sock.sendall(head.encode() + framed)


def get_raw(sock: socket.socket, path: str = "/whoami") -> None:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


ROUTES = ["/async-ignore", "/async-ignore-request", "/sync-ignore", "/async-one-chunk", "/stream-ignore-not"]


@pytest.mark.parametrize("path", ["/async-ignore", "/async-ignore-request", "/sync-ignore", "/async-one-chunk"])
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_unread_body_keeps_the_connection(srv: ServerProcess, path: str, chunked: bool) -> None:
    """Three requests with a 200 KB body each, then a GET, on one raw keep-alive connection."""
    with srv.connect() as sock, sock.makefile("rb") as stream:
        for _ in range(3):
            post_raw(sock, path, b"x" * SMALL, chunked=chunked)
            resp = read_response(stream)
            assert resp.status == 200, resp
            assert resp.header("connection") is None, resp
        get_raw(sock)
        assert read_response(stream).status == 200


@pytest.mark.parametrize("path", ["/async-ignore", "/async-one-chunk"])
def test_long_remainder_closes_cleanly(srv: ServerProcess, path: str) -> None:
    """Over the drain bound: the response says `Connection: close`, and the server closes."""
    with srv.connect() as sock, sock.makefile("rb") as stream:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {LARGE}\r\n\r\n".encode()
        sock.sendall(head + b"x" * 65536)  # the rest never comes: the server must not wait for it
        resp = read_response(stream)
        assert resp.status == 200, resp
        assert resp.header("connection") == "close", resp
        assert stream.read() == b""  # closed by the server


def test_stalled_body_closes_after_the_drain_time(srv: ServerProcess) -> None:
    """A client that stops sending mid-body: the answer comes within the drain time, closing."""
    with srv.connect() as sock, sock.makefile("rb") as stream:
        head = f"POST /async-ignore HTTP/1.1\r\nHost: x\r\nContent-Length: {SMALL}\r\n\r\n".encode()
        sock.sendall(head + b"x" * 1000)
        started = time.monotonic()
        resp = read_response(stream)
        assert resp.status == 200 and resp.header("connection") == "close", resp
        assert time.monotonic() - started < 5


def test_expect_continue_never_invited(srv: ServerProcess) -> None:
    """`Expect: 100-continue` to a handler that never reads: no 100, a final answer that closes."""
    with srv.connect() as sock, sock.makefile("rb") as stream:
        sock.sendall(b"POST /async-ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        resp = read_response(stream)
        assert resp.status == 200 and resp.header("connection") == "close", resp


def test_refused_form_keeps_the_connection(srv: ServerProcess) -> None:
    """A form refused part-way (too many fields) is answered, and the connection carries on."""
    with srv.client(limits=httpx.Limits(max_connections=1)) as c:
        data = {f"f{i}": "v" * 1000 for i in range(100)}
        for _ in range(3):
            r = c.post("/form-refused", files={"upload": ("a.bin", b"y" * SMALL)}, data=data)
            assert r.status_code == 400, r.text
            assert "connection" not in r.headers
            assert c.get("/whoami").status_code == 200


@pytest.mark.parametrize("path", ["/async-ignore", "/async-ignore-request", "/sync-ignore", "/async-one-chunk",
                                  "/async-read", "/stream-ignore"])
def test_pooled_httpx_clients(srv: ServerProcess, path: str) -> None:
    """httpx reuses its pooled connections: every request succeeds, sync and async clients."""
    body = b"z" * SMALL
    with srv.client(limits=httpx.Limits(max_connections=2)) as c:
        for _ in range(20):
            assert c.post(path, content=body).status_code == 200
            assert c.get("/whoami").status_code == 200

    import asyncio

    async def main() -> None:
        async with httpx.AsyncClient(base_url=srv.base_url, timeout=15,
                                     limits=httpx.Limits(max_connections=4)) as ac:
            for _ in range(5):
                rs = await asyncio.gather(*[ac.post(path, content=body) for _ in range(8)])
                assert [r.status_code for r in rs] == [200] * 8
                assert (await ac.get("/whoami")).status_code == 200
    asyncio.run(main())


def test_streamed_response_closes_when_body_unread(srv: ServerProcess) -> None:
    """A streamed response may read the body while it is sent: the connection closes after it."""
    with srv.connect() as sock:
        post_raw(sock, "/stream-ignore", b"x" * 100)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        assert data.startswith(b"HTTP/1.1 200"), data[:200]
        assert b"connection: close" in data.lower()

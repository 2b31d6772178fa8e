"""Limits and timeouts, over real sockets (src/server/limits.rs, src/dispatch/serve.rs,
src/request/body.rs; the defaults are `fastcore.server.LIMITS`): head size and header count
(431), URI length (414), body size (413), the header-read timeout against slowloris and idle
keep-alive connections, the body-read timeout (408), the handler timeout (504, the coroutine
cancelled) and the connection cap (backpressure at accept). App: tests/apps/limits.py."""
from __future__ import annotations

import socket
import time
from typing import Iterator

import pytest

from tests.conftest import ServerFactory, ServerProcess, read_response

SMALL_LIMITS = ("--threads", "2", "--max-header-size", "4096", "--max-headers", "20", "--max-uri", "1024",
                "--max-body", "100000", "--timeout-header", "1", "--timeout-body", "1", "--timeout-handler", "1")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("limits"))
    yield factory("limits", *SMALL_LIMITS)
    problems = factory.close()
    assert not problems, "\n".join(problems)


def exchange(srv: ServerProcess, data: bytes):
    with srv.connect() as sock, sock.makefile("rb") as stream:
        sock.sendall(data)
        return read_response(stream)


def still_serves(srv: ServerProcess) -> None:
    with srv.client() as c:
        assert c.get("/whoami").status_code == 200


def test_head_over_the_size_limit_is_431(srv: ServerProcess) -> None:
    assert exchange(srv, b"GET /whoami HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 3000 + b"\r\n\r\n").status == 200
    resp = exchange(srv, b"GET /whoami HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    assert resp.status == 431, resp
    still_serves(srv)


def test_too_many_headers_is_431(srv: ServerProcess) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(18))
    assert exchange(srv, b"GET /whoami HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n").status == 200
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(30))
    assert exchange(srv, b"GET /whoami HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n").status == 431
    still_serves(srv)


def test_long_uri_is_414(srv: ServerProcess) -> None:
    assert exchange(srv, b"GET /whoami?q=" + b"a" * 900 + b" HTTP/1.1\r\nHost: x\r\n\r\n").status == 200
    resp = exchange(srv, b"GET /whoami?q=" + b"a" * 1100 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert resp.status == 414, resp
    assert resp.header("connection") == "close"
    still_serves(srv)


@pytest.mark.parametrize("path", ["/upload", "/upload-async"])
def test_body_over_the_limit_is_413(srv: ServerProcess, path: str) -> None:
    with srv.client() as c:
        assert c.post(path, content=b"x" * 100000).json() == {"size": 100000}
        r = c.post(path, content=b"x" * 100001)
        assert r.status_code == 413
        assert r.json() == {"detail": "Request body is larger than the limit of 100000 bytes"}
    still_serves(srv)


def test_slowloris_head_is_cut_off(srv: ServerProcess) -> None:
    """A head trickled in a line at a time is closed after the header timeout (1 s)."""
    with srv.connect() as sock:
        sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        sock.settimeout(0.2)
        closed = False
        for i in range(40):
            try:
                sock.sendall(b"X-Slow-%d: v\r\n" % i)
                data = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
            if data == b"" or data.startswith(b"HTTP/1.1 408"):
                closed = True
                break
        elapsed = time.monotonic() - started
    assert closed, "a slowloris head was never cut off"
    assert 0.8 < elapsed < 3, elapsed
    still_serves(srv)


def test_idle_keep_alive_connection_is_closed_by_the_header_timeout(srv: ServerProcess) -> None:
    """The header timeout (1 s here) also bounds the idle time, under the keep-alive timeout (5 s)."""
    with srv.connect() as sock, sock.makefile("rb") as stream:
        sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(stream).status == 200
        started = time.monotonic()
        assert stream.read() == b""  # the server closes the idle connection
        assert 0.8 < time.monotonic() - started < 3


@pytest.fixture(scope="module")
def keep_alive_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A 1 s keep-alive timeout under the default 30 s header timeout."""
    factory = ServerFactory(tmp_path_factory.mktemp("keepalive"))
    yield factory("limits", "--threads", "2", "--timeout-keep-alive", "1")
    problems = factory.close()
    assert not problems, "\n".join(problems)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True if the server closes `sock` (EOF or reset) within `within` seconds, sending nothing."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(keep_alive_srv: ServerProcess) -> None:
    with keep_alive_srv.connect() as sock, sock.makefile("rb") as stream:
        sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(stream).status == 200
        started = time.monotonic()
        assert stream.read() == b""  # closed by the server, cleanly, with nothing sent
        assert 0.8 < time.monotonic() - started < 4  # 1 s, not the 30 s header timeout


def test_connection_that_never_sends_is_closed_after_the_keep_alive_timeout(keep_alive_srv: ServerProcess) -> None:
    with keep_alive_srv.connect() as sock:
        assert closed_by_server(sock, 6)


def test_busy_keep_alive_connection_stays_open(keep_alive_srv: ServerProcess) -> None:
    """Requests every 0.4 s for 3 s, then a response that takes 2 s and one that trickles for
    2.5 s with 0.5 s pauses: all on the one connection, although each lasts past the 1 s."""
    with keep_alive_srv.connect() as sock, sock.makefile("rb") as stream:
        for _ in range(8):
            sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(stream).status == 200
            time.sleep(0.4)
        sock.sendall(b"GET /sleep?seconds=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = read_response(stream)
        assert resp.status == 200 and resp.body == b'{"slept":2.0}', resp
        sock.sendall(b"GET /drip?n=5&pause=0.5 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += stream.read(1)
        assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower(), head
        body = b""
        while not body.endswith(b"0\r\n\r\n"):
            byte = stream.read(1)
            assert byte, f"closed mid-stream after {body!r}"
            body += byte
        assert b"4\n" in body
        sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(stream).status == 200
        # and once it idles, it goes
        assert closed_by_server(sock, 6)


@pytest.mark.parametrize("pipelined", [False, True], ids=["sequential", "pipelined"])
def test_idle_time_counts_from_the_last_response(keep_alive_srv: ServerProcess, pipelined: bool) -> None:
    """A response 0.6 s into the idle time starts it again: the connection is still open 0.6 s
    after that response (1.2 s after the first), then closes. Pipelined: the second request
    arrived with the first, but its handler sleeps 0.6 s, so it ends later."""
    with keep_alive_srv.connect() as sock, sock.makefile("rb") as stream:
        if pipelined:
            sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\nGET /sleep?seconds=0.6 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(stream).status == 200
        else:
            sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(stream).status == 200
            time.sleep(0.6)
            sock.sendall(b"GET /sleep?seconds=0 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(stream).status == 200
        assert not closed_by_server(sock, 0.6)  # still open past the first idle time's end
        assert closed_by_server(sock, 6)


def test_slow_head_is_left_to_the_header_timeout(keep_alive_srv: ServerProcess) -> None:
    """A head arriving in pieces over 2.5 s is not idle: the keep-alive timeout (1 s) leaves it be."""
    with keep_alive_srv.connect() as sock, sock.makefile("rb") as stream:
        sock.sendall(b"GET /whoami HTTP/1.1\r\n")
        for i in range(5):
            time.sleep(0.5)
            sock.sendall(b"X-Slow-%d: v\r\n" % i)
        sock.sendall(b"Host: x\r\n\r\n")
        assert read_response(stream).status == 200


@pytest.mark.parametrize("path", ["/upload", "/upload-async"])
def test_stalled_upload_is_408(srv: ServerProcess, path: str) -> None:
    with srv.connect() as sock, sock.makefile("rb") as stream:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode() + b"x" * 10)
        started = time.monotonic()
        resp = read_response(stream)
        assert resp.status == 408, resp
        assert resp.header("connection") == "close"
        assert 0.8 < time.monotonic() - started < 3.5
    still_serves(srv)


def test_slow_but_steady_upload_passes(srv: ServerProcess) -> None:
    """The body timeout bounds each pause, not the whole upload: 2.5 s of 0.5 s pauses is fine."""
    with srv.connect() as sock, sock.makefile("rb") as stream:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n")
        for _ in range(5):
            time.sleep(0.5)
            sock.sendall(b"x" * 10)
        resp = read_response(stream)
        assert resp.status == 200 and resp.body == b'{"size":50}', resp


def test_handler_timeout_is_504_and_cancels(srv: ServerProcess) -> None:
    with srv.client() as c:
        assert c.get("/sleep", params={"seconds": 0.1}).json() == {"slept": 0.1}
        before = len(c.get("/cancelled").json()["cancelled"])
        started = time.monotonic()
        r = c.get("/sleep", params={"seconds": 30})
        assert r.status_code == 504, r.text
        assert 0.8 < time.monotonic() - started < 3
        # the coroutine got CancelledError: its finally block ran
        deadline = time.monotonic() + 5
        while len(c.get("/cancelled").json()["cancelled"]) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(c.get("/cancelled").json()["cancelled"]) == before + 1


def test_connection_cap_holds_new_connections_in_the_backlog(server: ServerFactory) -> None:
    srv = server("limits", "--threads", "2", "--max-connections", "3")
    held = []
    try:
        for _ in range(3):
            sock = srv.connect()
            stream = sock.makefile("rb")
            sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(stream).status == 200
            held.append((sock, stream))
        waiting = srv.connect()  # the kernel completes the handshake; fastcore does not accept it yet
        waiting.sendall(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        waiting.settimeout(0.7)
        with pytest.raises(socket.timeout):
            waiting.recv(1)
        sock, stream = held.pop()
        stream.close()
        sock.close()
        waiting.settimeout(5)
        assert read_response(waiting.makefile("rb")).status == 200  # admitted once one closed
        waiting.close()
    finally:
        for sock, stream in held:
            stream.close()
            sock.close()


def test_bad_limits_are_refused() -> None:
    from fastcore import FastCore, serve

    with pytest.raises(TypeError, match="unknown limits"):
        serve(FastCore(), max_header=1)  # type: ignore[call-arg]
    from fastcore._core import Server
    with pytest.raises(ValueError):
        Server(FastCore().core, "127.0.0.1", 0, 1, header_timeout=0)
    with pytest.raises(ValueError):
        Server(FastCore().core, "127.0.0.1", 0, 1, keep_alive_timeout=0)
    with pytest.raises(ValueError):
        Server(FastCore().core, "127.0.0.1", 0, 1, max_connections=0)

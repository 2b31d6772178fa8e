"""Shutdown of a server with work in flight (src/server/worker.rs, src/runtime/live.rs, python/fastcore/server.py).

At the drain deadline, coroutines still suspended get `CancelledError` in their own context
and may await in their `finally`; `to_thread` work does not hold the process beyond the drain
timeout; a second signal exits at once.
"""
from __future__ import annotations

import re
import signal
import socket
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from .conftest import ServerFactory, refused, wait_until


@pytest.fixture
def out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("FASTCORE_TEST_DIR", str(out))
    return out


def _request_in_background(url: str) -> threading.Thread:
    def go() -> None:
        try:
            httpx.get(url, timeout=30)
        except httpx.HTTPError:
            pass  # the server may close the connection at shutdown: that is what is tested

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_suspended_coroutines_are_cancelled_in_their_own_context_at_the_drain_deadline(
        server: ServerFactory, out_dir: Path) -> None:
    srv = server("hazards", "--threads", "1", "--drain-timeout", "0.5")
    for name in ("first", "second"):
        _request_in_background(f"{srv.base_url}/shutdown/suspended/{name}")
    for name in ("first", "second"):
        wait_until(lambda: "suspended" in _lines(out_dir / name), 10, f"{name} to suspend")
    started = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    assert srv.wait_exit(10) == 0
    took = time.monotonic() - started
    assert took < 0.5 + 1 + 0.5 + 3, f"shutdown took {took:.1f}s"
    for name in ("first", "second"):
        assert _lines(out_dir / name) == [
            "suspended",
            f"caught CancelledError with var=context of {name}",
            f"awaited in finally with var=context of {name}",
        ], srv.describe()


def test_to_thread_work_does_not_hold_shutdown_beyond_the_drain_timeout(
        server: ServerFactory, out_dir: Path) -> None:
    srv = server("hazards", "--threads", "1", "--drain-timeout", "1")
    _request_in_background(f"{srv.base_url}/shutdown/to-thread/sleeper")
    wait_until(lambda: "suspended" in _lines(out_dir / "sleeper"), 10, "the handler to reach to_thread")
    time.sleep(0.2)  # the blocking call is running
    started = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    assert srv.wait_exit(20) == 0
    took = time.monotonic() - started
    assert took < 1 + 1 + 0.5 + 3, f"shutdown took {took:.1f}s with a 30 s to_thread call running"


def test_a_second_signal_exits_at_once(server: ServerFactory, out_dir: Path) -> None:
    srv = server("hazards", "--threads", "1", "--drain-timeout", "20")
    _request_in_background(f"{srv.base_url}/shutdown/blocking/stuck")
    wait_until(lambda: "blocking" in _lines(out_dir / "stuck"), 10, "the sync handler to block")
    srv.send_signal(signal.SIGTERM)
    srv.wait_for_log("SIGTERM received: draining")
    started = time.monotonic()
    srv.send_signal(signal.SIGINT)
    assert srv.wait_exit(10) == 1
    assert time.monotonic() - started < 3
    srv.wait_for_log("SIGINT received again: exiting without waiting for the drain")
    server.started.remove(srv)  # its exit code 1 is the expected one


def test_new_connections_are_refused_while_a_sync_handler_blocks_a_worker(server: ServerFactory,
                                                                         out_dir: Path) -> None:
    """The blocked worker still holds its handle on the listening socket; `stop()` must stop
    the socket listening anyway, or new connections complete into the backlog unanswered."""
    srv = server("hazards", "--threads", "2", "--drain-timeout", "20")
    _request_in_background(f"{srv.base_url}/shutdown/blocking/stuck")
    wait_until(lambda: "blocking" in _lines(out_dir / "stuck"), 10, "the sync handler to block")
    srv.send_signal(signal.SIGTERM)
    srv.wait_for_log("SIGTERM received: draining")
    wait_until(lambda: refused(srv.host, srv.port), 5, "new connections to be refused while a worker is blocked")
    srv.send_signal(signal.SIGINT)  # the second signal ends the wait for the blocked handler
    assert srv.wait_exit(10) == 1
    server.started.remove(srv)


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[str, bytes] | None:
    """One response (content-length framed) from `sock`: (head, body), or None if the server
    closed before sending a byte of it: it had not read the request (a keep-alive connection
    closed between requests; the close may even reach the client as a reset, since the kernel
    resets a socket closed with unread data). A close or reset mid-response fails."""
    while b"\r\n\r\n" not in buf:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            assert not buf, f"reset after part of a response: {bytes(buf)!r}"
            return None
        if not chunk:
            assert not buf, f"closed inside a response head: {bytes(buf)!r}"
            return None
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, f"closed inside a response body: {head!r}"
        rest += chunk
    del buf[:]
    buf += rest[length:]
    return head.decode("latin-1"), rest[:length]


def test_sigterm_under_load_drains_every_accepted_request(server: ServerFactory) -> None:
    """`fastcore run --timeout-graceful-shutdown 20` with 2 workers, under a steady stream of
    keep-alive requests from 4 clients, with 7 slow requests in flight (one sync, six async, each
    answering 1 s after the signal) and 4 idle keep-alive connections. SIGTERM: the listener
    closes (new connections are refused), every slow request completes with a 200, every
    request that got an answer got all of it, no connection is reset, the idle connections are
    closed cleanly (EOF), and the process exits 0."""
    srv = server("slow", "--threads", "2", "--timeout-graceful-shutdown", "20")
    slow: dict[str, object] = {}
    stop_load = threading.Event()
    load_stats = {"answered": 0, "closed_unanswered": 0, "refused": 0}
    load_errors: list[BaseException] = []

    def slow_request(path: str) -> None:
        try:
            with srv.client(timeout=30) as c:
                slow[path] = c.get(path)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            slow[path] = exc

    def load() -> None:
        try:
            while not stop_load.is_set():
                try:
                    sock = socket.create_connection((srv.host, srv.port), timeout=10)
                except ConnectionRefusedError:
                    load_stats["refused"] += 1
                    return
                with sock:
                    buf = bytearray()
                    while not stop_load.is_set():
                        try:
                            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                        except (BrokenPipeError, ConnectionResetError):
                            load_stats["closed_unanswered"] += 1  # closed before this request
                            break
                        got = _read_response(sock, buf)
                        if got is None:
                            load_stats["closed_unanswered"] += 1  # closed between requests
                            break
                        head, body = got
                        assert head.startswith("HTTP/1.1 200") and body == b'{"message":"Hello, World!"}', got
                        load_stats["answered"] += 1
                        if "connection: close" in head.lower():
                            break
        except BaseException as exc:  # noqa: BLE001 - asserted below
            load_errors.append(exc)

    idle = []
    for _ in range(4):
        sock = socket.create_connection((srv.host, srv.port), timeout=10)
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(sock, bytearray()) is not None
        idle.append(sock)
    # One sync handler (it holds its worker thread until it answers, 1 s after the signal), then
    # six async ones and the load, which the other worker takes meanwhile.
    sync_path = f"/in-flight/{uuid.uuid4().hex[:8]}"
    paths = [sync_path] + [f"/in-flight-async/{uuid.uuid4().hex[:8]}" for _ in range(6)]
    slow_threads = [threading.Thread(target=slow_request, args=(p,)) for p in paths]
    load_threads = [threading.Thread(target=load) for _ in range(4)]
    slow_threads[0].start()
    srv.wait_for_log(f"in-flight handler started {sync_path.rsplit('/', 1)[1]}")
    for t in slow_threads[1:] + load_threads:
        t.start()
    try:
        for p in paths[1:]:
            srv.wait_for_log(f"in-flight handler started {p.rsplit('/', 1)[1]}")
        wait_until(lambda: load_stats["answered"] > 50, 30, "load to flow", srv.describe)
        srv.send_signal(signal.SIGTERM)
        srv.wait_for_log("SIGTERM received: draining")
        wait_until(lambda: refused(srv.host, srv.port), 10, "new connections to be refused", srv.describe)
        for sock in idle:  # idle keep-alive connections: closed cleanly, not reset
            sock.settimeout(10)
            assert sock.recv(1) == b""
        for t in slow_threads:
            t.join(30)
    finally:
        stop_load.set()
        for t in load_threads:
            t.join(30)
        for sock in idle:
            sock.close()
    assert not load_errors, load_errors
    for p in paths:
        resp = slow.get(p)
        assert isinstance(resp, httpx.Response), (p, resp)
        assert resp.status_code == 200 and resp.json()["saw_shutdown"] is True, (p, resp.text)
    assert srv.wait_exit() == 0
    assert load_stats["answered"] > 50, load_stats

"""Shutdown of a server with work in flight (src/server/worker.rs, src/runtime/live.rs, python/fastcore/server.py).

At the drain deadline, coroutines still suspended get `CancelledError` in their own context
and may await in their `finally`; `to_thread` work does not hold the process beyond the drain
timeout; a second signal exits at once.
"""
from __future__ import annotations

import signal
import threading
import time
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

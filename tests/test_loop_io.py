"""The worker loop's network and fd methods on Tokio (python/fastcore/_loop.py, src/fdwatch.rs):
each is exercised inside a handler, on loopback, with no selector thread."""
from __future__ import annotations

import httpx
import pytest

from .conftest import ServerFactory, ServerProcess


@pytest.fixture(scope="module")
def loop_io(tmp_path_factory: pytest.TempPathFactory):
    factory = ServerFactory(tmp_path_factory.mktemp("loop_io"))
    try:
        yield factory("loop_io", "--threads", "2")
    finally:
        problems = factory.close()
    assert not problems, "\n".join(problems)


def _get(srv: ServerProcess, path: str) -> dict:
    with srv.client(timeout=20) as c:
        r = c.get(path)
    assert r.status_code == 200, f"{r.status_code} {r.text}\n{srv.log()[-3000:]}"
    return r.json()


def test_getaddrinfo_and_getnameinfo(loop_io: ServerProcess) -> None:
    body = _get(loop_io, "/resolve")
    assert "AF_INET" in body["families"]
    assert body["name"] == ["127.0.0.1", "80"]


def test_sock_methods(loop_io: ServerProcess) -> None:
    assert _get(loop_io, "/sock") == {"received": 400_000, "intact": True, "reply": "pong"}


def test_start_server_and_open_connection_on_one_worker(loop_io: ServerProcess) -> None:
    assert _get(loop_io, "/streams") == {"lines": ["ALPHA", "BETA"]}


def test_create_connection_write_flow_control(loop_io: ServerProcess) -> None:
    assert _get(loop_io, "/flow-control") == {"events": ["pause", "resume"], "buffered_when_paused": True,
                                               "all_received": True}


def test_create_datagram_endpoint(loop_io: ServerProcess) -> None:
    assert _get(loop_io, "/datagram") == {"reply": "desserts"}


def test_add_reader_is_level_triggered_and_add_writer_fires(loop_io: ServerProcess) -> None:
    assert _get(loop_io, "/fd-callbacks") == {"data": "data", "read_calls": 3, "removed_twice": False}


def test_connect_read_pipe_and_shutdown_default_executor(loop_io: ServerProcess) -> None:
    assert _get(loop_io, "/pipe") == {"line": "through a pipe\n"}

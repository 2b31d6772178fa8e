"""StreamingResponse (python/fastcore/responses.py, src/response/stream.rs): sync and async
iterators sent chunk by chunk, backpressure against a slow client, the iterator closed when the
client goes away, failures before and after the head."""
from __future__ import annotations

import socket
import time

import httpx
import pytest

from .conftest import ServerProcess, serve_app, wait_until

MB = 1 << 20


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory):
    yield from serve_app(tmp_path_factory, "streaming", "--threads", "1")


@pytest.fixture
def client(srv: ServerProcess):
    with srv.client() as c:
        yield c


def progress(client: httpx.Client, name: str) -> dict:
    return client.get(f"/progress/{name}").json()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_chunks_of_str_bytes_and_memoryview(client: httpx.Client, kind: str) -> None:
    r = client.get(f"/{kind}")
    assert r.status_code == 200
    assert r.text == f"hello, {kind} world!"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in r.headers


def test_chunks_arrive_as_produced(client: httpx.Client) -> None:
    with client.stream("GET", "/sync") as r:
        chunks = list(r.iter_raw())
    assert b"".join(chunks) == b"hello, sync world!"
    assert len(chunks) > 1


def test_plain_iterable(client: httpx.Client) -> None:
    r = client.get("/list")
    assert r.content == b"abc" and "content-type" not in r.headers


def test_declared_length_frames_the_body(client: httpx.Client) -> None:
    r = client.get("/with-length")
    assert r.content == b"1234567890"
    assert r.headers["content-length"] == "10" and "transfer-encoding" not in r.headers


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_slow_client_bounds_what_the_server_buffers(srv: ServerProcess, client: httpx.Client, kind: str) -> None:
    """200 MB produced lazily; the client reads slowly. The generator may only get as far ahead
    of the client as the channel, hyper's write buffer and the two sockets' buffers allow."""
    name = f"slow-{kind}"
    with socket.create_connection((srv.host, srv.port)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        s.sendall(f"GET /big/{kind}/{name}/200 HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        read = 0
        aheads = []
        for _ in range(8):
            # About 4 MB/s: far slower than the generator.
            target = read + MB
            while read < target:
                read += len(s.recv(min(65536, target - read)))
            time.sleep(0.25)
            aheads.append(progress(client, name)["produced"] - read)
        assert read > 1 * MB, "the client got nothing"
        print(f"{kind}: ahead of the client by", [round(a / MB, 1) for a in aheads], "MB")
        assert max(aheads) < 24 * MB, f"the generator ran ahead of the client by {[a // MB for a in aheads]} MB"
        assert progress(client, name)["closed"] is False
    # The client went away: the generator is closed and its `finally` ran.
    wait_until(lambda: progress(client, name)["closed"], 10, f"{name}'s finally after the client left")
    assert progress(client, name)["produced"] < 100 * MB


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_whole_stream_arrives(client: httpx.Client, kind: str) -> None:
    name = f"whole-{kind}"
    total = 0
    with client.stream("GET", f"/big/{kind}/{name}/8") as r:
        for chunk in r.iter_bytes():
            total += len(chunk)
    assert total == 8 * MB
    wait_until(lambda: progress(client, name)["closed"], 10, "the generator's finally")


def test_disconnect_cancels_an_idle_iterator(srv: ServerProcess, client: httpx.Client) -> None:
    """An event stream waiting between ticks is stopped when the client leaves, not at its next
    chunk only."""
    with socket.create_connection((srv.host, srv.port)) as s:
        s.sendall(b"GET /ticks/t1 HTTP/1.1\r\nhost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(0.2)
    wait_until(lambda: progress(client, "t1")["closed"], 5, "the tick stream's finally")
    ticks = progress(client, "t1")["produced"]
    time.sleep(0.3)
    assert progress(client, "t1")["produced"] == ticks, "the iterator kept running"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_failure_mid_stream_closes_the_connection(srv: ServerProcess, client: httpx.Client, kind: str) -> None:
    with socket.create_connection((srv.host, srv.port), timeout=10) as s:
        s.sendall(f"GET /fail-mid/{kind} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    assert b"one;" in data and b"two;" in data
    assert not data.endswith(b"0\r\n\r\n"), "the body was ended as if complete"
    assert b"Traceback" not in data
    log = srv.wait_for_log(f"{kind} stream failure")
    assert "Exception in the body iterator of a StreamingResponse" in log
    assert client.get("/list").content == b"abc"


def test_failure_before_the_first_chunk_is_a_500(client: httpx.Client, srv: ServerProcess) -> None:
    r = client.get("/fail-first")
    assert r.status_code == 500 and r.text == "Internal Server Error"
    srv.wait_for_log("stream failed before its first chunk")


def test_background_runs_after_the_stream(client: httpx.Client) -> None:
    assert client.get("/background/bg1").text == "hello, async world!"
    wait_until(lambda: progress(client, "bg1")["closed"], 5, "the stream's background task")




@pytest.mark.parametrize("kind", ["sync", "async"])
def test_iterator_runs_in_the_handler_s_context(client: httpx.Client, kind: str) -> None:
    """As in FastAPI, where the body is iterated in the handler's task: a contextvar the handler
    set is what the iterator sees."""
    assert client.get(f"/context/{kind}/req-{kind}").text == f"req-{kind}"

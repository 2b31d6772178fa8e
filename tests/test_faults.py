"""Faults while serving, over real sockets against a real two-worker server: exceptions in
handlers, dependencies, yield-dependency teardowns, streaming iterators (sync and async, before
and after the first chunk) and background tasks; deep recursion; an unserialisable return
value; Rust panics inside awaitables; a handler that blocks its thread for seconds.

Each case gets FastAPI's answer (compared with FastAPI's TestClient where FastAPI is installed:
Starlette's ServerErrorMiddleware sends a text/plain `Internal Server Error`), or a closed
connection where the head had already gone, and afterwards *both* workers still serve: every
fault is sent on a keep-alive connection pinned to each worker, then that connection (where the
head had not gone) and the other worker's are used again. Apps: tests/apps/fa_faults.py
(FastAPI imports), tests/apps/faults.py (fastcore's PanicProbe)."""
from __future__ import annotations

import importlib
import socket
import threading
import uuid
from typing import Any, Iterator

import httpx
import pytest

from .compat import ported
from .conftest import ServerFactory, ServerProcess, clients_on_each_worker, fastcore_argv, wait_until

INTERNAL_ERROR = b"Internal Server Error"


def serve_ported(tmp_path_factory: pytest.TempPathFactory, app: str) -> Iterator[ServerProcess]:
    """For a module fixture: tests/apps/<app>.py ported to fastcore, two worker threads."""
    factory = ServerFactory(tmp_path_factory.mktemp(app))
    yield factory.launch(fastcore_argv(ported(app), "--threads", "2"))
    problems = factory.close()
    assert not problems, "\n".join(problems)


def fastapi_reference(app: str) -> Iterator[Any]:
    """For a module fixture: FastAPI's TestClient for tests/apps/<app>.py, answering 500s as a
    server would; None without FastAPI."""
    try:
        from fastapi.testclient import TestClient
    except ImportError:
        yield None
        return
    module = importlib.import_module(f"tests.apps.{app}")
    with TestClient(module.app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_ported(tmp_path_factory, "fa_faults")


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    yield from fastapi_reference("fa_faults")


@pytest.fixture
def workers(srv: ServerProcess) -> Iterator[dict[int, list[httpx.Client]]]:
    with clients_on_each_worker(srv, per_worker=1, route="/whoami") as by_worker:
        yield by_worker


def assert_all_workers_serve(workers: dict[int, list[httpx.Client]], srv: ServerProcess) -> None:
    """Every pinned connection still answers, on its own worker, and so do fresh connections."""
    for thread, clients in workers.items():
        for c in clients:
            r = c.get("/whoami")
            assert r.status_code == 200 and r.json() == {"thread": thread}, r.text
    for _ in range(4):
        with srv.client() as c:
            assert c.get("/whoami").status_code == 200


def marker() -> str:
    return uuid.uuid4().hex[:12]


# -- a 500 on a connection that carries on ------------------------------------------------------

INTERNAL_ERROR_PATHS = [
    ("/handler/sync", "RuntimeError: sync handler failed"),
    ("/handler/async", "RuntimeError: async handler failed"),
    ("/dep/sync", "LookupError: sync dependency failed"),
    ("/dep/async", "LookupError: async dependency failed"),
    ("/recursion/sync", "RecursionError"),
    ("/recursion/async", "RecursionError"),
    ("/recursion/coroutines", "RecursionError"),
    ("/unserialisable", "is not JSON serializable"),
    ("/unserialisable/async", "is not JSON serializable"),
]


@pytest.mark.parametrize("path, logged", INTERNAL_ERROR_PATHS)
def test_unhandled_exception_is_fastapi_s_500_on_every_worker(srv: ServerProcess, reference: Any,
                                                             workers: dict[int, list[httpx.Client]],
                                                             path: str, logged: str) -> None:
    before = srv.log().count(logged)
    for clients in workers.values():
        r = clients[0].get(path)
        assert r.status_code == 500
        assert r.content == INTERNAL_ERROR
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert "Traceback" not in r.text
        if reference is not None:
            theirs = reference.get(path)
            assert (theirs.status_code, theirs.content, theirs.headers["content-type"]) == (
                500, r.content, r.headers["content-type"])
    srv.wait_for_log(logged, count=before + len(workers))
    assert_all_workers_serve(workers, srv)


@pytest.mark.parametrize("path, logged", [("/teardown/sync", "OSError: sync teardown failed"),
                                          ("/teardown/async", "OSError: async teardown failed")])
def test_failing_yield_dependency_teardown(srv: ServerProcess, reference: Any, workers: dict[int, list[httpx.Client]],
                                           path: str, logged: str) -> None:
    """FastAPI (0.165) exits a yield dependency after the response: the client gets the handler's
    answer; the teardown's exception is only logged."""
    before = srv.log().count(logged)
    for clients in workers.values():
        r = clients[0].get(path)
        if reference is not None:
            theirs = reference.get(path)
            assert (theirs.status_code, theirs.content) == (200, b'{"value":"resource"}')
        assert (r.status_code, r.content) == (200, b'{"value":"resource"}')
    srv.wait_for_log(logged, count=before + len(workers))
    assert_all_workers_serve(workers, srv)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_failing_background_task_after_the_response(srv: ServerProcess, workers: dict[int, list[httpx.Client]],
                                                    kind: str) -> None:
    markers = []
    for clients in workers.values():
        m = marker()
        markers.append(m)
        r = clients[0].get(f"/background/{kind}/{m}")
        assert r.status_code == 200 and r.json() == {"queued": m}
    for m in markers:
        srv.wait_for_log(f"RuntimeError: {kind} background task failed {m}")
    assert_all_workers_serve(workers, srv)


# -- streams ------------------------------------------------------------------------------------

def raw_get(srv: ServerProcess, path: str) -> bytes:
    """Everything the server sends for one GET on a fresh connection, until it closes."""
    with srv.connect() as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sock.settimeout(15)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if data.endswith(b"\r\n0\r\n\r\n"):
                pytest.fail(f"a failed stream was ended as if complete: {data!r}")
        return data


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_stream_failing_mid_way_closes_the_connection(srv: ServerProcess, workers: dict[int, list[httpx.Client]],
                                                      kind: str) -> None:
    """The head and two chunks went out: the body is cut (no last chunk), the connection closed —
    no hang, as uvicorn does after "response already started"."""
    before = srv.log().count(f"{kind} stream failed at chunk 2")
    for _ in range(4):  # fresh connections, so both workers take some
        data = raw_get(srv, f"/stream/{kind}/2")
        assert data.startswith(b"HTTP/1.1 200"), data
        assert b"chunk 0\n" in data and b"chunk 1\n" in data
    srv.wait_for_log(f"{kind} stream failed at chunk 2", count=before + 4)
    assert_all_workers_serve(workers, srv)


def test_async_stream_failing_before_its_first_chunk_is_a_500(srv: ServerProcess,
                                                              workers: dict[int, list[httpx.Client]]) -> None:
    """An async iterator's first step runs before the head goes out, so a failure there is still
    a handler error: fastcore answers a 500 (Starlette would have sent its 200 head already, and
    a uvicorn client sees a cut body)."""
    for clients in workers.values():
        r = clients[0].get("/stream/async/0")
        assert (r.status_code, r.content) == (500, INTERNAL_ERROR)
    assert_all_workers_serve(workers, srv)


def test_sync_stream_failing_before_its_first_chunk_cuts_the_body(srv: ServerProcess,
                                                                  workers: dict[int, list[httpx.Client]]) -> None:
    """A sync iterator runs on the thread pool after the head went out, as Starlette's
    iterate_in_threadpool does: the client sees uvicorn's answer, a 200 head and a cut body."""
    before = srv.log().count("sync stream failed at chunk 0")
    for _ in range(4):
        data = raw_get(srv, "/stream/sync/0")
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head, data
        assert body == b"", data
    srv.wait_for_log("sync stream failed at chunk 0", count=before + 4)
    assert_all_workers_serve(workers, srv)


# -- a handler that blocks its thread ------------------------------------------------------------

def test_a_blocked_worker_does_not_stall_the_other(srv: ServerProcess, workers: dict[int, list[httpx.Client]]) -> None:
    """`time.sleep(3)` in a `def` handler holds its worker thread; the other worker answers
    meanwhile, on its pinned connection and on new ones. time.sleep releases the GIL, so this
    holds on GIL builds too; a CPU-bound handler would stall a GIL build's other workers."""
    (blocked_thread, blocked), (free_thread, free) = list(workers.items())
    outcome: dict[str, Any] = {}
    m = marker()

    def call() -> None:
        outcome["r"] = blocked[0].get(f"/block/3?m={m}")

    t = threading.Thread(target=call)
    t.start()
    srv.wait_for_log(f"blocking 3.0 s on thread {blocked_thread}")
    answered = 0
    for _ in range(10):
        r = free[0].get("/whoami")
        assert r.json() == {"thread": free_thread}
        with srv.client() as c:
            assert c.get("/whoami").json() == {"thread": free_thread}
        answered += 2
    assert t.is_alive(), "the blocking request finished before the other worker answered 20 requests"
    t.join(30)
    assert outcome["r"].json() == {"blocked": 3.0, "thread": blocked_thread}
    assert answered == 20
    assert_all_workers_serve(workers, srv)


# -- Rust panics inside awaitables (fastcore's own PanicProbe) -----------------------------------

@pytest.fixture(scope="module")
def panics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("panics"))
    yield factory("faults", "--threads", "2")
    problems = factory.close()
    assert not problems, "\n".join(problems)


PANIC_PATHS = ["/panic-awaitable", "/panic-awaitable-in-gather", "/panic-awaitable-in-task"]


def test_panic_inside_an_awaitable_is_a_500_and_the_process_lives(panics: ServerProcess) -> None:
    """A Rust future that panics while the stepper polls it (awaited directly, as a gather
    child, inside an asyncio task): `panic = "unwind"` turns it into this request's 500; the
    process does not abort, both workers carry on, on the same connections."""
    with clients_on_each_worker(panics, per_worker=1, route="/thread") as by_worker:
        before = panics.log().count("PanicProbe.panic_awaitable() polled")
        for path in PANIC_PATHS:
            for clients in by_worker.values():
                r = clients[0].get(path)
                assert (r.status_code, r.content) == (500, INTERNAL_ERROR), path
        panics.wait_for_log("PanicProbe.panic_awaitable() polled", count=before + len(PANIC_PATHS) * len(by_worker))
        for thread, clients in by_worker.items():
            assert clients[0].get("/thread").json() == {"thread": thread}
    assert panics.running
    with panics.client() as c:
        assert c.get("/ok").status_code == 200


def test_panic_awaitable_refuses_bad_input() -> None:
    from fastcore._core import PanicProbe

    with pytest.raises(ValueError):
        PanicProbe().panic_awaitable(-1)


def test_connection_reset_mid_request_spares_the_workers(srv: ServerProcess,
                                                         workers: dict[int, list[httpx.Client]]) -> None:
    """Clients that reset (RST) while their request is blocked in a handler or mid-stream."""
    for path in ["/block/0.3", "/stream/async/9"]:
        for _ in range(4):
            sock = srv.connect()
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
    wait_until(lambda: srv.log().count("blocking 0.3 s") >= 1, 10, "a blocked request", srv.describe)
    assert_all_workers_serve(workers, srv)


# -- FastAPI(debug=True) -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def debug_pair(tmp_path_factory: pytest.TempPathFactory):
    from .compat import serve_pair

    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_debug")), "fa_debug", "--threads", "2")


@pytest.fixture(scope="module")
def debug_reference() -> Iterator[Any]:
    try:
        from fastapi.testclient import TestClient
    except ImportError:
        yield None
        return
    module = importlib.import_module("tests.apps.fa_debug")
    with TestClient(module.app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("path", ["/boom", "/boom-async"])
def test_debug_mode_answers_with_the_traceback_as_text(debug_pair: Any, debug_reference: Any, path: str) -> None:
    m = marker()
    r = debug_pair.client.get(f"{path}/{m}")
    assert r.status_code == 500
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text.startswith("Traceback (most recent call last):\n")
    assert r.text.endswith(f"RuntimeError: debug <boom> {m}\n")
    assert "in inner" in r.text and 'raise RuntimeError(f"debug <boom> {marker}")' in r.text
    if debug_reference is not None:
        theirs = debug_reference.get(f"{path}/{m}")
        assert (theirs.status_code, theirs.headers["content-type"]) == (500, r.headers["content-type"])
        assert theirs.text.startswith("Traceback (most recent call last):\n")
        assert theirs.text.splitlines()[-1] == r.text.splitlines()[-1]


@pytest.mark.parametrize("path", ["/boom", "/boom-async"])
def test_debug_mode_answers_a_browser_with_an_html_page(debug_pair: Any, debug_reference: Any, path: str) -> None:
    m = marker()
    accept = "text/html,application/xhtml+xml,*/*;q=0.8"
    r = debug_pair.client.get(f"{path}/{m}", headers={"accept": accept})
    assert r.status_code == 500
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text.lstrip().lower().startswith("<!doctype html>")
    assert f"RuntimeError: debug &lt;boom&gt; {m}" in r.text  # escaped, never raw markup
    assert f"<boom> {m}" not in r.text
    assert "in inner" in r.text
    if debug_reference is not None:
        theirs = debug_reference.get(f"{path}/{m}", headers={"accept": accept})
        assert (theirs.status_code, theirs.headers["content-type"]) == (500, r.headers["content-type"])
        assert f"debug &lt;boom&gt; {m}" in theirs.text


@pytest.mark.parametrize("path", ["/handled", "/teapot"])
def test_debug_mode_leaves_handled_exceptions_alone(debug_pair: Any, path: str) -> None:
    debug_pair.get(path)  # compared with FastAPI's answer
    debug_pair.get(path, headers={"accept": "text/html"})


def test_debug_mode_is_off_by_default(srv: ServerProcess) -> None:
    from fastcore import FastCore

    assert FastCore().debug is False
    with srv.client() as c:
        r = c.get("/handler/sync", headers={"accept": "text/html"})
        assert (r.status_code, r.content) == (500, INTERNAL_ERROR)


# -- HTTP middleware ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mw_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_ported(tmp_path_factory, "fa_faults_mw")


@pytest.fixture(scope="module")
def mw_reference() -> Iterator[Any]:
    yield from fastapi_reference("fa_faults_mw")


@pytest.mark.parametrize("path, logged", [
    ("/mw/before", "RuntimeError: middleware failed before call_next"),
    ("/mw/after", "RuntimeError: middleware failed after call_next"),
    ("/mw/handler", "LookupError: handler failed under middleware"),
])
def test_middleware_faults_are_fastapi_s_500_on_every_worker(mw_srv: ServerProcess, mw_reference: Any,
                                                             path: str, logged: str) -> None:
    with clients_on_each_worker(mw_srv, per_worker=1, route="/whoami") as by_worker:
        before = mw_srv.log().count(logged)
        for clients in by_worker.values():
            r = clients[0].get(path)
            assert (r.status_code, r.content) == (500, INTERNAL_ERROR)
            assert r.headers["content-type"] == "text/plain; charset=utf-8"
            if mw_reference is not None:
                theirs = mw_reference.get(path)
                assert (theirs.status_code, theirs.content, theirs.headers["content-type"]) == (
                    500, r.content, r.headers["content-type"])
        mw_srv.wait_for_log(logged, count=before + len(by_worker))
        assert_all_workers_serve(by_worker, mw_srv)

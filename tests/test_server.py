"""The server process: faults and panics (src/dispatch/serve.rs, src/response/convert.rs,
python/fastcore/applications.py), body limits (src/request/body.rs), worker threads and processes
(src/server/control.rs, src/server/worker.rs, python/fastcore/server.py), access log, start-up line, and
graceful shutdown with its drain timeout. Apps: tests/apps/faults.py, slow.py, limited.py."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from .conftest import FREE_THREADED_BUILD, REPO, ServerFactory, ServerProcess, needs_free_threading, refused, wait_until

INTERNAL_ERROR = "Internal Server Error"  # FastAPI's (Starlette's) plain-text 500
RECORD_START = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def log_entry(log: str, header: str) -> str:
    """The last log record that starts with a line containing `header`, traceback included."""
    assert header in log, f"{header!r} not in the server log:\n{log}"
    lines = log[log.rindex(header):].splitlines()
    entry = [lines[0]]
    for line in lines[1:]:
        if RECORD_START.match(line):
            break
        entry.append(line)
    return "\n".join(entry)


def wait_for_entry(srv: ServerProcess, header: str, expected: str) -> str:
    """Waits until the last log record starting with `header` contains `expected`; returns it."""
    wait_until(lambda: header in srv.log() and expected in log_entry(srv.log(), header), 10,
               f"{expected!r} in the log record {header!r}", srv.describe)
    return log_entry(srv.log(), header)


def marker() -> str:
    return uuid.uuid4().hex[:12]


def assert_still_serving(client: httpx.Client) -> None:
    r = client.get("/ok")
    assert r.status_code == 200 and r.json()["ok"] is True


# -- handler exceptions -------------------------------------------------------------------------

@pytest.mark.parametrize("path, method_path, exc_line", [
    ("/boom/{m}", "GET /boom/{m}", "RuntimeError: kaboom {m}"),
    ("/boom-query?marker={m}", "GET /boom-query", "ValueError: bad value {m}"),
])
def test_exception_is_500_with_traceback_in_log_only(faults: httpx.Client, faults_server: ServerProcess, path: str,
                                                     method_path: str, exc_line: str) -> None:
    m = marker()
    r = faults.get(path.format(m=m))
    assert r.status_code == 500
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == INTERNAL_ERROR
    assert m not in r.text and "Traceback" not in r.text
    entry = wait_for_entry(faults_server, f"Exception in handler for {method_path.format(m=m)}", exc_line.format(m=m))
    assert "Traceback (most recent call last)" in entry
    assert_still_serving(faults)


def test_builtin_exception_is_500(faults: httpx.Client, faults_server: ServerProcess) -> None:
    r = faults.get("/zero/0")
    assert r.status_code == 500 and r.text == INTERNAL_ERROR
    wait_for_entry(faults_server, "Exception in handler for GET /zero/0", "ZeroDivisionError: division by zero")
    assert faults.get("/zero/4").json() == {"ratio": 0.25}


def test_many_failures_do_not_wear_the_server_down(faults_server: ServerProcess) -> None:
    with faults_server.client() as c:
        for i in range(30):
            assert c.get(f"/boom/loop{i}").status_code == 500
            assert_still_serving(c)


# -- HTTPException --------------------------------------------------------------------------------

def test_http_exception_with_status_detail_and_headers(faults: httpx.Client, faults_server: ServerProcess) -> None:
    m = marker()
    r = faults.get(f"/teapot/{m}")
    assert r.status_code == 418
    assert r.json() == {"detail": f"I'm a teapot {m}"}
    assert r.headers["x-tea"] == "earl grey"
    assert r.headers["content-type"] == "application/json"
    assert m not in faults_server.log(), "an HTTPException is a response, not an error to log"


def test_http_exception_404(faults: httpx.Client) -> None:
    r = faults.get("/missing-item/3")
    assert r.status_code == 404
    assert r.json() == {"detail": "Item not found"}


def test_http_exception_default_detail_is_the_reason_phrase(faults: httpx.Client) -> None:
    r = faults.get("/default-detail")
    assert r.status_code == 403
    assert r.json() == {"detail": "Forbidden"}


def test_http_exception_structured_detail(faults: httpx.Client) -> None:
    r = faults.get("/structured-detail")
    assert r.status_code == 409
    assert r.json() == {"detail": {"code": "conflict", "ids": [1, 2]}}


# -- values that cannot be sent -----------------------------------------------------------------

@pytest.mark.parametrize("path, header, message", [
    ("/unserialisable/{m}", "GET /unserialisable/{m}", "TypeError: Object of type Opaque is not JSON serializable"),
    ("/bare-object", "GET /bare-object", "TypeError: Object of type object is not JSON serializable"),
    ("/set-of-objects", "GET /set-of-objects", "TypeError: Object of type Opaque is not JSON serializable"),
    ("/nan", "GET /nan", "Out of range float values are not JSON compliant"),
    ("/self-referential", "GET /self-referential", "JSON nesting is deeper than"),
    ("/tuple-key", "GET /tuple-key", "keys must be str, int, float, bool or None, not tuple"),
    ("/bad-status", "GET /bad-status", "invalid HTTP status code 42"),
])
def test_unsendable_return_value_is_500_naming_the_problem(faults: httpx.Client, faults_server: ServerProcess,
                                                           path: str, header: str, message: str) -> None:
    m = marker()
    r = faults.get(path.format(m=m))
    assert r.status_code == 500
    assert r.text == INTERNAL_ERROR
    wait_for_entry(faults_server, f"Exception in handler for {header.format(m=m)}", message)
    assert_still_serving(faults)


def test_header_injection_is_refused(faults: httpx.Client, faults_server: ServerProcess) -> None:
    r = faults.get("/header-injection")
    assert r.status_code == 500
    assert "x-evil" not in r.headers and "set-cookie" not in r.headers
    wait_for_entry(faults_server, "Exception in handler for GET /header-injection", "invalid value for header x-evil")


# -- Rust panics ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path, message", [
    ("/panic", "PanicProbe reached the response converter"),  # sync handler, converting its value
    ("/panic-with-request", "PanicProbe reached the response converter"),
    ("/panic-async", "PanicProbe reached the response converter"),  # after the stepper, suspended path
    # Inside a step of a suspended coroutine: the panic unwinds through the stepper.
    ("/panic-in-step", "PyO3 is resuming a panic after fetching a PanicException from Python"),
])
def test_panic_costs_only_its_request(faults_server: ServerProcess, path: str, message: str) -> None:
    before = faults_server.log().count(message)
    with faults_server.client() as c:
        port_before = c.get("/ok").json()["client_port"]
        r = c.get(path)
        assert r.status_code == 500
        assert r.text == INTERNAL_ERROR
        after = c.get("/ok")
        assert after.status_code == 200
        assert after.json()["client_port"] == port_before, "the connection survived the panic"
    faults_server.wait_for_log(message, count=before + 1)


def test_panic_in_a_suspended_handler_spares_the_others_on_its_worker(server: ServerFactory) -> None:
    """One worker: a handler suspended in fastcore.sleep completes normally although other async
    handlers panicked on the same worker's runtime meanwhile, after and inside a step."""
    srv = server("faults", "--threads", "1")
    m = marker()
    outcome: dict[str, object] = {}

    def slow() -> None:
        with srv.client() as c:
            outcome["slow"] = c.get(f"/slow-ok/{m}/1.0")

    t = threading.Thread(target=slow)
    t.start()
    srv.wait_for_log(f"slow-ok {m} suspended")
    with srv.client() as c:
        for _ in range(3):
            assert c.get("/panic-async").status_code == 500
            assert c.get("/panic-in-step").status_code == 500
        assert_still_serving(c)
    t.join(30)
    resp = outcome.get("slow")
    assert isinstance(resp, httpx.Response) and resp.json() == {"slept": 1.0}, resp
    srv.wait_for_log("PanicProbe reached the response converter", count=3)
    srv.wait_for_log("PyO3 is resuming a panic after fetching a PanicException from Python", count=3)


def test_server_survives_repeated_panics(faults_server: ServerProcess) -> None:
    # Fresh connections, so the panics land on every worker thread.
    for _ in range(8):
        with faults_server.client() as c:
            assert c.get("/panic").status_code == 500
    for _ in range(8):
        with faults_server.client() as c:
            assert_still_serving(c)


# -- request body limit ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("limited"))
    srv = factory.launch([sys.executable, "-m", "tests.apps.limited", "0", "1024"])
    try:
        yield srv
    finally:
        problems = factory.close()
    assert not problems, "\n".join(problems)


def test_body_at_the_limit_is_accepted(limited_server: ServerProcess) -> None:
    with limited_server.client() as c:
        assert c.post("/upload", content=b"x" * 1024).json() == {"size": 1024}
        assert c.post("/upload", content=b"").json() == {"size": 0}


@pytest.mark.parametrize("size", [1025, 4096, 8 * 1024 * 1024])
def test_body_over_the_limit_is_413(limited_server: ServerProcess, size: int) -> None:
    with limited_server.client() as c:
        r = c.post("/upload", content=b"x" * size)
        assert r.status_code == 413
        assert r.json() == {"detail": "Request body is larger than the limit of 1024 bytes"}
    with limited_server.client() as c:
        assert c.get("/ping").json() == {"pong": True}


def test_chunked_body_over_the_limit_is_413(limited_server: ServerProcess) -> None:
    def chunks(n: int) -> Iterator[bytes]:
        for _ in range(n):
            yield b"y" * 256

    with limited_server.client() as c:
        assert c.post("/upload", content=chunks(4)).json() == {"size": 1024}
        r = c.post("/upload", content=chunks(5))
        assert r.status_code == 413
    with limited_server.client() as c:
        assert c.get("/ping").status_code == 200


def test_default_body_limit_is_16_mib(faults_server: ServerProcess) -> None:
    limit = 16 * 1024 * 1024
    with faults_server.client() as c:
        assert c.post("/echo-size", content=b"a" * limit).json() == {"size": limit}
        r = c.post("/echo-size", content=b"a" * (limit + 1))
        assert r.status_code == 413
    with faults_server.client() as c:
        assert_still_serving(c)


# -- threads and the GIL ---------------------------------------------------------------------------

def test_two_handlers_run_at_the_same_time(server: ServerFactory) -> None:
    """Two sync handlers on two worker threads (src/server/worker.rs) meet at a threading.Barrier(2),
    which only both can pass, and only together. On the GIL build the barrier's wait releases the
    GIL, so the two workers meet there too: same answers, no deadlock."""
    srv = server("slow", "--threads", "2")
    round_id = marker()
    results: list[object] = [None, None]

    def call(i: int) -> None:
        try:
            with srv.client() as c:  # a connection of its own
                results[i] = c.get(f"/barrier/{round_id}").json()
        except BaseException as exc:  # noqa: BLE001 - asserted below
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    threads[0].start()
    # The first handler now blocks its worker inside the barrier, so that worker accepts nothing
    # more: the second connection can only be taken by the other worker.
    srv.wait_for_log(f"barrier {round_id} arrived")
    threads[1].start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "deadlock: a request did not come back"
    for r in results:
        assert isinstance(r, dict), r
        assert r["passed"] is True, results
        assert r["gil_enabled"] is (not FREE_THREADED_BUILD), results
    assert results[0]["thread"] != results[1]["thread"]  # type: ignore[index]


@needs_free_threading
def test_import_keeps_the_gil_disabled() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c",
         "import sys, fastcore; print(sys._is_gil_enabled(), fastcore._core.GIL_DISABLED)"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]
    assert "RuntimeWarning" not in proc.stderr


def test_core_reports_its_build() -> None:
    """_core.GIL_DISABLED (src/lib.rs, fixed at compile time) agrees with the ABI tag the extension
    file was built for, and with whether the GIL is off in a fresh process that imported it
    (this test process may have imported extensions that turned the GIL back on)."""
    code = ("import re, sys, pathlib, fastcore\n"
            "abi = re.search(r'\\.cpython-\\d+(t?)-', pathlib.Path(fastcore._core.__file__).name)\n"
            "print(fastcore._core.GIL_DISABLED, abi.group(1) == 't', getattr(sys, '_is_gil_enabled', lambda: True)())")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    flag, abi_t, gil_enabled = proc.stdout.split()
    assert flag == abi_t == str(FREE_THREADED_BUILD), proc.stdout
    assert gil_enabled == str(not FREE_THREADED_BUILD), proc.stdout


# -- start-up line ----------------------------------------------------------------------------------

def expected_mode() -> str:
    return "free-threaded CPython" if FREE_THREADED_BUILD else "CPython"


def test_startup_line_names_mode_threads_and_processes(routing_server: ServerProcess) -> None:
    line = next(ln for ln in routing_server.log().splitlines() if "fastcore serving" in ln)
    match = re.search(r"fastcore serving http://127\.0\.0\.1:(\d+) \((.*), (\d+) worker threads?, (\d+) process, "
                      r"pid (\d+)\)", line)
    assert match, line
    port, mode, threads, processes, pid = match.groups()
    assert int(port) == routing_server.port
    assert mode.startswith(expected_mode())
    assert mode.endswith("GIL disabled" if FREE_THREADED_BUILD else "GIL enabled")
    assert (threads, processes, int(pid)) == ("2", "1", routing_server.pid)


def test_default_thread_count(server: ServerFactory) -> None:
    srv = server("slow")
    expected = (os.cpu_count() or 1) if FREE_THREADED_BUILD else 1
    noun = "worker thread" if expected == 1 else "worker threads"
    assert f", {expected} {noun}, 1 process, pid {srv.pid})" in srv.log()


# -- access log -------------------------------------------------------------------------------------

def test_access_log_writes_one_line_per_request(server: ServerFactory) -> None:
    srv = server("slow", "--threads", "1", "--access-log")
    with srv.client() as c:
        client_port = c.get("/pid", params={"x": "1"}).json()["client_port"]
        assert c.get("/hello").status_code == 200
        assert c.get("/nope").status_code == 404
        assert c.post("/hello").status_code == 405
        assert c.head("/hello").status_code == 200
    log = srv.wait_for_log('"HEAD /hello HTTP/1.1" 200')
    lines = [ln for ln in log.splitlines() if "fastcore.access" in ln]
    assert len(lines) == 5, lines
    assert lines[0].endswith(f'fastcore.access: 127.0.0.1:{client_port} - "GET /pid?x=1 HTTP/1.1" 200')
    assert lines[1].endswith('"GET /hello HTTP/1.1" 200')
    assert lines[2].endswith('"GET /nope HTTP/1.1" 404')
    assert lines[3].endswith('"POST /hello HTTP/1.1" 405')


def test_access_log_records_panicked_requests(server: ServerFactory) -> None:
    srv = server("faults", "--threads", "1", "--access-log")
    with srv.client() as c:
        assert c.get("/panic").status_code == 500
        assert c.get("/ok").status_code == 200
    log = srv.wait_for_log('"GET /ok HTTP/1.1" 200')
    assert '"GET /panic HTTP/1.1" 500' in log


def test_no_access_log_by_default(routing_server: ServerProcess, routing: httpx.Client) -> None:
    assert routing.get("/").status_code == 200
    assert "fastcore.access" not in routing_server.log()


# -- shutdown -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_the_server_cleanly(server: ServerFactory, sig: signal.Signals) -> None:
    srv = server("slow", "--threads", "2")
    idle = srv.client()  # keeps an idle keep-alive connection open across the shutdown
    try:
        assert idle.get("/hello").status_code == 200
        assert srv.stop(sig) == 0
    finally:
        idle.close()
    log = srv.log()
    assert f"{sig.name} received: draining" in log
    assert log.rstrip().endswith("fastcore stopped")
    assert "Traceback" not in log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_in_flight_request_completes_during_shutdown(server: ServerFactory, sig: signal.Signals) -> None:
    srv = server("slow", "--threads", "2")
    m = marker()
    outcome: dict[str, object] = {}

    def request() -> None:
        try:
            with srv.client() as c:
                outcome["response"] = c.get(f"/in-flight/{m}")
        except BaseException as exc:
            outcome["error"] = exc

    t = threading.Thread(target=request)
    t.start()
    srv.wait_for_log(f"in-flight handler started {m}")
    srv.send_signal(sig)
    t.join(30)
    assert not t.is_alive()
    assert "error" not in outcome, outcome.get("error")
    resp = outcome["response"]
    assert isinstance(resp, httpx.Response)
    assert resp.status_code == 200
    assert resp.json() == {"marker": m, "saw_shutdown": True}
    assert srv.wait_exit() == 0
    assert f"{sig.name} received: draining" in srv.log()


def test_suspended_async_requests_complete_while_new_connections_are_refused(server: ServerFactory,
                                                                              tmp_path: Path) -> None:
    """SIGTERM while four async handlers are suspended (python/fastcore/server.py, src/server/worker.rs):
    the listening socket closes at once, so new connections are refused while the four are
    still in flight; they then answer normally and the process exits 0."""
    srv = server("slow", "--threads", "2", "--drain-timeout", "30")
    release = tmp_path / "release"
    markers = [marker() for _ in range(4)]
    outcome: dict[str, object] = {}

    def request(m: str) -> None:
        try:
            with srv.client() as c:
                outcome[m] = c.get(f"/suspended/{m}", params={"release": str(release)})
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome[m] = exc

    threads = [threading.Thread(target=request, args=(m,)) for m in markers]
    for t in threads:
        t.start()
    for m in markers:
        srv.wait_for_log(f"suspended handler started {m}")
    srv.send_signal(signal.SIGTERM)
    srv.wait_for_log("SIGTERM received: draining")
    wait_until(lambda: refused(srv.host, srv.port), 10, "new connections to be refused while draining",
               srv.describe)
    assert srv.running and not outcome, f"the in-flight requests ended before they were released: {outcome}"
    release.touch()
    for t in threads:
        t.join(30)
    for m in markers:
        resp = outcome.get(m)
        assert isinstance(resp, httpx.Response), resp
        assert resp.status_code == 200 and resp.json() == {"marker": m, "saw_shutdown": True}
    assert srv.wait_exit() == 0
    assert srv.log().rstrip().endswith("fastcore stopped")


def test_drain_timeout_cuts_a_longer_request_and_the_process_exits(server: ServerFactory) -> None:
    """--drain-timeout 2 (python/fastcore/cli.py -> src/server/worker.rs): a handler that would run for an
    hour is cut once the 2 s are up, not before and not at the default 10 s, and the process
    exits 0 without answering it with a success."""
    drain = 2.0
    srv = server("slow", "--threads", "2", "--drain-timeout", str(drain))
    m = marker()
    outcome: dict[str, object] = {}

    def request() -> None:
        try:
            with srv.client(timeout=60) as c:
                outcome["response"] = c.get(f"/endless/{m}")
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc

    t = threading.Thread(target=request)
    t.start()
    srv.wait_for_log(f"endless handler started {m}")
    signalled = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    code = srv.wait_exit(timeout=drain + 8)
    took = time.monotonic() - signalled
    t.join(30)
    assert code == 0
    assert drain <= took < drain + 5, f"exited {took:.1f}s after SIGTERM with --drain-timeout {drain:g}"
    assert "response" not in outcome or outcome["response"].status_code != 200, outcome  # type: ignore[union-attr]
    assert "SIGTERM received: draining (up to 2s)" in srv.log()


# -- worker processes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_two_worker_processes(server: ServerFactory, sig: signal.Signals) -> None:
    srv = server("slow", "--workers", "2", "--threads", "1", ready_lines=2)
    log = srv.log()
    assert f"fastcore starting 2 worker processes on http://127.0.0.1:{srv.port} ({expected_mode()}" in log
    children = {int(p) for p in re.findall(rf"fastcore serving http://127\.0\.0\.1:{srv.port} \(.*pid (\d+)\)", log)}
    assert len(children) == 2 and srv.pid not in children, log

    seen: set[int] = set()
    for _ in range(200):
        with srv.client() as c:  # a new connection each time; the kernel spreads them
            r = c.get("/pid")
            assert r.status_code == 200
            seen.add(r.json()["pid"])
        if seen == children:
            break
    assert seen <= children, f"answered by unknown processes: {seen - children}"
    assert seen == children, f"only {seen} of {children} served 200 new connections"

    assert srv.stop(sig) == 0
    log = srv.log()
    assert log.count(f"{sig.name} received: draining") == 2
    assert log.count("fastcore stopped") == 2
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


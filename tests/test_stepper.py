"""The coroutine stepper (src/runtime/stepper.rs): async handlers driven on the worker, awaitables,
exceptions, cancellation and contextvars, against a real server."""
from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from .conftest import ServerFactory, ServerProcess, needs_free_threading, wait_until


@pytest.fixture(scope="module")
def aio_server(tmp_path_factory: pytest.TempPathFactory):
    from .conftest import serve_app

    yield from serve_app(tmp_path_factory, "aio", "--threads", "2")


@pytest.fixture
def aio(aio_server: ServerProcess):
    with aio_server.client() as c:
        yield c


def test_async_handler_without_await(aio: httpx.Client) -> None:
    r = aio.get("/plain")
    assert r.status_code == 200
    assert r.json()["async"] is True
    # Stepped on a worker thread the core started, not on an asyncio loop thread of Python's:
    # threading only knows it as a "Dummy" thread.
    assert r.json()["thread"].startswith("Dummy-")


def test_fastcore_sleep_suspends_for_its_time_while_the_worker_serves_others(server: ServerFactory) -> None:
    """fastcore.sleep (src/runtime/aio.rs) lasts at least its time on the server's monotonic clock, and
    the one worker thread answers other requests meanwhile."""
    srv = server("aio", "--threads", "1")
    marker, seconds = uuid.uuid4().hex, 1.5
    slept: dict[str, httpx.Response] = {}
    with srv.client() as sleeper, srv.client() as other:
        t = threading.Thread(target=lambda: slept.setdefault("r", sleeper.get(f"/sleep/{marker}/{seconds}")))
        t.start()
        wait_until(lambda: other.get(f"/suspended/{marker}").json() == 1, 10, "the sleep to begin")
        during = [other.get("/monotonic").json() for _ in range(3)]
        t.join(30)
    assert not t.is_alive()
    body = slept["r"].json()
    assert seconds <= body["end"] - body["start"] < seconds + 10, body
    for answer in during:
        assert answer["thread"] == body["thread"]
        assert body["start"] < answer["now"] < body["end"], f"not answered during the sleep: {answer} vs {body}"


def test_bare_yield_lets_other_coroutines_run(aio: httpx.Client) -> None:
    """`await asyncio.sleep(0)` (a bare yield, src/runtime/stepper.rs) gives a gathered sibling a turn."""
    order = aio.get("/yield").json()
    assert sorted(order) == ["a", "a", "a", "b", "b", "b"]
    assert order.index("b") < len(order) - 1 - order[::-1].index("a"), f"b ran only after a finished: {order}"


def test_nested_gather(aio: httpx.Client) -> None:
    assert aio.get("/gather/nested").json() == [[0, 1, 2], [10, 11, 12], "awaitable"]


def test_gather_failure_cancels_siblings_and_raises(aio: httpx.Client) -> None:
    body = aio.get("/gather/failing").json()
    assert body == {"raised": "boom in child", "cleanup": ["slow-finally"]}


def test_gather_return_exceptions(aio: httpx.Client) -> None:
    body = aio.get("/gather/failing", params={"return_exceptions": "true"}).json()
    assert body == {"result": ["'ok'", "ValueError('boom in child')"]}


def test_exception_raised_out_of_an_awaitable(aio: httpx.Client) -> None:
    assert aio.get("/raise-from-awaitable").json() == {"caught": "TimeoutError"}


def test_uncaught_async_exception_is_a_500_and_logged(aio: httpx.Client, aio_server: ServerProcess) -> None:
    r = aio.get("/uncaught")
    assert r.status_code == 500
    assert r.text == "Internal Server Error"
    assert "async failure" not in r.text
    assert "RuntimeError: async failure" in aio_server.wait_for_log("RuntimeError: async failure")
    assert aio.get("/plain").status_code == 200


def test_yielding_something_unknown_throws_runtime_error_into_the_coroutine(aio: httpx.Client) -> None:
    error = aio.get("/bad-yield").json()["error"]
    assert "fastcore cannot wait on 'not awaitable by fastcore'" in error


def test_spawn_returns_an_awaitable_task_with_the_parents_context(aio: httpx.Client) -> None:
    assert aio.get("/spawn").json() == {"result": "parent", "done": True}


def test_spawned_task_can_be_cancelled(aio: httpx.Client) -> None:
    assert aio.get("/spawn-cancel").json() == {"cancelled": True, "cleanup": ["cancelled"]}


def test_timeout_and_wait_for_cancel_the_inner_coroutine(aio: httpx.Client) -> None:
    body = aio.get("/timeout").json()
    assert body["outcome"] == ["fastcore.timeout", "wait_for"]
    assert body["cleanup"] == ["finally", "finally"]


def test_to_thread_runs_elsewhere_with_a_copy_of_the_context(aio: httpx.Client) -> None:
    assert aio.get("/to-thread").json() == {"other_thread": True, "context_value": "ctx-in-thread"}


def _disconnect_during(server: ServerProcess, route: str, marker: str, coroutines: int, expected: list[str]) -> None:
    """Starts `route`, waits until `coroutines` of its coroutines have recorded that they reached
    the await they block in (so the request was dispatched and is suspended), hangs up, and waits
    for the cleanup the handler records under `marker` to equal `expected` (sorted)."""
    sock = server.connect()
    sock.sendall(f"GET {route} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    with server.client() as c:
        wait_until(lambda: c.get(f"/suspended/{marker}").json() == coroutines, 10, "the handler to suspend",
                   lambda: f"suspended: {c.get(f'/suspended/{marker}').json()}\n{server.describe()}")
        assert c.get(f"/cleanup/{marker}").json() == [], "nothing may be cleaned up while the client waits"
        sock.close()
        wait_until(lambda: sorted(c.get(f"/cleanup/{marker}").json()) == expected, 10,
                   f"cleanup {expected}", lambda: str(c.get(f"/cleanup/{marker}").json()))


def test_client_disconnect_throws_cancelled_error_and_runs_finally(aio_server: ServerProcess) -> None:
    marker = uuid.uuid4().hex
    _disconnect_during(aio_server, f"/cancel/{marker}", marker, 1, ["cancelled", "finally"])


def test_client_disconnect_cancels_gathered_children(aio_server: ServerProcess) -> None:
    marker = uuid.uuid4().hex
    _disconnect_during(aio_server, f"/cancel-children/{marker}", marker, 2, ["a", "b"])


def test_contextvars_are_isolated_per_request_and_per_child(aio_server: ServerProcess) -> None:
    values = [f"v{i}" for i in range(40)]
    results: dict[str, dict] = {}

    def fetch(v: str) -> None:
        with aio_server.client() as c:
            results[v] = c.get(f"/context/{v}").json()

    threads = [threading.Thread(target=fetch, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for v in values:
        assert results[v] == {"value": v, "children": [v, v], "spawned": v}
    # A sync handler on the same workers never sees a value another request set.
    with aio_server.client() as c:
        for _ in range(10):
            assert c.get("/context-sync").json() == {"before": None}


def open_files_limit(pid: int) -> int:
    """The soft RLIMIT_NOFILE of a process, from /proc/PID/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError(f"no open-files limit for {pid}")


async def _crowd(host: str, port: int, n: int, base_url: str) -> list[int]:
    """Opens `n` requests to /crowd/{i}, at most WINDOW of them sent but not yet suspended at a
    time (so the listen backlog never fills up), then opens the gate once all are suspended."""
    window = 256

    async def one(i: int) -> int:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /crowd/{i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 120)
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        return int(body.decode().split(":")[1].rstrip("}"))

    tasks: list[asyncio.Task[int]] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        deadline = time.monotonic() + 180
        waiting = 0
        while waiting < n:
            assert time.monotonic() < deadline, f"only {waiting} of {n} requests suspended"
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
            waiting = (await c.get("/crowd-waiting")).json()["waiting"]
            for i in range(len(tasks), min(n, waiting + window)):
                tasks.append(asyncio.ensure_future(one(i)))
            await asyncio.sleep(0.02)
        assert (await c.post("/crowd-open")).json() == {"open": True}
    return list(await asyncio.gather(*tasks))


def test_ten_thousand_requests_suspended_at_once_all_complete(server: ServerFactory) -> None:
    """10,000 async handlers suspended on one fastcore.Event at once (src/runtime/stepper.rs, src/runtime/sync.rs),
    then all released. Each connection costs a descriptor in this process and in the server."""
    n = 10_000
    srv = server("aio", "--threads", "2")
    for who, pid in (("this test process", os.getpid()), ("the server", srv.pid)):
        limit = open_files_limit(pid)
        assert limit >= n + 500, f"{who} may open only {limit} files (tests/conftest.py raises the soft limit)"
    got = asyncio.run(_crowd(srv.host, srv.port, n, srv.base_url))
    assert sorted(got) == list(range(n))
    with srv.client() as c:
        assert c.get("/crowd-waiting").json()["waiting"] == n


@needs_free_threading
def test_gil_stays_off_while_serving_async(aio: httpx.Client) -> None:
    assert aio.get("/gil").json()["gil_enabled"] is False

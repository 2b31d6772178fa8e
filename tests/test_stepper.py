"""The coroutine stepper (src/runtime/stepper.rs): async handlers driven on the worker, awaitables,
exceptions, cancellation and contextvars, against a real server."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid

import httpx
import pytest

from .conftest import ServerProcess, needs_free_threading, wait_until


@pytest.fixture(scope="module")
def aio_server(tmp_path_factory: pytest.TempPathFactory):
    from .conftest import _session_server

    yield from _session_server(tmp_path_factory, "aio", "--threads", "2")


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


def test_fastcore_sleep_and_bare_yield(aio: httpx.Client) -> None:
    assert aio.get("/sleep/0.01").json() == {"slept": 0.01}
    assert aio.get("/yield").json() == {"yielded": 2}


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
    assert r.json() == {"detail": "Internal Server Error"}
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


def _disconnect_during(server: ServerProcess, route: str, marker: str, expected: list[str]) -> None:
    """Starts `route`, waits until the handler is suspended, hangs up, and waits for the
    cleanup the handler records under `marker` to equal `expected` (sorted)."""
    sock = server.connect()
    sock.sendall(f"GET {route} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    with server.client() as c:
        wait_until(lambda: c.get(f"/cleanup/{marker}").json() == [], 10, "the handler to start")
        sock.close()
        wait_until(lambda: sorted(c.get(f"/cleanup/{marker}").json()) == expected, 10,
                   f"cleanup {expected}", lambda: str(c.get(f"/cleanup/{marker}").json()))


def test_client_disconnect_throws_cancelled_error_and_runs_finally(aio_server: ServerProcess) -> None:
    marker = uuid.uuid4().hex
    _disconnect_during(aio_server, f"/cancel/{marker}", marker, ["cancelled", "finally"])


def test_client_disconnect_cancels_gathered_children(aio_server: ServerProcess) -> None:
    marker = uuid.uuid4().hex
    _disconnect_during(aio_server, f"/cancel-children/{marker}", marker, ["a", "b"])


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


async def _crowd(host: str, port: int, n: int, base_url: str) -> list[int]:
    async def one(i: int) -> int:
        for attempt in range(5):
            try:
                reader, writer = await asyncio.open_connection(host, port)
                break
            except OSError:
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            raise AssertionError(f"could not connect request {i}")
        writer.write(f"GET /crowd/{i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 120)
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        return int(body.decode().split(":")[1].rstrip("}"))

    sem = asyncio.Semaphore(500)  # pace the connects, not the suspension

    async def paced(i: int) -> int:
        async with sem:
            task = asyncio.ensure_future(one(i))
            # Release the pacing slot once the request has been sent (it is then suspended).
            await asyncio.sleep(0)
        return await task

    async def opener() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
            while (await c.get("/crowd-waiting")).json()["waiting"] < n:
                await asyncio.sleep(0.2)
            assert (await c.post("/crowd-open")).json() == {"open": True}

    results = await asyncio.gather(*(paced(i) for i in range(n)), asyncio.wait_for(opener(), 180))
    return results[:n]


def test_ten_thousand_requests_suspended_at_once_all_complete(aio_server: ServerProcess) -> None:
    n = 10_000
    got = asyncio.run(_crowd(aio_server.host, aio_server.port, n, aio_server.base_url))
    assert sorted(got) == list(range(n))
    with aio_server.client() as c:
        assert c.get("/crowd-waiting").json()["waiting"] == n


@needs_free_threading
def test_gil_stays_off_while_serving_async(aio: httpx.Client) -> None:
    assert aio.get("/gil").json()["gil_enabled"] is False

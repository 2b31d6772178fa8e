"""fastcore's Rust-backed primitives (src/runtime/sync.rs: Lock, Event, Queue, Semaphore) shared by
handlers on two worker threads, the per-worker to_thread pool (src/runtime/aio.rs, src/server/worker.rs), and
async request bodies (src/request/body.rs). App: tests/apps/concurrency.py, tests/apps/aio.py.

Requests go out on connections pinned to a known worker (conftest.clients_on_each_worker), and
every answer names the worker thread it ran on, so each test proves that both workers took part.
Helper threads only collect responses; every assertion is made in the test's own thread."""
from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from typing import Callable

import httpx
import pytest

from .conftest import ServerProcess, clients_on_each_worker, wait_until
from .test_stepper import aio, aio_server  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def conc_server(tmp_path_factory: pytest.TempPathFactory):
    from .conftest import serve_app

    yield from serve_app(tmp_path_factory, "concurrency", "--threads", "2")


def marker() -> str:
    return uuid.uuid4().hex[:12]


def in_threads(calls: list[Callable[[], object]]) -> list[object]:
    """Runs each call in a thread of its own, all at once; returns their results in order (an
    exception is returned, not raised, so that the caller asserts on it)."""
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - handed to the asserting thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a request thread is still running after 60 s"
    return results


def ok_json(r: object) -> dict:
    assert isinstance(r, httpx.Response), r
    assert r.status_code == 200, r.text
    return r.json()


# -- Lock -----------------------------------------------------------------------------------------

def test_lock_is_mutually_exclusive_across_workers(conc_server: ServerProcess) -> None:
    """8 connections, 4 on each worker, 10 requests each, all through one fastcore.Lock around a
    read-suspend-write increment: no two sections overlap and no increment is lost."""
    m = marker()
    with clients_on_each_worker(conc_server, 4) as by_worker:
        clients = [c for cs in by_worker.values() for c in cs]
        results = in_threads([lambda c=c: [c.get(f"/lock/{m}") for _ in range(10)] for c in clients])
        stats = clients[0].get(f"/stats/{m}").json()
    threads = []
    for batch in results:
        assert isinstance(batch, list), batch
        threads += [ok_json(r)["thread"] for r in batch]
    assert len(threads) == 80
    assert set(threads) == set(by_worker), "both workers ran locked sections"
    assert stats["max_inside"] == 1, stats
    assert stats["value"] == 80, stats
    assert stats["inside"] == 0, stats


# -- Queue ----------------------------------------------------------------------------------------

def test_queue_hands_items_from_one_worker_to_the_other(conc_server: ServerProcess) -> None:
    """A get suspended on one worker is woken by a put on the other; then items put on one worker
    come out of the other in order."""
    m = marker()
    with clients_on_each_worker(conc_server, 1) as by_worker:
        (a, [getter]), (b, [putter]) = by_worker.items()
        first, put = in_threads([lambda: getter.get(f"/queue/{m}"), lambda: put_when_waiting(putter, m, 1)])
        for item in range(2, 7):
            assert ok_json(putter.post(f"/queue/{m}/{item}"))["thread"] == b
        got = [ok_json(getter.get(f"/queue/{m}")) for _ in range(5)]
    assert ok_json(put)["thread"] == b
    assert ok_json(first) == {"item": 1, "thread": a, "left": 0}
    assert [g["item"] for g in got] == [2, 3, 4, 5, 6]
    assert {g["thread"] for g in got} == {a}
    assert [g["left"] for g in got] == [4, 3, 2, 1, 0]


def put_when_waiting(putter: httpx.Client, m: str, item: int) -> httpx.Response:
    """Puts `item` once a getter is suspended on the queue."""
    wait_until(lambda: putter.get(f"/stats/{m}").json()["waiting"] == 1, 10, "a suspended get")
    return putter.post(f"/queue/{m}/{item}")


# -- Event ----------------------------------------------------------------------------------------

def test_event_wakes_waiters_on_every_worker(conc_server: ServerProcess) -> None:
    """Six handlers, three on each worker, suspend on one fastcore.Event; none finishes before a
    handler sets it, then all six do."""
    m = marker()
    with clients_on_each_worker(conc_server, 4) as by_worker:
        waiters = [(t, c) for t, cs in by_worker.items() for c in cs[:3]]
        setter = next(cs[3] for cs in by_worker.values())
        observed: dict[str, dict] = {}

        def open_when_all_wait() -> httpx.Response:
            wait_until(lambda: setter.get(f"/stats/{m}").json()["waiting"] == 6, 10, "six suspended waiters")
            observed["before"] = setter.get(f"/stats/{m}").json()
            return setter.post(f"/event/{m}/set")

        *answers, opened = in_threads([lambda c=c: c.get(f"/event/{m}/wait") for _, c in waiters]
                                      + [open_when_all_wait])
    assert observed["before"]["done"] == 0, "a waiter finished before the event was set"
    ok_json(opened)
    bodies = [ok_json(r) for r in answers]
    assert all(b["open"] for b in bodies)
    assert [b["thread"] for b in bodies] == [t for t, _ in waiters], "each waiter ran on its connection's worker"
    assert len(set(t for t, _ in waiters)) == 2


# -- Semaphore ------------------------------------------------------------------------------------

def test_semaphore_bounds_concurrency_across_workers(conc_server: ServerProcess) -> None:
    """Six handlers, three per worker, take permits of one Semaphore(2) and hold them until the
    test opens a gate: exactly two are inside while the other four wait, from both workers."""
    m = marker()
    with clients_on_each_worker(conc_server, 4) as by_worker:
        holders = [(t, c) for t, cs in by_worker.items() for c in cs[:3]]
        control = next(cs[3] for cs in by_worker.values())
        observed: list[dict] = []

        def open_when_all_arrived() -> httpx.Response:
            wait_until(lambda: control.get(f"/stats/{m}").json()["waiting"] == 6, 10, "six handlers at the semaphore")
            wait_until(lambda: control.get(f"/stats/{m}").json()["inside"] >= 2, 10, "two permits taken")
            time.sleep(0.3)  # room for a third to get in, were the semaphore not bounding them
            observed.append(control.get(f"/stats/{m}").json())
            return control.post(f"/event/{m}/set")

        *answers, opened = in_threads([lambda c=c: c.get(f"/semaphore/{m}/2") for _, c in holders]
                                      + [open_when_all_arrived])
        final = control.get(f"/stats/{m}").json()
    ok_json(opened)
    assert observed[0]["inside"] == 2 and observed[0]["done"] == 0, observed
    threads = [ok_json(r)["thread"] for r in answers]
    assert threads == [t for t, _ in holders]
    assert len(set(threads)) == 2
    assert (final["max_inside"], final["inside"], final["done"]) == (2, 0, 6), final


def test_semaphore_acquire_release_locked_and_async_with(conc_server: ServerProcess) -> None:
    with conc_server.client() as c:
        seen = c.get("/semaphore-api").json()
    # locked() before; acquire(); locked() with one permit left; locked() inside `async with`
    # (none left); a third acquire times out; locked() after the block; after release(); and
    # acquire() again.
    assert seen == [False, True, False, True, "third acquire waited", False, False, True]


# -- to_thread ------------------------------------------------------------------------------------

def test_to_thread_pool_runs_16_calls_per_worker_and_queues_the_17th(conc_server: ServerProcess) -> None:
    """Each worker starts 17 blocking to_thread calls at once: 16 run (on 16 threads of that
    worker's pool) and the 17th waits until one of them returns; the two workers' pools are
    separate, so 32 run at once."""
    m = marker()
    with clients_on_each_worker(conc_server, 2) as by_worker:
        (a, [ca, control]), (b, [cb, _]) = by_worker.items()
        running: list[dict] = []

        def release_when_full() -> httpx.Response:
            wait_until(lambda: control.get(f"/stats/{m}").json()["inside"] >= 32, 20, "32 blocking calls running",
                       lambda: str(control.get(f"/stats/{m}").json()))
            time.sleep(0.5)  # room for a 17th call to start, were the pool not bounded
            running.extend(control.get(f"/stats/{m}-{t}").json() for t in (a, b))
            running.append(control.get(f"/stats/{m}").json())
            return control.post(f"/to-thread/{m}/release")

        ra, rb, released = in_threads([lambda: ca.get(f"/to-thread/{m}/17"), lambda: cb.get(f"/to-thread/{m}/17"),
                                       release_when_full])
    ok_json(released)
    per_worker_a, per_worker_b, total = running
    assert per_worker_a["inside"] == per_worker_b["inside"] == 16, running
    assert total["max_inside"] == 32, running
    for r, worker in ((ra, a), (rb, b)):
        body = ok_json(r)
        assert body == {"thread": worker, "pool_threads": 16, "max_running_here": 16}, body


# -- async request bodies (tests/apps/aio.py) -----------------------------------------------------

def test_async_body_streamed_in_chunks(aio) -> None:  # noqa: F811
    payload = os.urandom(3_000_000)

    def chunks():
        for i in range(0, len(payload), 65536):
            yield payload[i:i + 65536]

    r = aio.post("/body/stream", content=chunks())
    assert r.status_code == 200
    assert r.json()["bytes"] == len(payload)
    assert r.json()["chunks"] >= 2


def test_async_body_read_whole_and_cached(aio) -> None:  # noqa: F811
    payload = os.urandom(200_000)
    body = aio.post("/body/whole", content=payload).json()
    assert body == {"bytes": len(payload), "again": len(payload), "sha": hashlib.sha256(payload).hexdigest()}


def test_async_body_over_the_limit_is_413(aio) -> None:  # noqa: F811
    r = aio.post("/body/stream", content=b"x" * (16 * 1024 * 1024 + 1))
    assert r.status_code == 413
    assert "larger than the limit" in r.json()["detail"]
    assert aio.get("/plain").status_code == 200

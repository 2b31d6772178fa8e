"""fastcore's Rust-backed primitives (Lock, Event, Queue) shared across worker threads, and
async request bodies."""
from __future__ import annotations

import hashlib
import os
import threading

import httpx

from .conftest import ServerProcess, wait_until
from .test_stepper import aio, aio_server  # noqa: F401  (fixtures)


def _parallel(n: int, fn) -> list:
    results: list = [None] * n

    def run(i: int) -> None:
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_lock_is_mutually_exclusive_across_workers(aio_server: ServerProcess) -> None:  # noqa: F811
    def hit(i: int) -> int:
        with aio_server.client() as c:
            for _ in range(10):
                assert c.get("/shared-lock").status_code == 200
        return i

    _parallel(8, hit)
    with aio_server.client() as c:
        stats = c.get("/shared-lock/stats").json()
    assert stats["value"] >= 80
    assert stats["max_inside"] == 1


def test_queue_hands_items_between_requests(aio) -> None:  # noqa: F811
    assert aio.post("/mailbox", json={"n": 1}).status_code == 200
    assert aio.post("/mailbox", json={"n": 2}).status_code == 200
    assert aio.get("/mailbox").json() == {"n": 1}
    assert aio.get("/mailbox").json() == {"n": 2}


def test_event_wakes_waiters_on_every_worker(aio_server: ServerProcess) -> None:  # noqa: F811
    results: list = []

    def wait(i: int) -> None:
        with aio_server.client() as c:
            results.append(c.get("/gate/wait").json())

    waiters = [threading.Thread(target=wait, args=(i,)) for i in range(6)]
    for t in waiters:
        t.start()
    with aio_server.client() as c:
        wait_until(lambda: c.get("/gate/waiting").json()["n"] == 6, 10, "six suspended waiters")
        assert not results, "no waiter may finish before the event is set"
        assert c.post("/gate/open").json() == {"open": True}
    for t in waiters:
        t.join()
    assert len(results) == 6 and all(r["open"] for r in results)


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

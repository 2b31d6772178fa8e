"""Worker threads (src/server/worker.rs): each keeps one Python thread state for its whole life, so
per-thread Python state survives from request to request, and a burst of new keep-alive
connections is spread over the workers. App: tests/apps/worker.py."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from .conftest import ServerFactory, ServerProcess, clients_on_each_worker, read_response


@pytest.fixture
def worker_server(server: ServerFactory) -> ServerProcess:
    return server("worker", "--threads", "2")


def test_each_worker_keeps_one_thread_state_across_requests(worker_server: ServerProcess) -> None:
    """200 requests, sync and async, on four connections over two workers: a threading.local is
    created once per worker and counts every request that worker served; no request gets a
    fresh thread state, and a coroutine resumes after an await in the state it started in."""
    seen: dict[int, list[dict]] = {}
    with clients_on_each_worker(worker_server, 2) as by_worker:
        for _ in range(25):
            for worker, clients in by_worker.items():
                for c in clients:
                    seen.setdefault(worker, []).append(c.get("/visit").json())
                    both = c.get("/visit-async").json()
                    assert both["after"] == {**both["before"], "hits": both["before"]["hits"] + 1}, both
                    seen[worker] += [both["before"], both["after"]]
        created = by_worker[next(iter(by_worker))][0].get("/locals-created").json()["locals"]
    assert len(seen) == 2
    for worker, visits in seen.items():
        assert {v["thread"] for v in visits} == {worker}
        assert len({v["native"] for v in visits}) == 1, "one OS thread per worker"
        assert len({v["local"] for v in visits}) == 1, "the worker's threading.local was created again"
        assert [v["hits"] for v in visits] == list(range(1, 151)), "a request saw a fresh threading.local"
    assert len({v["native"] for visits in seen.values() for v in visits}) == 2
    # The main thread's (made at import) and one per worker, however many requests they served.
    assert created == 3, f"{created} thread states initialised the threading.local, not 3"


def test_to_thread_pool_threads_keep_their_thread_state(worker_server: ServerProcess) -> None:
    """Blocking-pool threads (fastcore.to_thread) also keep one thread state each: over 40
    sequential calls, each pool thread's threading.local counts every call it ran."""
    with worker_server.client() as c:
        visits = [c.get("/visit-to-thread").json() for _ in range(40)]
    by_thread: dict[int, list[dict]] = {}
    for v in visits:
        by_thread.setdefault(v["native"], []).append(v)
    for calls in by_thread.values():
        assert len({v["local"] for v in calls}) == 1
        assert [v["hits"] for v in calls] == list(range(1, len(calls) + 1))


def test_a_burst_of_keep_alive_connections_is_spread_over_both_workers(worker_server: ServerProcess) -> None:
    """Three bursts of 64 connections, each opened back to back before any request: in each, both
    workers take at least a quarter (a worker ahead of the other pauses before accepting, so the
    split comes out about even), and each connection stays with the worker that took it."""
    n = 64
    for burst in range(3):
        socks = [worker_server.connect() for _ in range(n)]
        try:
            streams = [s.makefile("rb") for s in socks]

            def ask() -> list[int]:
                for s in socks:
                    s.sendall(b"GET /whoami HTTP/1.1\r\nHost: t\r\n\r\n")
                return [json.loads(read_response(f).body)["thread"] for f in streams]

            first, second = ask(), ask()
        finally:
            for s in socks:
                s.close()
        per_worker = Counter(first)
        assert len(per_worker) == 2 and min(per_worker.values()) >= n // 4, \
            f"burst {burst}: connections per worker {sorted(per_worker.values())}"
        assert second == first, "a keep-alive connection moved to another worker"

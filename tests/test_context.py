"""contextvars contexts around task steps (src/runtime/context.rs, src/runtime/stepper.rs `in_task`).

A context shared by tasks on two workers is entered by one thread at a time; a context that
cannot be entered raises into the coroutine instead of running it in the wrong context; a
panic inside a step leaves neither its context nor its task behind on the worker.
"""
from __future__ import annotations

import concurrent.futures

import pytest

from .conftest import ServerFactory


@pytest.fixture
def hazards(server: ServerFactory, tmp_path, monkeypatch):
    monkeypatch.setenv("FASTCORE_TEST_DIR", str(tmp_path))
    return server("hazards", "--threads", "2")


def test_tasks_sharing_one_context_on_two_workers_always_see_it(hazards) -> None:
    steps, requests = 3000, 8
    threads: set[int] = set()
    rounds = 0

    def one(_: int) -> int:
        with hazards.client() as c:
            r = c.get(f"/context/shared/{steps}")
            assert r.status_code == 200, r.text
            return r.json()["thread"]

    # Concurrent requests on new connections spread over both workers; repeat until they did.
    with concurrent.futures.ThreadPoolExecutor(requests) as pool:
        while len(threads) < 2 and rounds < 5:
            threads |= set(pool.map(one, range(requests)))
            rounds += 1
    with hazards.client() as c:
        tally = c.get("/context/shared-tally").json()
    assert tally == {"steps": steps * requests * rounds, "wrong": 0, "errors": []}
    assert len(threads) == 2, f"both workers must have taken part: {threads}"


def test_a_context_entered_elsewhere_raises_into_the_coroutine(hazards) -> None:
    with hazards.client() as c:
        r = c.get("/context/held")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["error"].startswith("fastcore could not enter the task's context:"), body
        assert "already entered" in body["error"], body
        # The handler's own context is untouched by the failed step.
        assert body["var_after"] == "unset"
        assert c.get("/after-panic/sync").json()["var"] == "unset"


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_panic_leaves_no_context_or_task_behind(server: ServerFactory, kind: str) -> None:
    srv = server("hazards", "--threads", "1")
    with srv.client() as c:
        for _ in range(3):
            r = c.get(f"/panic/{kind}")
            assert r.status_code == 500
            assert r.text == "Internal Server Error"
            after = c.get("/after-panic/sync").json()
            assert after["var"] == "unset", after
            assert after["current_task"] is None, after
            after = c.get("/after-panic/async").json()
            assert after["var"] == "unset" and after["is_own_task"], after
    srv.wait_for_log("PanicProbe.panic() called", count=3)

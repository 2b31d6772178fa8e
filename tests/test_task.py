"""fastcore's asyncio-compatible Task, and gather (src/runtime/task.rs, src/runtime/aio.rs,
src/runtime/eventloop.rs)."""
from __future__ import annotations

import pytest

from .conftest import ServerFactory


@pytest.fixture
def hazards(server: ServerFactory):
    return server("hazards", "--threads", "1")


def test_remove_done_callback_whose_eq_calls_back_into_the_task(hazards) -> None:
    with hazards.client(timeout=10) as c:
        r = c.get("/task/remove-callback/reentrant")
        assert r.status_code == 200, r.text
        assert r.json() == {"removed": 1, "calls": ["kept"]}
        assert c.get("/after-panic/sync").status_code == 200  # the worker is alive


def test_remove_done_callback_whose_eq_raises_keeps_every_callback(hazards) -> None:
    with hazards.client(timeout=10) as c:
        r = c.get("/task/remove-callback/raising")
        assert r.status_code == 200, r.text
        assert r.json() == {"error": "__eq__ refused", "calls": ["kept", "raising", "reentrant"]}


def test_gather_starts_every_child_even_when_the_first_fails_at_once(hazards) -> None:
    with hazards.client() as c:
        body = c.get("/gather/first-fails-at-once").json()
    # The failure is raised at once; the started sibling is cancelled (detached) right after.
    assert body["events"][0] == "started", body
    assert sorted(body["events"]) == ["cancelled", "gather raised KeyError", "started"], body
    assert "was never awaited" not in hazards.log()


def test_asyncio_gather_accepts_a_cancelled_fastcore_task(hazards) -> None:
    with hazards.client(timeout=10) as c:
        body = c.get("/gather/cancelled-task").json()
    assert body == {"gathered": ["CancelledError: by itself"]}


def test_create_task_from_another_thread_is_refused_and_threadsafe_works(hazards) -> None:
    with hazards.client() as c:
        body = c.get("/loop/create-task-from-thread").json()
    assert body["refused"].startswith("RuntimeError: create_task() was called from another thread"), body
    assert body["threadsafe_ran_on_worker"] is True

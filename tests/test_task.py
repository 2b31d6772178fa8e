"""fastcore's asyncio-compatible Task, and gather (src/runtime/task.rs, src/runtime/aio.rs,
src/runtime/eventloop.rs)."""
from __future__ import annotations

import pytest

from .conftest import ServerFactory, wait_until


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


@pytest.mark.parametrize("name", ["gather-children", "task-child"])
def test_cancelling_a_handler_cancels_what_it_awaits_first(server: ServerFactory, tmp_path, monkeypatch,
                                                           name: str) -> None:
    """As asyncio's Task.cancel() does: the awaited gather/task is cancelled, and the parent
    goes on only once it is done."""
    monkeypatch.setenv("FASTCORE_TEST_DIR", str(tmp_path))
    srv = server("hazards", "--threads", "1")
    out = tmp_path / name
    with srv.connect() as sock:
        sock.sendall(f"GET /cancel/awaited/{name} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        wait_until(lambda: out.exists() and "waiting" in out.read_text(), 10, "the handler to suspend")
    children = ["child 1 cancelled", "child 2 cancelled"] if name.startswith("gather") else ["child 1 cancelled"]
    expected = ["waiting", *children, "parent finally"]
    wait_until(lambda: out.read_text().splitlines() == expected, 10, f"{expected}", lambda: out.read_text())


def test_timeout_around_awaiting_a_task_cancels_the_task(hazards) -> None:
    with hazards.client() as c:
        body = c.get("/cancel/timeout-around-task").json()
    assert body == {"events": ["inner cancelled", "TimeoutError"], "task_cancelled": True, "waiter_now": "None"}


def test_asyncios_own_c_task_runs_on_the_worker_loop(hazards) -> None:
    with hazards.client() as c:
        assert c.get("/loop/c-task").json() == {"ran_in": "_asyncio", "results": ["_asyncio"] * 3}

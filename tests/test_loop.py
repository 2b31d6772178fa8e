"""The per-worker asyncio loop (python/fastcore/_loop.py, src/runtime/eventloop.rs): asyncio code
runs unchanged inside handlers, every loop method fastcore implements itself works on a real
worker, and the unsupported ones refuse by name. App: tests/apps/loop.py."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from fastcore._loop import UNSUPPORTED, WorkerLoop

from .conftest import ServerProcess


@pytest.fixture(scope="module")
def loop_server(tmp_path_factory: pytest.TempPathFactory):
    from .conftest import serve_app

    yield from serve_app(tmp_path_factory, "loop", "--threads", "2")


@pytest.fixture
def loop_app(loop_server: ServerProcess):
    with loop_server.client() as c:
        yield c


def test_asyncio_primitives_inside_a_handler(loop_app: httpx.Client) -> None:
    assert loop_app.get("/asyncio").json() == {
        "loop": "WorkerLoop",
        "task": True,
        "gather": ["a", "b"],
        "item": "item",
        "wait_for": "timeout",
        "timeout": "timeout",
        "future": "from call_later",
        "executor": 6,
    }


def test_unsupported_loop_method_names_itself(loop_app: httpx.Client) -> None:
    error = loop_app.get("/asyncio/unsupported").json()["error"]
    assert error.startswith("WorkerLoop.subprocess_exec() is not available on fastcore workers")
    assert "fastcore.to_thread" in error


# Which answer of /loop-methods shows each method at work: every method WorkerLoop defines
# itself (rather than inheriting asyncio's selector loop's) and a few inherited ones.
SHOWN_BY = {
    "call_soon": "order", "call_later": "order", "call_at": "call_at", "call_soon_threadsafe": "threadsafe",
    "time": "time", "create_future": "create_future", "create_task": "create_task",
    "is_running": "is_running", "is_closed": "is_closed", "get_debug": "debug", "set_debug": "debug",
    "set_exception_handler": "exception_handler", "get_exception_handler": "get_exception_handler",
    "call_exception_handler": "exception_handler", "default_exception_handler": "exception_handler",
    "run_in_executor": "run_in_executor", "get_task_factory": "get_task_factory",
    "set_task_factory": "set_task_factory", "shutdown_asyncgens": "shutdown_asyncgens",
    "shutdown_default_executor": "shutdown_default_executor", "close": "close",
}


def test_every_loop_method_fastcore_implements_works_on_a_worker(loop_app: httpx.Client,
                                                                  loop_server: ServerProcess) -> None:
    own = {name for name, value in vars(WorkerLoop).items()
           if not name.startswith("_") and callable(value) and name not in UNSUPPORTED}
    assert own <= set(SHOWN_BY), f"WorkerLoop methods that /loop-methods does not exercise: {own - set(SHOWN_BY)}"
    m = uuid.uuid4().hex[:12]
    out = loop_app.get(f"/loop-methods/{m}").json()
    # call_soon ran first, inside the context it was given; then call_later, then call_at, on
    # time and not before; the cancelled handle never ran.
    assert out["order"] == ["soon:from context", "later", "at"]
    assert out["call_at"] == {"when_matches": True, "not_early": True}
    assert out["cancel"] is True
    assert out["time"] is True
    # call_soon_threadsafe, called on another thread, ran its callback on the worker.
    assert out["threadsafe"][1] is True
    assert out["create_task"] == ["named-child", "child result"]
    assert out["create_future"] == "future result"
    assert (out["is_running"], out["is_closed"]) == (True, False)
    assert out["debug"] == [True, False]
    assert out["get_exception_handler"] is True
    assert out["exception_handler"] == [[True, "to the custom handler"]]
    log = loop_server.wait_for_log(f"called directly {m}")
    assert f"ERROR    fastcore.asyncio: default handler {m}" in log
    assert f"ValueError: {m}" in log
    assert out["run_in_executor"] is True and out["run_in_own_executor"] == 6
    assert out["get_task_factory"] is None
    assert out["set_task_factory"] == "WorkerLoop.set_task_factory: tasks are always fastcore tasks"
    assert out["close"] == "a fastcore worker loop is closed by the server, not by handlers"
    assert out["shutdown_asyncgens"] is None and out["shutdown_default_executor"] is None
    assert out["still_running"] is True
    assert set(SHOWN_BY.values()) <= set(out), "an answer the mapping names is missing"


def test_every_abstract_loop_method_is_implemented_or_refuses_clearly() -> None:
    loop = WorkerLoop.__new__(WorkerLoop)  # the methods only, no worker behind it
    for name in dir(asyncio.AbstractEventLoop):
        if name.startswith("_"):
            continue
        method = getattr(WorkerLoop, name)
        if name in UNSUPPORTED:
            with pytest.raises(NotImplementedError, match=rf"WorkerLoop\.{name}\(\)"):
                getattr(loop, name)()
        else:
            assert method is not getattr(asyncio.AbstractEventLoop, name), f"{name} is not implemented"

"""The per-worker asyncio loop (python/fastcore/_loop.py): asyncio code runs unchanged."""
from __future__ import annotations

import asyncio

import pytest

from fastcore._loop import SUPPORTED, WorkerLoop

from .test_stepper import aio, aio_server  # noqa: F401  (fixtures)


def test_asyncio_primitives_inside_a_handler(aio) -> None:  # noqa: F811
    assert aio.get("/asyncio").json() == {
        "loop": "WorkerLoop",
        "task": True,
        "gather": ["a", "b"],
        "item": "item",
        "wait_for": "timeout",
        "timeout": "timeout",
        "future": "from call_later",
        "executor": 6,
    }


def test_unsupported_loop_method_names_itself(aio) -> None:  # noqa: F811
    error = aio.get("/asyncio/unsupported").json()["error"]
    assert error.startswith("WorkerLoop.getaddrinfo() is not available on fastcore workers")
    assert "fastcore.to_thread" in error


def test_every_abstract_loop_method_is_implemented_or_refuses_clearly() -> None:
    loop = WorkerLoop(scheduler=None)
    for name in dir(asyncio.AbstractEventLoop):
        if name.startswith("_") or name in SUPPORTED:
            continue
        method = getattr(loop, name)
        with pytest.raises(NotImplementedError, match=rf"WorkerLoop\.{name}\(\)"):
            result = method()
            if asyncio.iscoroutine(result):  # async methods refuse when awaited
                result.send(None)

"""The per-worker asyncio loop (python/fastcore/_loop.py): asyncio code runs unchanged."""
from __future__ import annotations

import asyncio

import pytest

from fastcore._loop import UNSUPPORTED, WorkerLoop

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
    assert error.startswith("WorkerLoop.subprocess_exec() is not available on fastcore workers")
    assert "fastcore.to_thread" in error


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

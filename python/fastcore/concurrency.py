"""Rust-backed awaitables for handlers: no event-loop thread, no thread hop.

    @app.get("/report")
    async def report():
        async with fastcore.timeout(2):
            a, b = await fastcore.gather(load("a"), load("b"))
        summary = await fastcore.to_thread(render_pdf, a, b)   # blocking work, off the worker
        return {"size": len(summary)}

`sleep`, `gather`, `wait_for`, `spawn` and `to_thread` are implemented in Rust, and so are
`Lock`, `Event`, `Semaphore` and `Queue` (on `tokio::sync`). Unlike asyncio's primitives, which
belong to one event loop, these can be shared by handlers on every worker thread; `timeout` is
built on them with the asyncio task protocol (`cancel`/`uncancel`), like `asyncio.timeout`.
"""
from __future__ import annotations

import asyncio
from types import TracebackType

from ._core import Event, Lock, Queue, Semaphore, Task, gather, sleep, spawn, to_thread, wait_for

__all__ = ["Event", "Lock", "Queue", "Semaphore", "Task", "gather", "sleep", "spawn", "timeout", "to_thread",
           "wait_for"]


class timeout:
    """`async with fastcore.timeout(seconds):` cancels the block when time runs out and raises
    `TimeoutError` in its place. `None` means no limit."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._task = None
        self._handle = None
        self._expired = False
        self._cancelling = 0

    async def __aenter__(self) -> "timeout":
        self._task = asyncio.current_task()
        if self._task is None:
            raise RuntimeError("fastcore.timeout() must be used inside a running handler or task")
        self._cancelling = self._task.cancelling()
        if self.seconds is not None:
            self._handle = asyncio.get_running_loop().call_later(self.seconds, self._expire)
        return self

    def _expire(self) -> None:
        self._expired = True
        self._task.cancel()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired and self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError(f"timed out after {self.seconds}s") from exc
        return False

    def expired(self) -> bool:
        return self._expired

    def __repr__(self) -> str:
        return f"timeout(seconds={self.seconds!r}, expired={self._expired})"

"""The asyncio loop each fastcore worker provides, with no event-loop thread behind it.

Each worker thread installs one `WorkerLoop` as its running loop when it starts. Scheduling
(`call_soon`, `call_later`, `create_task`) is done by the worker's Tokio runtime, so asyncio
code inside handlers works unchanged:

    @app.get("/slow")
    async def slow():
        await asyncio.sleep(0.01)
        results = await asyncio.gather(fetch(1), fetch(2))
        return {"results": results}

Methods that would need a selector or subprocess machinery (sockets, pipes, signals,
subprocesses, servers, `run_forever`...) raise `NotImplementedError` naming themselves; use
`fastcore.to_thread` or fastcore's own I/O there instead. The full list is in NOTES.md.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

logger = logging.getLogger("fastcore.asyncio")

#: Methods of `asyncio.AbstractEventLoop` that a worker loop implements.
SUPPORTED = frozenset({
    "call_soon", "call_soon_threadsafe", "call_later", "call_at", "time", "create_future",
    "create_task", "is_running", "is_closed", "get_debug", "set_debug", "call_exception_handler",
    "default_exception_handler", "get_exception_handler", "set_exception_handler",
    "run_in_executor", "get_task_factory", "set_task_factory", "shutdown_asyncgens",
    "shutdown_default_executor", "close",
})


async def await_one(aw: Any) -> Any:
    """Lets fastcore drive any awaitable as if it were a coroutine."""
    return await aw


class WorkerLoop(asyncio.AbstractEventLoop):
    def __init__(self, scheduler: Any) -> None:
        self._scheduler = scheduler
        self._debug = False
        self._exception_handler: Callable[..., Any] | None = None

    # -- scheduling -----------------------------------------------------------------------
    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        return self._scheduler.call_soon(callback, args, context)

    # The Tokio handle accepts work from any thread, so the thread-safe variant is the same call.
    call_soon_threadsafe = call_soon

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        return self._scheduler.call_later(delay, callback, args, context)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        return self._scheduler.call_later(when - self.time(), callback, args, context)

    def time(self) -> float:
        return self._scheduler.time()

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(self, coro: Any, *, name: str | None = None, context: Any = None) -> Any:
        return self._scheduler.spawn(coro, context, name)

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        if executor is not None:
            return asyncio.wrap_future(executor.submit(func, *args), loop=self)
        from ._core import to_thread

        return asyncio.ensure_future(await_one(to_thread(func, *args)), loop=self)

    # -- state ----------------------------------------------------------------------------
    def is_running(self) -> bool:
        return True

    def is_closed(self) -> bool:
        return False

    def close(self) -> None:
        raise RuntimeError("a fastcore worker loop is closed by the server, not by handlers")

    def get_debug(self) -> bool:
        return self._debug

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled

    def get_task_factory(self) -> None:
        return None

    def set_task_factory(self, factory: Any) -> None:
        raise NotImplementedError("WorkerLoop.set_task_factory: tasks are always fastcore tasks")

    async def shutdown_asyncgens(self) -> None:
        return None

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        return None

    # -- errors ---------------------------------------------------------------------------
    def get_exception_handler(self) -> Callable[..., Any] | None:
        return self._exception_handler

    def set_exception_handler(self, handler: Callable[..., Any] | None) -> None:
        self._exception_handler = handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        logger.error(context.get("message", "Unhandled exception in event loop"),
                     exc_info=(type(exc), exc, exc.__traceback__) if exc else None)

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        if self._exception_handler is None:
            self.default_exception_handler(context)
        else:
            self._exception_handler(self, context)

    def __repr__(self) -> str:
        return f"<fastcore.WorkerLoop running={self.is_running()}>"


def _unsupported(name: str) -> Callable[..., Any]:
    def method(self: WorkerLoop, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"WorkerLoop.{name}() is not available on fastcore workers, which have no selector "
            f"event loop; run blocking code with fastcore.to_thread(...) or use fastcore's "
            f"Rust-backed I/O (fastcore.http, request.stream())"
        )

    method.__name__ = name
    return method


for _name in dir(asyncio.AbstractEventLoop):
    if not _name.startswith("_") and _name not in SUPPORTED and _name not in WorkerLoop.__dict__:
        setattr(WorkerLoop, _name, _unsupported(_name))

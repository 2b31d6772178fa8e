"""Work to run after the response has been sent, with Starlette's API.

    def write_log(message: str) -> None: ...

    @app.post("/send")
    def send(background_tasks: BackgroundTasks):
        background_tasks.add_task(write_log, "sent")
        return {"ok": True}

A `Response(..., background=task)` (or the `BackgroundTasks` FastAPI injects) is run by the core
once the response body has been sent, or the client went away: as a task on the worker's
stepper, never delaying the response. Sync functions run in the worker's thread pool
(`fastcore.to_thread`), as Starlette runs them in its thread pool; async ones are awaited, in
the order they were added. An exception is logged to `fastcore.error`, and the server carries on.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Awaitable, Callable, Sequence

from ._core import to_thread


def _is_async_callable(obj: Any) -> bool:
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (callable(obj) and inspect.iscoroutinefunction(obj.__call__))


class BackgroundTask:
    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = _is_async_callable(func)

    async def __call__(self) -> None:
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await to_thread(self.func, *self.args, **self.kwargs)


class BackgroundTasks(BackgroundTask):
    def __init__(self, tasks: Sequence[BackgroundTask] | None = None) -> None:
        self.tasks = list(tasks) if tasks else []

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            await task()


async def _await(awaitable: Awaitable[Any]) -> Any:
    """Used by the core to drive a background callable that returned a non-coroutine awaitable."""
    return await awaitable

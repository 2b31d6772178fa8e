"""Start-up and shutdown: `lifespan=` and `on_event("startup"/"shutdown")`, FastAPI's way.

    @asynccontextmanager
    async def lifespan(app):
        models = load_models()
        yield {"models": models}        # each request sees it as request.state.models
        models.close()

    app = FastAPI(lifespan=lifespan)

The `on_event` handlers run only when the app has no `lifespan` of its own, as in FastAPI.
`serve()` (and `TestClient` used as a context manager) enters the lifespan before the server
takes its first request and leaves it after the last one has been answered. There is no event
loop in fastcore's request path, so start-up code runs on a private asyncio loop in the thread
that starts the server; objects bound to one event loop (a connection pool made in start-up) are
therefore not for use by the workers: open those per worker (NOTES.md, "per-worker connections").
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
from typing import Any, AsyncContextManager, Callable, Sequence


class Lifespan:
    """One run of an app's lifespan: `start()` then `stop()`, on one private event loop."""

    def __init__(self, app: Any, on_startup: Sequence[Callable[[], Any]], on_shutdown: Sequence[Callable[[], Any]],
                 lifespans: Sequence[Callable[[Any], Any]]) -> None:
        self.app = app
        self.on_startup = list(on_startup)
        self.on_shutdown = list(on_shutdown)
        self.lifespans = list(lifespans)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stack: contextlib.AsyncExitStack | None = None
        self.state: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        """Runs the start-up handlers and enters each lifespan context; returns the state they
        yielded (merged, as Starlette merges the lifespans of included routers)."""
        self.loop = asyncio.new_event_loop()
        try:
            self.state = self.loop.run_until_complete(self._enter())
        except BaseException:
            self._close_loop()
            raise
        return self.state

    def stop(self) -> None:
        if self.loop is None:
            return
        try:
            self.loop.run_until_complete(self._exit())
        finally:
            self._close_loop()

    async def _enter(self) -> dict[str, Any]:
        for handler in self.on_startup:
            await _call(handler)
        self.stack = contextlib.AsyncExitStack()
        state: dict[str, Any] = {}
        for lifespan in self.lifespans:
            value = await self.stack.enter_async_context(_as_async_cm(lifespan(self.app)))
            if value is not None:
                state = {**value, **state}  # an outer lifespan's keys win, as FastAPI merges them
        return state

    async def _exit(self) -> None:
        if self.stack is not None:
            stack, self.stack = self.stack, None
            await stack.aclose()
        for handler in self.on_shutdown:
            await _call(handler)

    def _close_loop(self) -> None:
        loop, self.loop = self.loop, None
        if loop is not None:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


async def _call(handler: Callable[[], Any]) -> None:
    result = handler()
    if inspect.isawaitable(result):
        await result


def _as_async_cm(value: Any) -> AsyncContextManager[Any]:
    if hasattr(value, "__aenter__"):
        return value
    if hasattr(value, "__enter__"):  # a plain context manager (Starlette accepts these too)
        return _SyncAsAsync(value)
    raise TypeError(f"lifespan must return an async context manager, not {type(value).__name__}")


class _SyncAsAsync:
    def __init__(self, cm: Any) -> None:
        self.cm = cm

    async def __aenter__(self) -> Any:
        return self.cm.__enter__()

    async def __aexit__(self, *exc: Any) -> Any:
        return self.cm.__exit__(*exc)

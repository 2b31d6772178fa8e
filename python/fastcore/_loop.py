"""The asyncio loop each fastcore worker provides, with no event-loop thread behind it.

Each worker thread installs one `WorkerLoop` as its running loop when it starts. Scheduling
(`call_soon`, `call_later`, `create_task`) is done by the worker's Tokio runtime, and so is I/O:
the loop is asyncio's own selector event loop whose selector is the worker's Tokio reactor
(`_TokioSelector`, backed by `src/fdwatch.rs`). asyncio's transports, streams, servers, SSL and
`sock_*` methods therefore run unchanged, and so do the libraries built on them (httpx,
redis.asyncio, psycopg, anyio...):

    @app.get("/cached/{key}")
    async def cached(key: str):
        reader, writer = await asyncio.open_connection("127.0.0.1", 6379)
        ...

Nothing ever calls `select()`: when the reactor finds a watched fd ready, the worker calls the
registered reader or writer right away. Methods that need more than a reactor (subprocesses,
signal handlers, `run_forever`...) raise `NotImplementedError` naming themselves. NOTES.md
lists what each method maps to.

A connection belongs to the worker loop that opened it: awaiting its futures from a handler
on another worker raises `RuntimeError` (as asyncio does for a future of another loop), since
asyncio's transports are not made to be driven from two threads at once.
"""
from __future__ import annotations

import asyncio
import logging
import selectors
from asyncio import unix_events
from typing import Any, Callable

logger = logging.getLogger("fastcore.asyncio")

#: Methods of `asyncio.AbstractEventLoop` that a worker loop refuses.
UNSUPPORTED = frozenset({
    "run_forever", "run_until_complete", "stop", "add_signal_handler", "remove_signal_handler",
    "subprocess_exec", "subprocess_shell",
})


async def await_one(aw: Any) -> Any:
    """Lets fastcore drive any awaitable as if it were a coroutine."""
    return await aw


class _TokioSelector(selectors._BaseSelectorImpl):  # type: ignore[misc]
    """A selector whose readiness comes from the worker's Tokio reactor.

    It keeps asyncio's key map (the loop reads and edits it), and tells the worker which fds
    to watch for which events. When one is ready, the worker calls `_ready`, which runs the
    reader and writer handles as the selector loop's `_process_events` would.
    """

    def __init__(self, scheduler: Any, loop: "WorkerLoop") -> None:
        super().__init__()
        self._scheduler = scheduler
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = super().register(fileobj, events, data)
        try:
            self._scheduler.watch(key.fd, events, self._ready)
        except BaseException:
            super().unregister(fileobj)
            raise
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        key = super().unregister(fileobj)
        self._scheduler.unwatch(key.fd)
        return key

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = self._fd_to_key.get(self._fileobj_lookup(fileobj))
        if key is None:
            raise KeyError(f"{fileobj!r} is not registered")
        if events != key.events:
            self._scheduler.watch(key.fd, events, self._ready)
        key = key._replace(events=events, data=data)
        self._fd_to_key[key.fd] = key
        return key

    def select(self, timeout: float | None = None) -> list[Any]:
        raise RuntimeError("a fastcore worker loop is driven by Tokio; nothing calls select()")

    def _ready(self, fd: int, mask: int) -> None:
        for event, slot, remove in ((selectors.EVENT_READ, 0, self._loop._remove_reader),
                                    (selectors.EVENT_WRITE, 1, self._loop._remove_writer)):
            key = self._fd_to_key.get(fd)  # looked up again: the reader may change or remove it
            if key is None:
                return
            handle = key.data[slot]
            if mask & event and handle is not None:
                if handle._cancelled:
                    remove(fd)
                else:
                    handle._run()


class WorkerLoop(unix_events._UnixSelectorEventLoop):  # type: ignore[misc]
    def __init__(self, scheduler: Any) -> None:
        self._scheduler = scheduler
        # Rust methods with asyncio's own signatures, bound on the instance: no Python frame
        # between asyncio's internals and the Tokio scheduler.
        self.call_soon = self.call_soon_threadsafe = scheduler.call_soon
        self.call_later = scheduler.call_later
        super().__init__(selector=_TokioSelector(scheduler, self))

    # -- no self-pipe: nothing ever blocks in select(), so nothing needs waking ---------------
    def _make_self_pipe(self) -> None:
        pass

    def _close_self_pipe(self) -> None:
        pass

    def _write_to_self(self) -> None:
        pass

    # -- scheduling: the worker's Tokio runtime -------------------------------------------------
    # `call_soon`, `call_soon_threadsafe` (the Tokio handle accepts work from any thread) and
    # `call_later` are the scheduler's, bound in __init__; these class-level ones are for
    # introspection and for a loop built without __init__.
    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        return self._scheduler.call_soon(callback, *args, context=context)

    call_soon_threadsafe = call_soon

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        return self._scheduler.call_later(delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        return self._scheduler.call_later(when - self.time(), callback, *args, context=context)

    def time(self) -> float:
        return self._scheduler.time()

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

    def close(self) -> None:
        raise RuntimeError("a fastcore worker loop is closed by the server, not by handlers")

    def get_task_factory(self) -> None:
        return None

    def set_task_factory(self, factory: Any) -> None:
        raise NotImplementedError("WorkerLoop.set_task_factory: tasks are always fastcore tasks")

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        logger.error(context.get("message", "Unhandled exception in event loop"),
                     exc_info=(type(exc), exc, exc.__traceback__) if exc else None)

    def __del__(self) -> None:
        pass  # closed with its worker; asyncio's "unclosed event loop" warning does not apply

    def __repr__(self) -> str:
        return f"<fastcore.WorkerLoop running={self.is_running()}>"


def _unsupported(name: str) -> Callable[..., Any]:
    def method(self: WorkerLoop, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"WorkerLoop.{name}() is not available on fastcore workers, whose loop is driven by "
            f"the server's Tokio runtime; run blocking code with fastcore.to_thread(...)"
        )

    method.__name__ = name
    return method


for _name in UNSUPPORTED:
    setattr(WorkerLoop, _name, _unsupported(_name))

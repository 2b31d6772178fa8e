"""Async handlers for the stepper, awaitable, asyncio and cancellation tests."""
import asyncio
import contextvars
import os
import sys
import threading
import time

import fastcore
from fastcore import Request

app = fastcore.FastCore()
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# What cancelled handlers left behind, keyed by a marker the test chooses.
cleanup: dict[str, list[str]] = {}
# How many coroutines of a handler reached the await it is to be cancelled in, by marker.
suspended: dict[str, int] = {}
suspended_lock = threading.Lock()


def record_suspension(marker: str) -> None:
    with suspended_lock:
        suspended[marker] = suspended.get(marker, 0) + 1
crowd_lock = threading.Lock()


@app.get("/plain")
async def plain():
    return {"async": True, "thread": threading.current_thread().name}


@app.get("/sleep/{marker}/{seconds}")
async def sleep(marker: str, seconds: float):
    """Reports when the sleep began and ended, on the server's monotonic clock."""
    start = time.monotonic()
    record_suspension(marker)
    await fastcore.sleep(seconds)
    return {"start": start, "end": time.monotonic(), "thread": threading.get_ident()}


@app.get("/monotonic")
async def monotonic():
    return {"now": time.monotonic(), "thread": threading.get_ident()}


@app.get("/yield")
async def bare_yield():
    """Two gathered children take turns only if a bare yield really lets the other one run."""
    order: list[str] = []

    async def turns(name: str) -> None:
        for _ in range(3):
            order.append(name)
            await asyncio.sleep(0)

    await fastcore.gather(turns("a"), turns("b"))
    return order


@app.get("/gather/nested")
async def gather_nested():
    async def leaf(i: int) -> int:
        await fastcore.sleep(0.001 * i)
        return i

    async def branch(base: int) -> list[int]:
        return await fastcore.gather(*(leaf(base + i) for i in range(3)))

    return await fastcore.gather(branch(0), branch(10), fastcore.sleep(0.001, "awaitable"))


@app.get("/gather/failing")
async def gather_failing(return_exceptions: bool = False):
    marker = f"gf-{return_exceptions}"
    cleanup[marker] = []

    async def slow():
        try:
            await fastcore.sleep(5)
        finally:
            cleanup[marker].append("slow-finally")

    async def boom():
        await fastcore.sleep(0.01)
        raise ValueError("boom in child")

    try:
        result = await fastcore.gather(slow() if not return_exceptions else fastcore.sleep(0.01, "ok"), boom(),
                                       return_exceptions=return_exceptions)
        return {"result": [repr(r) for r in result]}
    except ValueError as exc:
        await fastcore.sleep(0.05)  # let the cancelled sibling run its finally
        return {"raised": str(exc), "cleanup": cleanup[marker]}


@app.get("/raise-from-awaitable")
async def raise_from_awaitable():
    try:
        await fastcore.wait_for(fastcore.sleep(1), 0.01)
    except TimeoutError as exc:
        return {"caught": type(exc).__name__}
    return {"caught": None}


@app.get("/uncaught")
async def uncaught():
    await fastcore.sleep(0.001)
    raise RuntimeError("async failure")


@app.get("/bad-yield")
async def bad_yield():
    class Weird:
        def __await__(self):
            yield "not awaitable by fastcore"

    try:
        await Weird()
    except RuntimeError as exc:
        return {"error": str(exc)}
    return {"error": None}


@app.get("/spawn")
async def spawn():
    async def child():
        await fastcore.sleep(0.01)
        return request_id.get()

    request_id.set("parent")
    task = fastcore.spawn(child())
    return {"result": await task, "done": task.done()}


@app.get("/spawn-cancel")
async def spawn_cancel():
    marker = "spawn-cancel"
    cleanup[marker] = []

    async def child():
        try:
            await fastcore.sleep(5)
        except asyncio.CancelledError:
            cleanup[marker].append("cancelled")
            raise

    task = fastcore.spawn(child())
    await fastcore.sleep(0.01)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return {"cancelled": task.cancelled(), "cleanup": cleanup[marker]}
    return {"cancelled": False}


@app.get("/timeout")
async def timeout():
    marker = "timeout"
    cleanup[marker] = []

    async def slow():
        try:
            await fastcore.sleep(5)
        finally:
            cleanup[marker].append("finally")

    outcome = []
    try:
        async with fastcore.timeout(0.02):
            await slow()
    except TimeoutError:
        outcome.append("fastcore.timeout")
    try:
        await fastcore.wait_for(slow(), 0.02)
    except TimeoutError:
        outcome.append("wait_for")
    await fastcore.sleep(0.01)
    return {"outcome": outcome, "cleanup": cleanup[marker]}


@app.get("/to-thread")
async def to_thread():
    worker = threading.get_ident()
    request_id.set("ctx-in-thread")
    ident, value = await fastcore.to_thread(lambda: (threading.get_ident(), request_id.get()))
    return {"other_thread": ident != worker, "context_value": value}


@app.get("/context/{value}")
async def context(value: str):
    request_id.set(value)
    await fastcore.sleep(0.005)

    async def child():
        await fastcore.sleep(0.001)
        seen = request_id.get()
        request_id.set("child-changed")  # must not leak to the parent
        return seen

    children = await fastcore.gather(child(), child())
    spawned = await fastcore.spawn(child())
    return {"value": request_id.get(), "children": children, "spawned": spawned}


@app.get("/context-sync")
def context_sync():
    """A sync handler: sees no value set by any other request."""
    before = request_id.get()
    request_id.set("sync-set")
    return {"before": before}


@app.get("/cancel/{marker}")
async def cancellable(marker: str):
    cleanup[marker] = []
    try:
        record_suspension(marker)
        await fastcore.sleep(30)
    except asyncio.CancelledError:
        cleanup[marker].append("cancelled")
        raise
    finally:
        await fastcore.sleep(0.001)  # awaiting inside finally still works after cancellation
        cleanup[marker].append("finally")
    return {"finished": True}


@app.get("/cleanup/{marker}")
def get_cleanup(marker: str):
    return cleanup.get(marker, [])


@app.get("/suspended/{marker}")
def get_suspended(marker: str):
    return suspended.get(marker, 0)


@app.post("/body/stream")
async def stream(request: Request):
    total, chunks = 0, 0
    async for chunk in request.stream():
        total += len(chunk)
        chunks += 1
    return {"bytes": total, "chunks": chunks}


@app.post("/body/whole")
async def whole(request: Request):
    body = await request.body()
    return {"bytes": len(body), "again": len(await request.body()), "sha": __import__("hashlib").sha256(body).hexdigest()}


@app.get("/gil")
async def gil():
    check = getattr(sys, "_is_gil_enabled", None)
    return {"gil_enabled": True if check is None else check(), "pid": os.getpid()}


# -- 10,000 suspended requests: each parks on one Event until the test opens it. -------------
crowd_gate = fastcore.Event()
crowd = {"waiting": 0}


@app.get("/crowd/{i}")
async def crowd_member(i: int):
    with crowd_lock:
        crowd["waiting"] += 1
    await fastcore.wait_for(crowd_gate.wait(), 120)
    await fastcore.sleep(0.001)
    return {"i": i}


@app.get("/crowd-waiting")
def crowd_waiting():
    return crowd


@app.post("/crowd-open")
def crowd_open():
    crowd_gate.set()
    return {"open": True}


@app.get("/cancel-children/{marker}")
async def cancel_children(marker: str):
    cleanup[marker] = []

    async def child(name: str):
        try:
            record_suspension(marker)
            await fastcore.sleep(30)
        finally:
            cleanup[marker].append(name)

    await fastcore.gather(child("a"), child("b"))

"""Handlers that provoke the hazards of the stepper, tasks and primitives: shared contexts,
panics, cancellations racing completions, hostile callbacks, shutdown and GC pauses.

Used by test_context.py, test_task.py, test_sync.py, test_shutdown.py and test_gc_safepoint.py.
Handlers that outlive their request write what happened to files under `FASTCORE_TEST_DIR`.
"""
import asyncio
import contextvars
import gc
import os
import statistics
import threading
import time
from pathlib import Path

import fastcore
from fastcore._core import PanicProbe

app = fastcore.FastCore()
var: contextvars.ContextVar[str] = contextvars.ContextVar("hazard_var", default="unset")
OUT = Path(os.environ.get("FASTCORE_TEST_DIR", "."))


def record(name: str, text: str) -> None:
    with open(OUT / name, "a", encoding="utf-8") as f:
        f.write(text + "\n")


# -- contexts (context.rs, stepper.rs) --------------------------------------------------------

SHARED = contextvars.copy_context()
SHARED.run(var.set, "shared")
shared_tally = {"steps": 0, "wrong": 0, "errors": []}
tally_lock = threading.Lock()


async def _walk_shared(steps: int) -> None:
    wrong = 0
    for _ in range(steps):
        if var.get() != "shared":
            wrong += 1
        time.sleep(0)  # releases the GIL inside the step, so GIL builds interleave too
        await asyncio.sleep(0)
    with tally_lock:
        shared_tally["steps"] += steps
        shared_tally["wrong"] += wrong


@app.get("/context/shared/{steps}")
async def context_shared(steps: int):
    """Runs `steps` steps in the one context every request shares; counts wrong values."""
    task = asyncio.get_running_loop().create_task(_walk_shared(steps), context=SHARED)
    try:
        await task
    except Exception as e:  # noqa: BLE001 - reported to the test
        with tally_lock:
            shared_tally["errors"].append(f"{type(e).__name__}: {e}")
    return {"thread": threading.get_ident()}


@app.get("/context/shared-tally")
def context_shared_tally():
    return shared_tally


HELD = contextvars.copy_context()
held_entered = threading.Event()
held_release = threading.Event()


def _hold_context() -> None:
    held_entered.set()
    held_release.wait(30)


@app.get("/context/held")
async def context_held():
    """A task whose context a user thread has entered: its step cannot enter it."""
    held_entered.clear()
    held_release.clear()
    holder = threading.Thread(target=HELD.run, args=(_hold_context,))
    holder.start()
    held_entered.wait(10)

    async def inside():
        return {"var": var.get(), "context_is_held": contextvars.copy_context().get(var) == HELD.get(var)}

    try:
        result = await asyncio.get_running_loop().create_task(inside(), context=HELD)
    except RuntimeError as e:
        result = {"error": str(e), "var_after": var.get()}
    finally:
        held_release.set()
        holder.join()
    return result


# -- panics (stepper.rs guards) ---------------------------------------------------------------

@app.get("/panic/async")
async def panic_async():
    var.set("leaked by the panicking request")
    await asyncio.sleep(0)
    PanicProbe().panic()


@app.get("/panic/sync")
def panic_sync():
    var.set("leaked by the panicking request")
    PanicProbe().panic()


@app.get("/after-panic/sync")
def after_panic_sync():
    task = asyncio.current_task()
    return {"var": var.get(), "current_task": None if task is None else repr(task),
            "thread": threading.get_ident()}


@app.get("/after-panic/async")
async def after_panic_async():
    return {"var": var.get(), "is_own_task": asyncio.current_task() is not None and not asyncio.current_task().done(),
            "thread": threading.get_ident()}


# -- semaphores (sync.rs) ---------------------------------------------------------------------

@app.get("/semaphore/limits")
async def semaphore_limits():
    out = {}
    for value in (2**61, -1, 2**61 - 1):
        try:
            fastcore.Semaphore(value)
            out[str(value)] = "ok"
        except ValueError as e:
            out[str(value)] = f"ValueError: {e}"
    full = fastcore.Semaphore(2**61 - 1)
    try:
        full.release()
        out["release_at_max"] = "ok"
    except ValueError as e:
        out["release_at_max"] = f"ValueError: {e}"
    out["still_usable"] = await asyncio.wait_for(full.acquire(), 1)
    return out


# -- cancellation racing completion (stepper.rs) ----------------------------------------------

@app.get("/race/lock/{workers}/{rounds}")
async def race_lock(workers: int, rounds: int):
    """Contended `async with lock` under timeouts that expire as the lock is handed over."""
    lock = fastcore.Lock()
    tally = {"acquired": 0, "released": 0, "finished": 0, "timeouts": 0, "overlaps": 0, "inside": 0}

    async def worker(i: int) -> None:
        for r in range(rounds):
            try:
                async with asyncio.timeout(0.0002 * ((i + r) % 4)):
                    async with lock:
                        tally["inside"] += 1
                        tally["acquired"] += 1
                        try:
                            if tally["inside"] > 1:
                                tally["overlaps"] += 1
                            await asyncio.sleep(0)
                        finally:
                            tally["inside"] -= 1
                            tally["released"] += 1
                tally["finished"] += 1
            except TimeoutError:
                tally["timeouts"] += 1

    await asyncio.gather(*(worker(i) for i in range(workers)))
    try:
        await asyncio.wait_for(lock.acquire(), 2)
        tally["free_at_end"] = True
        lock.release()
    except TimeoutError:
        tally["free_at_end"] = False
    tally["locked_at_end"] = lock.locked()
    return tally


async def _outcome(task) -> str:
    try:
        await asyncio.wait_for(task, 2)
        return "finished"
    except BaseException as e:  # noqa: BLE001 - reported to the test
        return type(e).__name__


@app.get("/race/handover")
async def race_handover():
    """A waiter is handed the lock (or a queue item), then cancelled before it runs again."""
    lock, queue, got = fastcore.Lock(), fastcore.Queue(), []

    async def lock_waiter():
        async with lock:
            await asyncio.sleep(0)

    async def queue_waiter():
        got.append(await queue.get())
        await asyncio.sleep(0)

    loop = asyncio.get_running_loop()
    async with lock:
        waiter = loop.create_task(lock_waiter())
        await asyncio.sleep(0)  # the waiter is now queued on the lock
    waiter.cancel()  # the lock was handed to it on release; it has not run since
    lock_outcome = await _outcome(waiter)
    consumer = loop.create_task(queue_waiter())
    await asyncio.sleep(0)  # the consumer now waits in get()
    queue.put_nowait("item")
    consumer.cancel()
    await _outcome(consumer)
    return {"lock_waiter": lock_outcome, "locked_at_end": lock.locked(),
            "item_delivered": got, "item_left": queue.qsize()}


@app.get("/race/queue/{items}")
async def race_queue(items: int):
    """Consumers whose gets time out while producers feed the queue: no item may vanish."""
    queue = fastcore.Queue()
    received: list[int] = []
    done = fastcore.Event()

    async def producer() -> None:
        for i in range(items):
            await queue.put(i)
            if i % 3 == 0:
                await asyncio.sleep(0)
        done.set()

    async def consumer(i: int) -> None:
        while not (done.is_set() and queue.empty()):
            try:
                async with asyncio.timeout(0.0001 * (i % 3)):
                    received.append(await queue.get())
            except TimeoutError:
                pass

    await asyncio.gather(producer(), *(consumer(i) for i in range(6)))
    return {"received": len(received), "distinct": len(set(received)), "left": queue.qsize()}


# -- tasks (task.rs) ----------------------------------------------------------------------------

@app.get("/task/remove-callback/{kind}")
async def task_remove_callback(kind: str):
    gate = fastcore.Event()

    async def waits():
        await gate.wait()

    task = asyncio.get_running_loop().create_task(waits())
    calls: list[str] = []

    class Reentrant:
        def __call__(self, t):
            calls.append("reentrant")

        def __eq__(self, other):
            return task.done() is False and other is self  # calls back into the task

        __hash__ = object.__hash__

    class Raising:
        def __call__(self, t):
            calls.append("raising")

        def __eq__(self, other):
            raise ValueError("__eq__ refused")

        __hash__ = object.__hash__

    keep = lambda t: calls.append("kept")  # noqa: E731
    reentrant, raising = Reentrant(), Raising()
    task.add_done_callback(keep)
    task.add_done_callback(reentrant)
    out: dict = {}
    if kind == "reentrant":
        out["removed"] = task.remove_done_callback(reentrant)
    else:
        task.add_done_callback(raising)
        try:
            task.remove_done_callback(keep)
        except ValueError as e:
            out["error"] = str(e)
    gate.set()
    await task
    for _ in range(5):
        await asyncio.sleep(0)
    out["calls"] = sorted(calls)
    return out


@app.get("/gather/first-fails-at-once")
async def gather_first_fails():
    marker = f"gather-{time.monotonic_ns()}"
    events: list[str] = []

    async def fails():
        raise KeyError("at once")

    async def later():
        events.append("started")
        try:
            await fastcore.sleep(5)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    try:
        await fastcore.gather(fails(), later())
    except KeyError:
        events.append("gather raised KeyError")
    for _ in range(10):
        await asyncio.sleep(0)
    return {"marker": marker, "events": events}


@app.get("/gather/cancelled-task")
async def gather_cancelled_task():
    async def cancels_itself():
        await asyncio.sleep(0)
        asyncio.current_task().cancel("by itself")
        await asyncio.sleep(0)

    task = asyncio.get_running_loop().create_task(cancels_itself())
    gathered = await asyncio.gather(task, return_exceptions=True)
    return {"gathered": [f"{type(e).__name__}: {e}" for e in gathered]}


@app.get("/cancel/awaited/{name}")
async def cancel_awaited(name: str):
    """Suspends in asyncio.gather of two children, or in one task, until cancelled."""

    async def child(i: int) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            record(name, f"child {i} cancelled")
            raise

    record(name, "waiting")
    try:
        if name.startswith("gather"):
            await asyncio.gather(child(1), child(2))
        else:
            await asyncio.get_running_loop().create_task(child(1))
    finally:
        record(name, "parent finally")


@app.get("/cancel/timeout-around-task")
async def timeout_around_task():
    events: list[str] = []

    async def inner():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            events.append("inner cancelled")
            raise

    task = asyncio.get_running_loop().create_task(inner())
    await asyncio.sleep(0)
    try:
        async with asyncio.timeout(0.05):
            await task
    except TimeoutError:
        events.append("TimeoutError")
    return {"events": events, "task_cancelled": task.cancelled(), "waiter_now": repr(asyncio.current_task()._fut_waiter)}


@app.get("/loop/c-task")
async def c_task():
    loop = asyncio.get_running_loop()

    async def work():
        await asyncio.sleep(0)
        return type(asyncio.current_task()).__module__

    return {"ran_in": await asyncio.Task(work(), loop=loop), "results": await asyncio.gather(
        *(asyncio.Task(work(), loop=loop) for _ in range(3)))}


@app.get("/loop/create-task-from-thread")
async def create_task_from_thread():
    loop = asyncio.get_running_loop()

    async def coro():
        return threading.get_ident()

    def from_thread():
        c = coro()
        try:
            loop.create_task(c)
            return "accepted"
        except RuntimeError as e:
            c.close()
            return f"RuntimeError: {e}"

    refused = await fastcore.to_thread(from_thread)
    via_threadsafe = await fastcore.to_thread(lambda: asyncio.run_coroutine_threadsafe(coro(), loop).result(5))
    return {"refused": refused, "threadsafe_ran_on_worker": via_threadsafe == threading.get_ident()}


# -- shutdown (worker.rs, server.py) ----------------------------------------------------------

@app.get("/shutdown/suspended/{name}")
async def shutdown_suspended(name: str):
    var.set(f"context of {name}")
    record(name, "suspended")
    try:
        await asyncio.sleep(60)
    except BaseException as e:
        record(name, f"caught {type(e).__name__} with var={var.get()}")
        raise
    finally:
        try:
            await asyncio.sleep(0.01)
            record(name, f"awaited in finally with var={var.get()}")
        except BaseException as e:  # noqa: BLE001 - reported to the test
            record(name, f"could not await in finally: {type(e).__name__}")


@app.get("/shutdown/to-thread/{name}")
async def shutdown_to_thread(name: str):
    record(name, "suspended")
    await fastcore.to_thread(time.sleep, 30)


@app.get("/shutdown/blocking/{name}")
def shutdown_blocking(name: str):
    record(name, "blocking")
    time.sleep(30)


# -- GC pauses under Rust-only load (worker.rs safe points) -----------------------------------

gc_pauses: list[float] = []


def _collect_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        gc.collect()
        gc_pauses.append(time.perf_counter() - t0)
        time.sleep(0.005)


@app.get("/gc/start/{seconds}")
def gc_start(seconds: float):
    gc_pauses.clear()
    threading.Thread(target=_collect_for, args=(seconds,), daemon=True).start()
    return {"started": True}


@app.get("/gc/pauses")
def gc_pauses_report():
    pauses = sorted(gc_pauses)
    if not pauses:
        return {"count": 0}
    return {"count": len(pauses), "median": statistics.median(pauses), "max": pauses[-1],
            "p99": pauses[min(len(pauses) - 1, int(len(pauses) * 0.99))]}

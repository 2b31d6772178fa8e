"""The asyncio loop each worker installs (python/fastcore/_loop.py, src/runtime/eventloop.rs):
tests/test_loop.py."""
import asyncio
import concurrent.futures
import contextvars
import threading

import fastcore

app = fastcore.FastCore()
tag: contextvars.ContextVar[str] = contextvars.ContextVar("tag", default="unset")


@app.get("/asyncio")
async def asyncio_compat():
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    await asyncio.sleep(0.005)
    results = await asyncio.gather(asyncio.sleep(0.005, "a"), fastcore.sleep(0.005, "b"))
    lock, event, sem, queue = asyncio.Lock(), asyncio.Event(), asyncio.Semaphore(1), asyncio.Queue()

    async def producer():
        await asyncio.sleep(0.005)
        await queue.put("item")
        event.set()

    created = asyncio.create_task(producer())
    async with lock, sem:
        await event.wait()
    item = await queue.get()
    await created
    try:
        await asyncio.wait_for(asyncio.sleep(1), 0.01)
        wait_for = "no timeout"
    except TimeoutError:
        wait_for = "timeout"
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
        timeout = "no timeout"
    except TimeoutError:
        timeout = "timeout"
    fut = loop.create_future()
    loop.call_later(0.005, fut.set_result, "from call_later")
    loop.call_soon(lambda: None)
    return {
        "loop": type(loop).__name__,
        "task": task is not None and task is asyncio.current_task(),
        "gather": results,
        "item": item,
        "wait_for": wait_for,
        "timeout": timeout,
        "future": await fut,
        "executor": await loop.run_in_executor(None, sum, [1, 2, 3]),
    }


@app.get("/asyncio/unsupported")
async def unsupported():
    loop = asyncio.get_running_loop()
    try:
        await loop.subprocess_exec(asyncio.SubprocessProtocol, "true")
    except NotImplementedError as exc:
        return {"error": str(exc)}
    return {"error": None}


@app.get("/loop-methods/{marker}")
async def loop_methods(marker: str):
    """Calls every method of SUPPORTED on the running worker loop and reports what each did."""
    loop = asyncio.get_running_loop()
    worker = threading.get_ident()
    out: dict[str, object] = {}
    order: list[str] = []

    # Scheduling: call_soon (in a given context), call_later, call_at, a cancelled handle, and
    # call_soon_threadsafe from a thread of our own.
    start = loop.time()
    ctx = contextvars.copy_context()
    ctx.run(tag.set, "from context")
    loop.call_soon(lambda: order.append(f"soon:{tag.get()}"), context=ctx)
    loop.call_later(0.02, order.append, "later")
    fired_at: list[float] = []
    at = loop.call_at(start + 0.05, lambda: (order.append("at"), fired_at.append(loop.time())))
    doomed = loop.call_later(0.01, order.append, "cancelled handle ran")
    doomed.cancel()
    woken = loop.create_future()
    threading.Thread(target=lambda: loop.call_soon_threadsafe(
        lambda: woken.set_result((threading.get_ident(), threading.get_ident() == worker)))).start()
    out["threadsafe"] = await asyncio.wait_for(woken, 5)
    await asyncio.sleep(0.1)
    out["order"] = order
    out["call_at"] = {"when_matches": abs(at.when() - (start + 0.05)) < 0.005,
                      "not_early": fired_at[0] >= at.when() if fired_at else None}
    out["cancel"] = doomed.cancelled()
    out["time"] = loop.time() >= start + 0.1

    # Tasks and futures.
    async def child():
        await asyncio.sleep(0)
        return "child result"

    task = loop.create_task(child(), name="named-child")
    out["create_task"] = [task.get_name(), await task]
    fut = loop.create_future()
    loop.call_soon(fut.set_result, "future result")
    out["create_future"] = await fut

    # State.
    out["is_running"], out["is_closed"] = loop.is_running(), loop.is_closed()
    loop.set_debug(True)
    debug_on = loop.get_debug()
    loop.set_debug(False)
    out["debug"] = [debug_on, loop.get_debug()]

    # Exception handling: a custom handler, then the default one (which logs).
    calls: list[tuple[bool, str]] = []

    def handler(lp, context):
        calls.append((lp is loop, context["message"]))

    loop.set_exception_handler(handler)
    out["get_exception_handler"] = loop.get_exception_handler() is handler
    loop.call_exception_handler({"message": "to the custom handler"})
    loop.set_exception_handler(None)
    loop.call_exception_handler({"message": f"default handler {marker}", "exception": ValueError(marker)})
    loop.default_exception_handler({"message": f"called directly {marker}"})
    out["exception_handler"] = calls

    # Executors.
    out["run_in_executor"] = await loop.run_in_executor(None, threading.get_ident) != worker
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        out["run_in_own_executor"] = await loop.run_in_executor(pool, sum, [1, 2, 3])

    # What the server owns, refused; what there is nothing to do for, done.
    out["get_task_factory"] = loop.get_task_factory()
    try:
        loop.set_task_factory(lambda lp, coro: None)
        out["set_task_factory"] = "accepted"
    except NotImplementedError as exc:
        out["set_task_factory"] = str(exc)
    try:
        loop.close()
        out["close"] = "closed"
    except RuntimeError as exc:
        out["close"] = str(exc)
    out["shutdown_asyncgens"] = await loop.shutdown_asyncgens()
    out["shutdown_default_executor"] = await loop.shutdown_default_executor()
    out["still_running"] = loop.is_running() and not loop.is_closed()
    return out

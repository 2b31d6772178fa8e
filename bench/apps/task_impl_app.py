"""fastcore's Rust-driven Task against asyncio's C Task driven by the worker loop, in one process:
N tasks, each awaiting `asyncio.sleep(0)` K times, created and awaited inside one handler."""
import asyncio
import time

import fastcore

app = fastcore.FastCore()


async def _work(k: int) -> int:
    for _ in range(k):
        await asyncio.sleep(0)
    return k


@app.get("/tasks/{impl}/{n}/{k}")
async def tasks(impl: str, n: int, k: int):
    loop = asyncio.get_running_loop()
    make = loop.create_task if impl == "fastcore" else (lambda c: asyncio.Task(c, loop=loop))
    t0 = time.perf_counter()
    results = await asyncio.gather(*(make(_work(k)) for _ in range(n)))
    elapsed = time.perf_counter() - t0
    assert results == [k] * n
    return {"impl": impl, "seconds": elapsed, "per_task_step_us": elapsed / (n * (k + 1)) * 1e6}

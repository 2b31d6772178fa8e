"""Handler faults written with FastAPI's imports (tests/test_faults.py): exceptions in handlers,
dependencies and yield-dependency teardowns, deep recursion, an unserialisable return value,
streams that fail before and after their first chunk, failing background tasks, and a handler
that blocks its thread. Served by fastcore (ported) and by FastAPI's TestClient, compared."""
import logging
import threading
import time

from fastapi import BackgroundTasks, Depends, FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()
log = logging.getLogger("tests.apps.fa_faults")


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.get("/handler/sync")
def handler_sync():
    raise RuntimeError("sync handler failed")


@app.get("/handler/async")
async def handler_async():
    raise RuntimeError("async handler failed")


def failing_dep():
    raise LookupError("sync dependency failed")


async def failing_dep_async():
    raise LookupError("async dependency failed")


@app.get("/dep/sync")
def dep_sync(value: str = Depends(failing_dep)):
    return {"never": value}


@app.get("/dep/async")
async def dep_async(value: str = Depends(failing_dep_async)):
    return {"never": value}


def teardown_fails():
    yield "resource"
    raise OSError("sync teardown failed")


async def teardown_fails_async():
    yield "resource"
    raise OSError("async teardown failed")


@app.get("/teardown/sync")
def teardown_sync(value: str = Depends(teardown_fails)):
    return {"value": value}


@app.get("/teardown/async")
async def teardown_async(value: str = Depends(teardown_fails_async)):
    return {"value": value}


def recurse(n: int) -> int:
    return recurse(n + 1) + 1


@app.get("/recursion/sync")
def recursion_sync():
    return {"depth": recurse(0)}


async def recurse_async(n: int) -> int:
    return await recurse_async(n + 1) + 1


@app.get("/recursion/async")
async def recursion_async():
    return {"depth": recurse(0)}


@app.get("/recursion/coroutines")
async def recursion_coroutines():
    return {"depth": await recurse_async(0)}


@app.get("/unserialisable")
def unserialisable():
    return object()


@app.get("/unserialisable/async")
async def unserialisable_async():
    return {"value": object()}


def sync_chunks(fail_at: int):
    for i in range(4):
        if i == fail_at:
            raise RuntimeError(f"sync stream failed at chunk {fail_at}")
        yield f"chunk {i}\n"


async def async_chunks(fail_at: int):
    for i in range(4):
        if i == fail_at:
            raise RuntimeError(f"async stream failed at chunk {fail_at}")
        yield f"chunk {i}\n"


@app.get("/stream/sync/{fail_at}")
def stream_sync(fail_at: int):
    return StreamingResponse(sync_chunks(fail_at), media_type="text/plain")


@app.get("/stream/async/{fail_at}")
async def stream_async(fail_at: int):
    return StreamingResponse(async_chunks(fail_at), media_type="text/plain")


def task_fails(marker: str):
    raise RuntimeError(f"sync background task failed {marker}")


async def task_fails_async(marker: str):
    raise RuntimeError(f"async background task failed {marker}")


@app.get("/background/sync/{marker}")
def background_sync(marker: str, tasks: BackgroundTasks):
    tasks.add_task(task_fails, marker)
    return {"queued": marker}


@app.get("/background/async/{marker}")
async def background_async(marker: str, tasks: BackgroundTasks):
    tasks.add_task(task_fails_async, marker)
    return {"queued": marker}


@app.get("/block/{seconds}")
def block(seconds: float):
    log.warning("blocking %s s on thread %d", seconds, threading.get_ident())
    time.sleep(seconds)
    return {"blocked": seconds, "thread": threading.get_ident()}

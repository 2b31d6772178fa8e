"""Response.background and fastcore.background (tests/test_background.py): tasks that record
their name, so a later request can tell whether (and when) they ran. A gated task first waits
until the test releases it (`POST /release/{name}`), so tests need no timing bounds."""
import contextvars
import logging
import threading
import time

import fastcore
from fastcore import Response
from fastcore.background import BackgroundTask, BackgroundTasks

app = fastcore.FastCore()
finished: dict[str, float] = {}
order: dict[str, list[str]] = {}
lock = threading.Lock()


released: set[str] = set()


def record_sync(name: str, gated: bool = False) -> None:
    while gated and name not in released:
        time.sleep(0.01)
    with lock:
        finished[name] = time.time()


async def record_async(name: str, gated: bool = False) -> None:
    while gated and name not in released:
        await fastcore.sleep(0.01)
    finished[name] = time.time()


def append_sync(key: str, item: str) -> None:
    time.sleep(0.01)
    with lock:
        order.setdefault(key, []).append(item)


async def append_async(key: str, item: str) -> None:
    await fastcore.sleep(0.01)
    order.setdefault(key, []).append(item)


def fail_sync(name: str) -> None:
    raise RuntimeError(f"sync background failure {name}")


async def fail_async(name: str) -> None:
    await fastcore.sleep(0)
    raise RuntimeError(f"async background failure {name}")


@app.post("/release/{name}")
def release(name: str):
    with lock:
        released.add(name)


@app.get("/seen/{name}")
def seen(name: str):
    return {"finished": finished.get(name), "now": time.time()}


@app.get("/order/{key}")
def get_order(key: str):
    return order.get(key, [])


@app.get("/sync-handler/{kind}/{name}")
def sync_handler(kind: str, name: str):
    func = record_sync if kind == "sync" else record_async
    return Response("sent", background=BackgroundTask(func, name, gated=True))


@app.get("/async-handler/{kind}/{name}")
async def async_handler(kind: str, name: str):
    await fastcore.sleep(0)
    func = record_sync if kind == "sync" else record_async
    return Response("sent", background=BackgroundTask(func, name, gated=True))


@app.get("/ordered/{key}")
async def ordered(key: str):
    tasks = BackgroundTasks()
    for i in range(6):
        tasks.add_task(append_sync if i % 2 else append_async, key, str(i))
    return Response("sent", background=tasks)


@app.get("/fail/{kind}/{name}")
def fail(kind: str, name: str):
    return Response("sent", background=BackgroundTask(fail_sync if kind == "sync" else fail_async, name))


@app.get("/blocking/{name}")
def blocking(name: str):
    """A gated sync task runs in the thread pool: the worker keeps serving while it waits."""
    return Response("sent", background=BackgroundTask(record_sync, name, gated=True))


@app.get("/big/{name}")
def big(name: str):
    return Response(b"x" * (64 << 20), background=BackgroundTask(record_async, name))


@app.get("/error-response/{name}")
def error_response(name: str):
    raise fastcore.HTTPException(404, "gone")


logging.getLogger("fastcore.error").setLevel(logging.INFO)


# -- contextvars: the response's work runs in the handler's context, as in FastAPI -------------
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
seen_values: dict[str, object] = {}


def read_var_sync(name: str) -> None:
    seen_values[name] = request_id.get()


async def read_var_async(name: str) -> None:
    await fastcore.sleep(0)
    seen_values[name] = request_id.get()


async def scoped_request_id():
    token = request_id.set("from-dependency")
    try:
        yield
    finally:
        request_id.reset(token)  # fails if run in another context than the set
        seen_values["dependency-exit"] = "clean"


@app.get("/context/{kind}/{name}")
async def context_async(kind: str, name: str):
    request_id.set(f"async-{name}")
    await fastcore.sleep(0)
    return Response("sent", background=BackgroundTask(read_var_sync if kind == "sync" else read_var_async, name))


@app.get("/context-sync/{name}")
def context_sync(name: str):
    request_id.set(f"sync-{name}")
    return Response("sent", background=BackgroundTask(read_var_async, name))


@app.get("/context-dep/{name}")
async def context_dep(name: str, _: None = fastcore.Depends(scoped_request_id)):
    return Response("sent", background=BackgroundTask(read_var_async, name))


@app.get("/seen-value/{name}")
def seen_value(name: str):
    return {"value": seen_values.get(name, "<unset>")}

"""Dependencies written with FastAPI's imports (tests/test_dependencies.py): sub-dependencies,
classes, caching, yield (sync and async) with cleanup and exceptions, route and app
dependencies, overrides. Served unchanged by FastAPI and, imports renamed, by fastcore.

`/events` returns (and clears) what the dependencies recorded, so tests can see cleanup order.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Optional

from fastapi import BackgroundTasks, Depends, FastAPI, Header, HTTPException, Query, Response

events: list[str] = []
_lock = threading.Lock()


def record(event: str) -> None:
    with _lock:
        events.append(event)


async def verify_key(x_key: str = Header()):
    if x_key != "secret":
        raise HTTPException(status_code=403, detail="bad key", headers={"x-why": "key"})
    return x_key


app = FastAPI(dependencies=[Depends(verify_key)])


def pager(skip: int = 0, limit: Annotated[int, Query(le=100)] = 10):
    return {"skip": skip, "limit": limit}


async def async_pager(page: int = 1):
    return {"page": page}


def query_or_cookie(q: Optional[str] = None, last: Optional[str] = None):
    return q or last


class Filters:
    def __init__(self, name: Optional[str] = None, size: int = 1):
        self.name = name
        self.size = size


def counter() -> dict:
    record("counter")
    return {"n": len(events)}


def uses_counter(c: dict = Depends(counter)):
    return c


def uses_counter_uncached(c: dict = Depends(counter, use_cache=False)):
    return c


def sync_resource():
    record("sync:enter")
    try:
        yield "sync-resource"
    except HTTPException:
        record("sync:saw-http")
        raise
    except ValueError as exc:
        record(f"sync:saw:{exc}")
        raise HTTPException(status_code=409, detail=f"converted {exc}") from exc
    finally:
        record("sync:exit")


async def async_resource(sync: str = Depends(sync_resource)):
    record("async:enter")
    try:
        yield f"async-over-{sync}"
    except KeyError:
        record("async:saw-key")
        raise
    finally:
        record("async:exit")


def swallowing():
    try:
        yield "swallow"
    except Exception:  # noqa: BLE001 - the bad practice FastAPI reports
        record("swallowed")


def needs_x(x: int):
    return x


def original():
    return "original"


@app.get("/events")
def get_events(flush: bool = True):
    with _lock:
        out = list(events)
        if flush:
            events.clear()
    return out


@app.get("/pager")
def get_pager(p: dict = Depends(pager), a: dict = Depends(async_pager)):
    return {"p": p, "a": a}


@app.get("/pager-async")
async def get_pager_async(p: Annotated[dict, Depends(pager)], key: str = Depends(verify_key)):
    return {"p": p, "key": key}


@app.get("/class")
def get_class(f: Annotated[Filters, Depends()]):
    return {"name": f.name, "size": f.size}


@app.get("/class-default")
async def get_class_default(f: Filters = Depends(Filters)):
    return {"name": f.name, "size": f.size}


@app.get("/nested")
def get_nested(value: Optional[str] = Depends(query_or_cookie)):
    return {"value": value}


@app.get("/cache")
def get_cache(a: dict = Depends(counter), b: dict = Depends(uses_counter)):
    return {"same": a is b, "a": a, "b": b}


@app.get("/no-cache")
def get_no_cache(a: dict = Depends(counter), b: dict = Depends(uses_counter_uncached)):
    return {"same": a is b}


@app.get("/yield")
def get_yield(r: str = Depends(async_resource)):
    record("handler")
    return {"resource": r}


@app.get("/yield-sync")
def get_yield_sync(r: str = Depends(sync_resource)):
    record("handler")
    return {"resource": r}


@app.get("/yield/raise/{kind}")
async def get_yield_raise(kind: str, r: str = Depends(async_resource)):
    record("handler")
    if kind == "value":
        raise ValueError("boom")
    if kind == "key":
        raise KeyError("k")
    raise HTTPException(status_code=418, detail="teapot")


@app.get("/route-deps", dependencies=[Depends(counter), Depends(needs_x)])
def get_route_deps():
    return {"ok": True}


@app.get("/errors-order/{n}")
def get_errors_order(n: int, q: int, p: dict = Depends(pager), x: int = Depends(needs_x), h: int = Header()):
    return {"n": n}


@app.get("/overridable")
def get_overridable(value: str = Depends(original)):
    return {"value": value}


@app.post("/admin/override")
def set_override(on: bool):
    if on:
        app.dependency_overrides[original] = lambda: "overridden"
    else:
        app.dependency_overrides.clear()
    return {"on": on}


def queue_from_dependency(tasks: BackgroundTasks, tag: str = "dep"):
    tasks.add_task(record, f"task:{tag}")
    return tag


async def resource_for_tasks():
    record("tasks-resource:enter")
    yield "r"
    record("tasks-resource:exit")


@app.post("/tasks")
def post_tasks(tasks: BackgroundTasks, tag: str = Depends(queue_from_dependency),
               r: str = Depends(resource_for_tasks)):
    tasks.add_task(record, "task:handler")
    return {"tag": tag}


@app.post("/tasks-async", status_code=202)
async def post_tasks_async(background_tasks: BackgroundTasks, response: Response):
    async def note(event: str) -> None:
        record(event)

    background_tasks.add_task(note, "task:async")
    response.headers["x-queued"] = "1"
    return {"queued": 1}


@app.post("/tasks-explicit-response")
def post_tasks_explicit(tasks: BackgroundTasks):
    tasks.add_task(record, "task:dropped")
    return Response("explicit", media_type="text/plain")


def function_scoped():
    record("function:enter")
    yield "f"
    record("function:exit")


def request_scoped():
    record("request:enter")
    yield "r"
    record("request:exit")


def tasks_note(tasks: BackgroundTasks):
    tasks.add_task(record, "task")


@app.get("/scopes")
def get_scopes(r: str = Depends(request_scoped), f: str = Depends(function_scoped, scope="function"),
               _t: None = Depends(tasks_note)):
    record("handler")
    return {"r": r, "f": f}


@app.get("/swallowed")
def get_swallowed(s: str = Depends(swallowing)):
    raise ValueError("lost")


def failing_cleanup():
    yield "x"
    record("cleanup:raising")
    raise RuntimeError("cleanup failed")


@app.get("/failing-cleanup")
def get_failing_cleanup(x: str = Depends(failing_cleanup)):
    return {"x": x}


def first_user(x: int = Depends(needs_x)):
    return x


def second_user(x: int = Depends(needs_x), y: int = 0):
    return x + y


@app.get("/shared-errors")
def get_shared_errors(a: int = Depends(first_user), b: int = Depends(second_user)):
    return {"a": a, "b": b}


_running = {"now": 0, "max": 0}


async def limited_async():
    with _lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
    await asyncio.sleep(0.15)
    with _lock:
        _running["now"] -= 1
    return "limited"


def limited_gen():
    with _lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
    try:
        yield "limited-gen"
    finally:
        with _lock:
            _running["now"] -= 1


@app.get("/limited")
async def get_limited(v: str = Depends(limited_async, max_concurrency=1)):
    await asyncio.sleep(0.01)
    return {"v": v}


@app.get("/limited-gen")
async def get_limited_gen(v: Annotated[str, Depends(limited_gen, max_concurrency=1)]):
    await asyncio.sleep(0.1)
    return {"v": v}


@app.get("/limited/peak")
def get_limited_peak(reset: bool = False):
    peak = _running["max"]
    if reset:
        _running["max"] = 0
    return {"peak": peak}

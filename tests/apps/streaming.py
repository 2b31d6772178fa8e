"""StreamingResponse over sync and async iterators (tests/test_streaming.py). Generators record
how many bytes they have produced and whether their `finally` ran, for `/progress/{name}`."""
import contextvars
import threading
import time

import fastcore
from fastcore.background import BackgroundTask
from fastcore.responses import StreamingResponse

app = fastcore.FastCore()
produced: dict[str, int] = {}
closed: dict[str, bool] = {}
lock = threading.Lock()
CHUNK = b"x" * 65536


@app.get("/progress/{name}")
def progress(name: str):
    return {"produced": produced.get(name, 0), "closed": closed.get(name, False)}


def sync_chunks():
    yield "hello, "
    time.sleep(0.01)
    yield b"sync "
    yield memoryview(b"world")
    yield ""
    yield bytearray(b"!")


async def async_chunks():
    yield "hello, "
    await fastcore.sleep(0.01)
    yield b"async "
    yield memoryview(b"world")
    yield b""
    yield "!"


@app.get("/sync")
def sync_stream():
    return StreamingResponse(sync_chunks(), media_type="text/plain", headers={"x-kind": "sync"})


@app.get("/async")
async def async_stream():
    return StreamingResponse(async_chunks(), media_type="text/plain")


@app.get("/list")
def list_stream():
    return StreamingResponse(["a", "b", "c"])


def big_sync(name: str, total_mb: int):
    produced[name] = 0
    try:
        for _ in range(total_mb * 16):
            with lock:
                produced[name] += len(CHUNK)
            yield CHUNK
    finally:
        closed[name] = True


async def big_async(name: str, total_mb: int):
    produced[name] = 0
    try:
        for i in range(total_mb * 16):
            produced[name] += len(CHUNK)
            if i % 64 == 0:
                await fastcore.sleep(0)
            yield CHUNK
    finally:
        await fastcore.sleep(0.01)  # a finally that awaits still runs
        closed[name] = True


@app.get("/big/{kind}/{name}/{total_mb:int}")
def big(kind: str, name: str, total_mb: int):
    gen = big_sync(name, total_mb) if kind == "sync" else big_async(name, total_mb)
    return StreamingResponse(gen, media_type="application/octet-stream")


def failing_sync():
    yield b"one;"
    yield b"two;"
    raise RuntimeError("sync stream failure")


async def failing_async():
    yield b"one;"
    await fastcore.sleep(0.01)
    yield b"two;"
    raise RuntimeError("async stream failure")


@app.get("/fail-mid/{kind}")
def fail_mid(kind: str):
    return StreamingResponse(failing_sync() if kind == "sync" else failing_async())


async def fails_at_once():
    raise RuntimeError("stream failed before its first chunk")
    yield b""  # pragma: no cover


@app.get("/fail-first")
def fail_first():
    return StreamingResponse(fails_at_once())


@app.get("/with-length")
def with_length():
    return StreamingResponse(iter([b"12345", b"67890"]), headers={"content-length": "10"})


def record(name: str) -> None:
    closed[name] = True


@app.get("/background/{name}")
async def with_background(name: str):
    return StreamingResponse(async_chunks(), background=BackgroundTask(record, name))


async def slow_ticks(name: str):
    produced[name] = 0
    try:
        while True:
            await fastcore.sleep(0.05)
            produced[name] += 1
            yield b"tick\n"
    finally:
        closed[name] = True


@app.get("/ticks/{name}")
async def ticks(name: str):
    return StreamingResponse(slow_ticks(name), media_type="text/event-stream")


request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def var_chunks():
    yield request_id.get()


def var_chunks_sync():
    yield request_id.get()  # next() runs in the thread pool, in a copy of the pump's context


@app.get("/context/{kind}/{name}")
async def context_stream(kind: str, name: str):
    request_id.set(name)
    return StreamingResponse(var_chunks() if kind == "async" else var_chunks_sync())

"""Concurrency, shutdown and process tests (tests/test_server.py)."""
import logging
import os
import sys
import threading
import time

import fastcore
from fastcore import Request

app = fastcore.FastCore()
log = logging.getLogger("tests.apps.slow")

# Set when the server logs that a shutdown signal arrived, so a handler can prove it was still
# running while the server drained (no sleeps and guesses in the test).
shutdown_seen = threading.Event()


class _ShutdownWatcher(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if "received: draining" in record.getMessage():
            shutdown_seen.set()


logging.getLogger("fastcore").addHandler(_ShutdownWatcher())

_barriers: dict[str, threading.Barrier] = {}
_barriers_lock = threading.Lock()


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


@app.get("/barrier/{round_id}")
def barrier(round_id: str):
    """Passes only if a second request for the same round runs at the same time."""
    with _barriers_lock:
        b = _barriers.setdefault(round_id, threading.Barrier(2, timeout=5))
    log.warning("barrier %s arrived on %s", round_id, threading.current_thread().name)
    try:
        b.wait()
        passed = True
    except threading.BrokenBarrierError:
        passed = False
    return {"passed": passed, "gil_enabled": _gil_enabled(), "thread": threading.get_ident(),
            "thread_name": threading.current_thread().name}


@app.get("/in-flight/{marker}")
def in_flight(marker: str):
    """Stays busy until the server has begun shutting down (or 10 s pass), then answers."""
    log.warning("in-flight handler started %s", marker)
    saw_shutdown = shutdown_seen.wait(timeout=10)
    time.sleep(1.0)  # stay busy a while after the signal, while the server drains
    return {"marker": marker, "saw_shutdown": saw_shutdown}


@app.get("/suspended/{marker}")
async def suspended(marker: str, release: str):
    """Stays suspended in fastcore.sleep until the file `release` exists (the test creates it
    once it has seen the server drain), then answers."""
    log.warning("suspended handler started %s", marker)
    while not os.path.exists(release):
        await fastcore.sleep(0.02)
    return {"marker": marker, "saw_shutdown": shutdown_seen.is_set()}


@app.get("/endless/{marker}")
async def endless(marker: str):
    """Outlasts any drain timeout."""
    log.warning("endless handler started %s", marker)
    await fastcore.sleep(3600)
    return {"marker": marker}


@app.get("/pid")
def pid(request: Request):
    return {"pid": os.getpid(), "client_port": request.client[1]}


@app.get("/log/{marker}")
def log_levels(marker: str):
    """One record per level, the highest last (tests/test_cli.py waits for it)."""
    log.debug("debug %s", marker)
    log.info("info %s", marker)
    log.warning("warning %s", marker)
    return {"logged": marker}


@app.api_route("/hello", methods=["GET", "HEAD"])
def hello():
    return {"message": "Hello, World!"}


@app.get("/in-flight-async/{marker}")
async def in_flight_async(marker: str):
    """The async twin of /in-flight: suspended until the server has begun shutting down (or
    10 s pass), then 1 s more, while the server drains."""
    log.warning("in-flight handler started %s", marker)
    for _ in range(500):
        if shutdown_seen.is_set():
            break
        await fastcore.sleep(0.02)
    saw_shutdown = shutdown_seen.is_set()
    await fastcore.sleep(1.0)
    return {"marker": marker, "saw_shutdown": saw_shutdown}

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

_barriers: dict[str, threading.Barrier] = {}
_barriers_lock = threading.Lock()


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


@app.get("/barrier/{round_id}")
def barrier(round_id: str):
    """Passes only if a second request for the same round runs at the same time."""
    with _barriers_lock:
        b = _barriers.setdefault(round_id, threading.Barrier(2, timeout=3))
    try:
        b.wait()
        passed = True
    except threading.BrokenBarrierError:
        passed = False
    return {"passed": passed, "gil_enabled": _gil_enabled(), "thread": threading.get_ident(),
            "thread_name": threading.current_thread().name}


@app.get("/sleep/{marker}")
def sleep(marker: str, seconds: float = 1.0):
    log.warning("sleep handler started %s", marker)
    time.sleep(seconds)
    return {"slept": seconds, "marker": marker}


@app.get("/pid")
def pid(request: Request):
    return {"pid": os.getpid(), "client_port": request.client[1]}


@app.get("/hello")
def hello():
    return {"message": "Hello, World!"}

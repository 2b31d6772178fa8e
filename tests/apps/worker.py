"""Per-worker state (src/server/worker.rs): each worker thread keeps one Python thread state for its
life, and new connections are spread over the workers: tests/test_worker.py."""
import threading

import fastcore

app = fastcore.FastCore()
_guard = threading.Lock()
created = {"locals": 0}


class PerThreadState(threading.local):
    """Initialised once per Python thread state: a new thread state starts a new one."""

    def __init__(self) -> None:
        with _guard:
            created["locals"] += 1
            self.id = created["locals"]
        self.hits = 0


state = PerThreadState()


def visit() -> dict:
    state.hits += 1
    return {"thread": threading.get_ident(), "native": threading.get_native_id(), "local": state.id,
            "hits": state.hits}


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.get("/visit")
def visit_sync():
    return visit()


@app.get("/visit-async")
async def visit_async():
    before = visit()
    await fastcore.sleep(0.001)
    return {"before": before, "after": visit()}


@app.get("/visit-to-thread")
async def visit_to_thread():
    return await fastcore.to_thread(visit)


@app.get("/locals-created")
def locals_created():
    return created

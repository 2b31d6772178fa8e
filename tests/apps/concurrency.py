"""fastcore's Rust-backed Lock, Event, Queue and Semaphore (src/runtime/sync.rs), shared by handlers on
every worker, and the per-worker to_thread pool (src/runtime/aio.rs, src/server/worker.rs): tests/test_concurrency.py.

Every route reports the worker thread it ran on, so the tests can prove two workers took part.
Each test works on objects of its own, named by a marker it chooses. The bookkeeping that the
tests read (counts of handlers inside a section, waiting, done) is kept under a plain
threading.Lock, so that the counts are exact whatever the primitive under test does.
"""
import threading

import fastcore

app = fastcore.FastCore()
_books = threading.Lock()
_locks: dict[str, fastcore.Lock] = {}
_events: dict[str, fastcore.Event] = {}
_queues: dict[str, fastcore.Queue] = {}
_semaphores: dict[str, fastcore.Semaphore] = {}
_releases: dict[str, threading.Event] = {}
_stats: dict[str, dict[str, int]] = {}


def _get(table: dict, marker: str, make):
    with _books:
        if marker not in table:
            table[marker] = make()
        return table[marker]


def _stat(marker: str) -> dict[str, int]:
    return _get(_stats, marker, lambda: {"value": 0, "inside": 0, "max_inside": 0, "waiting": 0, "done": 0})


def _count(marker: str, key: str, delta: int) -> None:
    with _books:
        stat = _stats[marker]
        stat[key] += delta
        if key == "inside":
            stat["max_inside"] = max(stat["max_inside"], stat["inside"])


def me() -> int:
    return threading.get_ident()


@app.get("/whoami")
def whoami():
    return {"thread": me()}


@app.get("/stats/{marker}")
def stats(marker: str):
    return _stat(marker)


# -- Lock -----------------------------------------------------------------------------------------

@app.get("/lock/{marker}")
async def locked_increment(marker: str):
    """Read, suspend, write: an increment that loses updates unless the lock excludes every other
    handler, on this worker and on the others, for the whole section."""
    lock, stat = _get(_locks, marker, fastcore.Lock), _stat(marker)
    async with lock:
        _count(marker, "inside", 1)
        value = stat["value"]
        await fastcore.sleep(0.002)
        stat["value"] = value + 1
        _count(marker, "inside", -1)
    return {"thread": me()}


# -- Queue ----------------------------------------------------------------------------------------

@app.post("/queue/{marker}/{item}")
async def queue_put(marker: str, item: int):
    await _get(_queues, marker, fastcore.Queue).put(item)
    return {"thread": me()}


@app.get("/queue/{marker}")
async def queue_get(marker: str):
    queue = _get(_queues, marker, fastcore.Queue)
    _stat(marker)
    _count(marker, "waiting", 1)
    item = await fastcore.wait_for(queue.get(), 10)
    return {"item": item, "thread": me(), "left": queue.qsize()}


# -- Event ----------------------------------------------------------------------------------------

@app.get("/event/{marker}/wait")
async def event_wait(marker: str):
    event = _get(_events, marker, fastcore.Event)
    _stat(marker)
    _count(marker, "waiting", 1)
    await fastcore.wait_for(event.wait(), 10)
    _count(marker, "done", 1)
    return {"open": event.is_set(), "thread": me()}


@app.post("/event/{marker}/set")
def event_set(marker: str):
    _get(_events, marker, fastcore.Event).set()
    return {"thread": me()}


# -- Semaphore ------------------------------------------------------------------------------------

@app.get("/semaphore/{marker}/{value}")
async def semaphore_section(marker: str, value: int):
    """Takes one of `value` permits and holds it until /event/{marker}/set."""
    sem, stat = _get(_semaphores, marker, lambda: fastcore.Semaphore(value)), _stat(marker)
    gate = _get(_events, marker, fastcore.Event)
    _count(marker, "waiting", 1)
    async with sem:
        _count(marker, "inside", 1)
        await fastcore.wait_for(gate.wait(), 10)
        await fastcore.sleep(0.001)
        _count(marker, "inside", -1)
    _count(marker, "done", 1)
    return {"thread": me(), "max_inside": stat["max_inside"]}


@app.get("/semaphore-api")
async def semaphore_api():
    """acquire/release/locked and `async with` on one Semaphore(2), step by step."""
    sem = fastcore.Semaphore(2)
    seen: list[object] = [sem.locked()]
    seen.append(await sem.acquire())
    seen.append(sem.locked())
    async with sem:
        seen.append(sem.locked())
        try:
            await fastcore.wait_for(sem.acquire(), 0.05)
            seen.append("acquired a third permit")
        except TimeoutError:
            seen.append("third acquire waited")
    seen.append(sem.locked())
    sem.release()
    seen.append(sem.locked())
    seen.append(await fastcore.wait_for(sem.acquire(), 1))
    return seen


# -- to_thread ------------------------------------------------------------------------------------

def _blocking(marker: str, worker: int) -> int:
    """Runs on a to_thread pool thread: counts itself as running until the test releases it."""
    key = f"{marker}-{worker}"
    _count(marker, "inside", 1)
    _count(key, "inside", 1)
    try:
        if not _releases[marker].wait(timeout=20):
            raise TimeoutError("the test never released the blocking calls")
    finally:
        _count(key, "inside", -1)
        _count(marker, "inside", -1)
    return threading.get_ident()


@app.get("/to-thread/{marker}/{calls}")
async def to_thread_crowd(marker: str, calls: int):
    """Starts `calls` blocking to_thread calls from this worker at once and waits for them all."""
    worker = me()
    _get(_releases, marker, threading.Event)
    _stat(marker)
    _stat(f"{marker}-{worker}")
    threads = await fastcore.gather(*(fastcore.to_thread(_blocking, marker, worker) for _ in range(calls)))
    return {"thread": worker, "pool_threads": len(set(threads)), "max_running_here": _stat(f"{marker}-{worker}")["max_inside"]}


@app.post("/to-thread/{marker}/release")
def to_thread_release(marker: str):
    _get(_releases, marker, threading.Event).set()
    return {"released": True}

"""The demo service: a small notes API with a live page, on fastcore.

    make demo        # serves it on http://127.0.0.1:8000 (the page at /, the API docs at /docs)

What it shows:

- pydantic models for bodies and responses, and FastAPI's errors (422, 404, 401, 403);
- a dependency chain: `X-API-Key` header (`APIKeyHeader`) -> the key's owner -> that owner's
  notes (`Notes`), so every API route sees only its caller's notes;
- SQLite through `fastcore.to_thread`: blocking calls leave the worker free for other requests;
- `GET /api/overview`: an async fan-out with `fastcore.http` and `fastcore.gather`, fetching
  three endpoints at once (this service's own, or `NOTES_UPSTREAM`'s);
- `GET /api/events`: Server-Sent Events, a `StreamingResponse` fed by a `fastcore.Queue` per
  subscriber, shared by every worker thread;
- a Jinja2 page (`/`) with plain JavaScript and CSS from `app.mount("/static", StaticFiles(...))`.

Settings (environment): `NOTES_DB` (SQLite file; default notes.db beside this file),
`NOTES_API_KEYS` (`key:owner,key:owner`; default `demo-key:demo`), `NOTES_UPSTREAM` (base URL
the overview fetches from; default: this service, as the request reached it).
"""
from __future__ import annotations

import json
import os
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, AsyncIterator

from pydantic import BaseModel, Field

import fastcore
from fastcore import Depends, FastAPI, HTTPException, Query, Request, Security, status
from fastcore.responses import HTMLResponse, Response, StreamingResponse
from fastcore.security import APIKeyHeader, APIKeyQuery
from fastcore.staticfiles import StaticFiles
from fastcore.templating import Jinja2Templates

from .store import Store

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"


def _keys() -> dict[str, str]:
    spec = os.environ.get("NOTES_API_KEYS", "demo-key:demo")
    pairs = (item.split(":", 1) for item in spec.split(",") if ":" in item)
    return {key.strip(): owner.strip() for key, owner in pairs if key.strip() and owner.strip()}


API_KEYS = _keys()
store = Store(os.environ.get("NOTES_DB", str(HERE / "notes.db")))
templates = Jinja2Templates(directory=HERE / "templates")


# -- models -----------------------------------------------------------------------------------
class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200, examples=["Buy milk"])
    body: str = Field(default="", max_length=10_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(default=[], max_length=10)


class NotePatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=10_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=30)]] | None = Field(default=None, max_length=10)
    done: bool | None = None


class Note(BaseModel):
    id: int
    title: str
    body: str
    tags: list[str]
    done: bool
    created_at: float
    updated_at: float


class Stats(BaseModel):
    total: int
    done: int
    open: int
    top_tags: dict[str, int]


# -- live events: one queue per subscriber, shared by every worker ------------------------------
class Hub:
    """Fans each change out to the subscribers of its owner. A subscriber too slow to keep up
    (its queue full) misses events rather than holding the writer back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[fastcore.Queue]] = {}

    def subscribe(self, owner: str) -> fastcore.Queue:
        queue = fastcore.Queue(100)
        with self._lock:
            self._subscribers.setdefault(owner, set()).add(queue)
        return queue

    def unsubscribe(self, owner: str, queue: fastcore.Queue) -> None:
        with self._lock:
            self._subscribers.get(owner, set()).discard(queue)

    def publish(self, owner: str, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            queues = list(self._subscribers.get(owner, ()))
        for queue in queues:
            if not queue.full():
                queue.put_nowait((kind, data))

    def count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())


hub = Hub()


# -- the dependency chain: API key -> owner -> that owner's notes -------------------------------
KEY_HELP = "`demo-key` unless NOTES_API_KEYS says otherwise"
api_key_header = APIKeyHeader(name="X-API-Key", description=KEY_HELP)
api_key_header_optional = APIKeyHeader(name="X-API-Key", description=KEY_HELP, auto_error=False)
api_key_query = APIKeyQuery(name="api_key", auto_error=False,
                            description="for EventSource, which cannot send headers")


def owner_of(key: str) -> str:
    owner = API_KEYS.get(key)
    if owner is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Invalid API key")
    return owner


def current_owner(key: Annotated[str, Security(api_key_header)]) -> str:
    return owner_of(key)


class Notes:
    """The caller's notes: the store's calls, run off the worker, for one owner."""

    def __init__(self, owner: Annotated[str, Depends(current_owner)]) -> None:
        self.owner = owner

    async def get(self, note_id: int) -> dict[str, Any]:
        note = await fastcore.to_thread(store.get, self.owner, note_id)
        if note is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Note {note_id} not found")
        return note


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    store.create_schema()
    yield


app = FastAPI(title="fastcore notes", version="1.0.0", lifespan=lifespan,
              description="A demo of fastcore: notes behind an API key, SQLite off the worker, an async "
                          "fan-out, Server-Sent Events, a Jinja2 page and static files.")


app.mount("/static", StaticFiles(directory=STATIC), name="static")


# -- the page ------------------------------------------------------------------------------------
@app.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request):
    return templates.TemplateResponse(request, "index.html", {"title": app.title, "demo_key": "demo-key"
                                                              if API_KEYS.get("demo-key") else ""})


# -- the API -------------------------------------------------------------------------------------
@app.get("/api/health", tags=["service"])
def health():
    return {"status": "ok", "subscribers": hub.count()}


@app.post("/api/notes", response_model=Note, status_code=status.HTTP_201_CREATED, tags=["notes"])
async def create_note(note: NoteIn, notes: Annotated[Notes, Depends()]):
    created = await fastcore.to_thread(store.add, notes.owner, note.title, note.body, note.tags)
    hub.publish(notes.owner, "created", created)
    return created


@app.get("/api/notes", response_model=list[Note], tags=["notes"])
async def list_notes(notes: Annotated[Notes, Depends()], q: str | None = Query(None, max_length=100),
                     tag: str | None = None, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)):
    return await fastcore.to_thread(store.search, notes.owner, q, tag, limit, offset)


@app.get("/api/notes/{note_id}", response_model=Note, tags=["notes"])
async def read_note(note_id: int, notes: Annotated[Notes, Depends()]):
    return await notes.get(note_id)


@app.patch("/api/notes/{note_id}", response_model=Note, tags=["notes"])
async def update_note(note_id: int, patch: NotePatch, notes: Annotated[Notes, Depends()]):
    changes = patch.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="Fields cannot be set to null")
    updated = await fastcore.to_thread(store.update, notes.owner, note_id, changes)
    if updated is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Note {note_id} not found")
    hub.publish(notes.owner, "updated", updated)
    return updated


@app.delete("/api/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["notes"])
async def delete_note(note_id: int, notes: Annotated[Notes, Depends()]):
    if not await fastcore.to_thread(store.delete, notes.owner, note_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Note {note_id} not found")
    hub.publish(notes.owner, "deleted", {"id": note_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@app.get("/api/stats", response_model=Stats, tags=["notes"])
async def stats(notes: Annotated[Notes, Depends()]):
    return await fastcore.to_thread(store.stats, notes.owner)


@app.get("/api/overview", tags=["service"])
async def overview(request: Request, key: Annotated[str, Security(api_key_header)],
                   owner: Annotated[str, Depends(current_owner)]):
    """Fetches health, stats and the latest notes at once with `fastcore.http` (from
    `NOTES_UPSTREAM`, else from this service as the request reached it) and reports each
    source's status and time."""
    base = os.environ.get("NOTES_UPSTREAM") or str(request.base_url)
    base = base.rstrip("/")
    sources = {"health": "/api/health", "stats": "/api/stats", "latest": "/api/notes?limit=3"}

    async def fetch(path: str) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            r = await fastcore.http.get(base + path, headers={"x-api-key": key}, timeout=5)
        except fastcore.http.HTTPError as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                    "ms": round((time.perf_counter() - started) * 1000, 1)}
        return {"ok": r.status_code == 200, "status": r.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1), "body": r.json()}

    started = time.perf_counter()
    results = await fastcore.gather(*(fetch(path) for path in sources.values()))
    return {"owner": owner, "upstream": base, "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            "sources": dict(zip(sources, results))}


def _sse(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@app.get("/api/events", tags=["notes"], response_class=StreamingResponse,
         responses={200: {"content": {"text/event-stream": {}}, "description": "A stream of note changes"}})
async def events(header_key: Annotated[str | None, Security(api_key_header_optional)],
                 query_key: Annotated[str | None, Security(api_key_query)],
                 heartbeat: float = Query(15.0, gt=0, le=60)):
    """Server-Sent Events: `created`, `updated` and `deleted` for the caller's notes, after a
    `ready` event; a comment line every `heartbeat` seconds keeps proxies from closing it. The
    key comes in `X-API-Key` or, for `EventSource`, in `?api_key=`."""
    key = header_key or query_key
    if not key:
        raise api_key_header.make_not_authenticated_error()
    owner = owner_of(key)

    async def stream() -> AsyncIterator[str]:
        queue = hub.subscribe(owner)  # here, so that the finally below always runs after it
        try:
            sent = 0
            yield _sse("ready", {"owner": owner})
            while True:
                try:
                    kind, data = await fastcore.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                sent += 1
                yield _sse(kind, data, sent)
        finally:
            hub.unsubscribe(owner, queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})

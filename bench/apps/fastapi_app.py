"""FastAPI: the scenarios as a FastAPI user would write them (see common.py for the routes).

Sync routes are plain `def`, which FastAPI runs in its thread pool: that is what FastAPI users
write, and what fastcore's sync handlers are compared with. Served by uvicorn (uvloop +
httptools) and by Granian (ASGI) in bench/harness.py.
"""
import asyncio

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from common import HELLO, PAYLOAD, SLEEP_S, TEXT, UPSTREAM, Item

app = FastAPI()
# httpx's default limits (100 connections, 20 kept alive), as users write it: larger pools make
# httpx slower, not faster (bench/README.md, fan-out).
client = httpx.AsyncClient()


@app.get("/plaintext", response_class=PlainTextResponse)
def plaintext():
    return TEXT


@app.get("/")
def hello():
    return HELLO


@app.get("/async")
async def hello_async():
    return HELLO


@app.get("/users/{user_id}")
def read_user(user_id: int, q: str | None = None):
    return {"user_id": user_id, "q": q}


@app.post("/items", response_model=Item, status_code=201)
def create_item(item: Item):
    return item


@app.get("/json10k")
def json10k():
    return PAYLOAD


@app.get("/sleep")
async def sleep():
    await asyncio.sleep(SLEEP_S)
    return HELLO


@app.get("/fanout")
async def fanout():
    a, b = await asyncio.gather(client.get(UPSTREAM), client.get(UPSTREAM))
    return {"upstream": [a.json(), b.json()]}


@app.post("/upload")
async def upload(request: Request):
    body = await request.body()
    return {"size": len(body)}


# --- memory per suspended request (bench/harness.py memory) ------------------------------------
_release = asyncio.Event()
_parked = 0


@app.get("/park")
async def park():
    global _parked
    _parked += 1
    await _release.wait()
    return HELLO


# async: asyncio.Event is not thread-safe, and FastAPI would run a `def` route in its thread pool.
@app.get("/parked")
async def parked():
    return {"parked": _parked}


@app.get("/release")
async def release():
    _release.set()
    return {"released": _parked}

"""Robyn: the scenarios as a Robyn user would write them (see common.py for the routes).

Run as `python robyn_app.py --processes 1 --workers 1`; host and port come from ROBYN_HOST and
ROBYN_PORT (Robyn reads them in start()).
"""
import asyncio

import httpx
from robyn import Request, Robyn

from common import HELLO, PAYLOAD, SLEEP_S, TEXT, UPSTREAM, Item

app = Robyn(__file__)
# httpx's default limits (100 connections, 20 kept alive), as users write it: larger pools make
# httpx slower, not faster (bench/README.md, fan-out).
client = httpx.AsyncClient()


@app.get("/plaintext")
def plaintext():
    return TEXT


@app.get("/")
def hello():
    return HELLO


@app.get("/async")
async def hello_async():
    return HELLO


@app.get("/users/:user_id")
def read_user(request: Request):
    return {"user_id": int(request.path_params["user_id"]), "q": request.query_params.get("q", None)}


# Robyn 0.88 ignores status_code= when a handler returns a pydantic model (it wraps it in a 200
# Response first); returning a dict through response_model= gets the 201, validated and dumped
# by the model, as FastAPI's response_model does.
@app.post("/items", status_code=201, response_model=Item)
def create_item(item: Item):
    return item.model_dump()


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
    return {"size": len(request.body)}


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=8080)

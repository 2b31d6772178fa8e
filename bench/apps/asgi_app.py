"""A bare ASGI app (no framework), served by Granian's ASGI interface.

The same routes and work as rsgi_app.py, through the ASGI protocol instead of RSGI.
"""
import asyncio
import json
from urllib.parse import parse_qs

import httpx

from common import HELLO, PAYLOAD, SLEEP_S, TEXT, UPSTREAM, Item

JSON = [(b"content-type", b"application/json")]
PLAIN = [(b"content-type", b"text/plain; charset=utf-8")]
# httpx's default limits (100 connections, 20 kept alive), as users write it: larger pools make
# httpx slower, not faster (bench/README.md, fan-out).
client = httpx.AsyncClient()


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


async def respond(send, status, headers, body: bytes):
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive) -> bytes:
    chunks = []
    while True:
        msg = await receive()
        chunks.append(msg.get("body", b""))
        if not msg.get("more_body", False):
            return b"".join(chunks)


async def lifespan(receive, send):
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    path, method = scope["path"], scope["method"]
    if method == "GET":
        if path in ("/", "/async"):
            return await respond(send, 200, JSON, dumps(HELLO))
        if path == "/plaintext":
            return await respond(send, 200, PLAIN, TEXT.encode())
        if path == "/json10k":
            return await respond(send, 200, JSON, dumps(PAYLOAD))
        if path.startswith("/users/"):
            try:
                user_id = int(path[len("/users/"):])
            except ValueError:
                return await respond(send, 422, JSON, dumps({"detail": "user_id is not an int"}))
            q = parse_qs(scope["query_string"].decode()).get("q", [None])[0]
            return await respond(send, 200, JSON, dumps({"user_id": user_id, "q": q}))
        if path == "/sleep":
            await asyncio.sleep(SLEEP_S)
            return await respond(send, 200, JSON, dumps(HELLO))
        if path == "/fanout":
            a, b = await asyncio.gather(client.get(UPSTREAM), client.get(UPSTREAM))
            return await respond(send, 200, JSON, dumps({"upstream": [a.json(), b.json()]}))
    elif method == "POST":
        if path == "/items":
            try:
                item = Item.model_validate_json(await read_body(receive))
            except ValueError as e:
                return await respond(send, 422, JSON, dumps({"detail": str(e)}))
            return await respond(send, 201, JSON, item.model_dump_json().encode())
        if path == "/upload":
            body = await read_body(receive)
            return await respond(send, 200, JSON, dumps({"size": len(body)}))
    return await respond(send, 404, PLAIN, b"Not Found")

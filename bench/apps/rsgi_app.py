"""A bare RSGI app for Granian: the fastest way to run Python on Granian, no framework.

Routes and bodies as in common.py. RSGI handlers are all coroutines, so `/` and `/async` are
the same code here. JSON is encoded with the standard library per request, as the frameworks
do; the POST body is validated and dumped with pydantic, as a hand-written app would.
"""
import asyncio
import json
from urllib.parse import parse_qs

import httpx

from common import HELLO, PAYLOAD, SLEEP_S, TEXT, UPSTREAM, Item

JSON = [("content-type", "application/json")]
PLAIN = [("content-type", "text/plain; charset=utf-8")]
# httpx's default limits (100 connections, 20 kept alive), as users write it: larger pools make
# httpx slower, not faster (bench/README.md, fan-out).
client = httpx.AsyncClient()


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


async def app(scope, proto):
    path, method = scope.path, scope.method
    if method == "GET":
        if path in ("/", "/async"):
            return proto.response_str(200, JSON, dumps(HELLO))
        if path == "/plaintext":
            return proto.response_str(200, PLAIN, TEXT)
        if path == "/json10k":
            return proto.response_str(200, JSON, dumps(PAYLOAD))
        if path.startswith("/users/"):
            try:
                user_id = int(path[len("/users/"):])
            except ValueError:
                return proto.response_str(422, JSON, dumps({"detail": "user_id is not an int"}))
            q = parse_qs(scope.query_string).get("q", [None])[0]
            return proto.response_str(200, JSON, dumps({"user_id": user_id, "q": q}))
        if path == "/sleep":
            await asyncio.sleep(SLEEP_S)
            return proto.response_str(200, JSON, dumps(HELLO))
        if path == "/fanout":
            a, b = await asyncio.gather(client.get(UPSTREAM), client.get(UPSTREAM))
            return proto.response_str(200, JSON, dumps({"upstream": [a.json(), b.json()]}))
    elif method == "POST":
        if path == "/items":
            try:
                item = Item.model_validate_json(await proto())
            except ValueError as e:
                return proto.response_str(422, JSON, dumps({"detail": str(e)}))
            return proto.response_str(201, JSON, item.model_dump_json())
        if path == "/upload":
            body = await proto()
            return proto.response_str(200, JSON, dumps({"size": len(body)}))
    return proto.response_str(404, PLAIN, "Not Found")

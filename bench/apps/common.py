"""What every benchmark app serves, defined once so all servers do the same work.

Each app (fastcore_app, fastapi_app, rsgi_app, asgi_app, robyn_app) imports these and
implements the same routes; bench/hyper_baseline serves the same bodies from Rust.

    GET  /plaintext        text "Hello, World!"
    GET  /                 {"message":"Hello, World!"}            sync handler
    GET  /async            the same from an async handler
    GET  /users/{id}?q=    {"user_id":id,"q":q}                   path + query params
    POST /items            Item JSON -> 201, the validated Item   pydantic body + response_model
    GET  /json10k          PAYLOAD, ~10 KB of JSON                serialised per request
    GET  /sleep            hello after awaiting a 10 ms sleep
    GET  /fanout           two concurrent GETs of $BENCH_UPSTREAM -> {"upstream":[a,b]}
    POST /upload           {"size":len(body)} after reading the whole (1 MB) body
"""
from __future__ import annotations

import os

from pydantic import BaseModel

HELLO = {"message": "Hello, World!"}
TEXT = "Hello, World!"

# Rows in the ~10 KB payload; bench/hyper_baseline (PAYLOAD_ROWS) builds the same rows.
PAYLOAD_ROWS = 124
PAYLOAD = {
    "items": [
        {"id": i, "name": f"item-{i:04d}", "price": i + 0.5, "in_stock": i % 2 == 0, "tags": ["alpha", "beta"]}
        for i in range(PAYLOAD_ROWS)
    ]
}

SLEEP_S = 0.010

# The fan-out upstream: the raw hyper server's /delay route (answers after 5 ms).
UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9/delay")


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def cpu_work(n: int = 5_000) -> int:
    """Pure-Python work (~0.5 ms on 3.13t) for the thread-scaling run: the handler's cost dominates, so a
    load generator needs only a small share of a CPU to keep two worker threads busy."""
    total = 0
    for i in range(n):
        total += i * i
    return total

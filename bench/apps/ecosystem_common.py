"""What the ecosystem benchmark's apps share (bench/ecosystem.py; method in bench/README.md).

The driver starts the services and passes them in the environment:

    ECO_REDIS_URL   redis://127.0.0.1:PORT/0   the key REDIS_KEY holds REDIS_VALUE
    ECO_PG_DSN      libpq DSN                  table eco_items(id int primary key, name text)
    ECO_PG_POOL     psycopg_pool size per worker (min_size = max_size)
    ECO_UPSTREAM    http://127.0.0.1:PORT/delay (raw hyper, answers HELLO after 5 ms)

Routes (fastcore serves all of them; FastAPI serves /plaintext, /redis/..., /pg/...):

    GET /plaintext           "Hello, World!"              readiness probe
    GET /sleep/asyncio       HELLO after asyncio.sleep(0.01)
    GET /sleep/fastcore      HELLO after fastcore.sleep(0.01)
    GET /redis/{key}         {"key":key,"value":GET key}    one GET through redis.asyncio
    GET /pg/{item_id}        {"id":id,"name":name}          one primary-key SELECT through psycopg async
    GET /fanout/httpx        {"upstream":[HELLO x FANOUT]}  httpx.AsyncClient + asyncio.gather
    GET /fanout/fastcore     the same with fastcore.http + fastcore.gather
"""
from __future__ import annotations

import os

HELLO = {"message": "Hello, World!"}
TEXT = "Hello, World!"
SLEEP_S = 0.010
FANOUT = 4

REDIS_URL = os.environ.get("ECO_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_DSN = os.environ.get("ECO_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_POOL = int(os.environ.get("ECO_PG_POOL", "16"))
UPSTREAM = os.environ.get("ECO_UPSTREAM", "http://127.0.0.1:9/delay")

REDIS_KEY = "eco:greeting"
REDIS_VALUE = "Hello, World!"
PG_ROWS = 10_000
PG_SELECT = "SELECT id, name FROM eco_items WHERE id = %s"


def pg_name(i: int) -> str:
    """The name column of row i (the driver seeds the table with the same expression in SQL)."""
    return f"item-{i:05d}"

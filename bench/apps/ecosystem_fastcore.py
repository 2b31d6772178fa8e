"""fastcore side of the ecosystem benchmark (bench/ecosystem.py): asyncio libraries in fastcore
handlers, written as a user would. Routes: ecosystem_common.py.

Clients are made once per worker thread and kept (a module-level dict keyed by the thread id):
a worker's asyncio loop owns the connections it opened, so each worker needs its own. The
benchmark runs one worker thread (--threads 1), so there is exactly one of each.
"""
from __future__ import annotations

import asyncio
import threading

import httpx
import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool

import fastcore

from ecosystem_common import FANOUT, HELLO, PG_DSN, PG_POOL, PG_SELECT, REDIS_URL, SLEEP_S, TEXT, UPSTREAM

app = fastcore.FastCore()

_redis: dict[int, aioredis.Redis] = {}
_httpx: dict[int, httpx.AsyncClient] = {}
_pools: dict[int, AsyncConnectionPool] = {}
_pool_locks: dict[int, asyncio.Lock] = {}


def redis_client() -> aioredis.Redis:
    me = threading.get_ident()
    client = _redis.get(me)
    if client is None:
        client = _redis[me] = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    return client


def httpx_client() -> httpx.AsyncClient:
    # httpx's default limits (100 connections, 20 kept alive), as in bench/apps/fastapi_app.py.
    me = threading.get_ident()
    client = _httpx.get(me)
    if client is None:
        client = _httpx[me] = httpx.AsyncClient()
    return client


async def pg_pool() -> AsyncConnectionPool:
    me = threading.get_ident()
    pool = _pools.get(me)
    if pool is not None:
        return pool
    async with _pool_locks.setdefault(me, asyncio.Lock()):
        if me not in _pools:
            pool = AsyncConnectionPool(PG_DSN, min_size=PG_POOL, max_size=PG_POOL, open=False, timeout=10)
            await pool.open(wait=True, timeout=30)
            _pools[me] = pool
    return _pools[me]


@app.get("/plaintext")
def plaintext():
    return fastcore.PlainTextResponse(TEXT)


@app.get("/sleep/asyncio")
async def sleep_asyncio():
    await asyncio.sleep(SLEEP_S)
    return HELLO


@app.get("/sleep/fastcore")
async def sleep_fastcore():
    await fastcore.sleep(SLEEP_S)
    return HELLO


@app.get("/redis/{key}")
async def redis_get(key: str):
    return {"key": key, "value": await redis_client().get(key)}


@app.get("/pg/{item_id}")
async def pg_get(item_id: int):
    pool = await pg_pool()
    async with pool.connection() as conn:
        cur = await conn.execute(PG_SELECT, (item_id,))
        row = await cur.fetchone()
    if row is None:
        raise fastcore.HTTPException(404, "no such item")
    return {"id": row[0], "name": row[1]}


@app.get("/fanout/httpx")
async def fanout_httpx():
    client = httpx_client()
    responses = await asyncio.gather(*(client.get(UPSTREAM) for _ in range(FANOUT)))
    for r in responses:
        r.raise_for_status()
    return {"upstream": [r.json() for r in responses]}


@app.get("/fanout/fastcore")
async def fanout_fastcore():
    responses = await fastcore.gather(*(fastcore.http.get(UPSTREAM) for _ in range(FANOUT)))
    for r in responses:
        r.raise_for_status()
    return {"upstream": [r.json() for r in responses]}

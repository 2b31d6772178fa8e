"""FastAPI side of the ecosystem benchmark (bench/ecosystem.py): the same Redis and PostgreSQL
handlers as ecosystem_fastcore.py, as a FastAPI user would write them. Served by uvicorn
(uvloop + httptools, one process) on CPython 3.11.

uvicorn runs one event loop, so one client and one pool per process; they are made on first use,
inside the loop, like the fastcore app's per-worker ones.
"""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse
from psycopg_pool import AsyncConnectionPool

from ecosystem_common import PG_DSN, PG_POOL, PG_SELECT, REDIS_URL, TEXT

app = FastAPI()

_redis: aioredis.Redis | None = None
_pool: AsyncConnectionPool | None = None
_pool_lock = asyncio.Lock()


def redis_client() -> aioredis.Redis:
    global _redis
    if _redis is None:
        _redis = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    return _redis


async def pg_pool() -> AsyncConnectionPool:
    global _pool
    if _pool is not None:
        return _pool
    async with _pool_lock:
        if _pool is None:
            pool = AsyncConnectionPool(PG_DSN, min_size=PG_POOL, max_size=PG_POOL, open=False, timeout=10)
            await pool.open(wait=True, timeout=30)
            _pool = pool
    return _pool


@app.get("/plaintext", response_class=PlainTextResponse)
def plaintext():
    return TEXT


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
        raise HTTPException(404, "no such item")
    return {"id": row[0], "name": row[1]}

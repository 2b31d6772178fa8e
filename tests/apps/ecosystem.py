"""asyncio libraries inside handlers, against real servers: httpx, redis.asyncio, psycopg,
aiosqlite, anyio, asyncio.TaskGroup (python/fastcore/_loop.py, src/fdwatch.rs).

Servers come from the environment: REDIS_URL, PG_DSN, UPSTREAM (http), UPSTREAM_TLS (https)
with UPSTREAM_CA (its certificate), SQLITE_PATH.
"""
import asyncio
import os
import sys
import threading

import anyio
import httpx
import psycopg
import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool

import fastcore

app = fastcore.FastCore()
ENV = os.environ

# A connection kept across requests, as a process-wide pool would (see /conn/open).
kept: dict[str, object] = {}
# One psycopg pool per worker thread, opened on first use.
pools: dict[int, AsyncConnectionPool] = {}


def redis_client() -> aioredis.Redis:
    return aioredis.Redis.from_url(ENV["REDIS_URL"], decode_responses=True)


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.get("/gil")
def gil():
    return {"gil_enabled": sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True}


# -- httpx ------------------------------------------------------------------------------------

@app.get("/httpx")
async def httpx_get(n: int = 3, tls: bool = False):
    url = ENV["UPSTREAM_TLS"] if tls else ENV["UPSTREAM"]
    verify = ENV["UPSTREAM_CA"] if tls else True
    async with httpx.AsyncClient(verify=verify, timeout=5) as client:
        bodies = [(await client.get(f"{url}/echo/{i}")).text for i in range(n)]
        fanned = await asyncio.gather(*(client.get(f"{url}/echo/f{i}") for i in range(n)))
    return {"bodies": bodies, "fanned": [r.text for r in fanned]}


@app.get("/httpx/timeout")
async def httpx_timeout():
    async with httpx.AsyncClient(timeout=0.2) as client:
        try:
            await client.get(f"{ENV['UPSTREAM']}/slow")
        except httpx.ReadTimeout as e:
            return {"error": type(e).__name__}
    return {"error": None}


# -- redis ------------------------------------------------------------------------------------

@app.get("/redis/basic/{key}")
async def redis_basic(key: str):
    r = redis_client()
    try:
        await r.set(key, "value-" + key)
        got = await r.get(key)
        async with r.pipeline(transaction=True) as pipe:
            pipe.incr(key + ":n").incr(key + ":n").get(key + ":n")
            piped = await pipe.execute()
        return {"got": got, "piped": piped}
    finally:
        await r.aclose()


@app.get("/redis/pubsub/{channel}")
async def redis_pubsub(channel: str):
    r = redis_client()
    try:
        pubsub = r.pubsub()
        await pubsub.subscribe(channel)
        await r.publish(channel, "one")
        await r.publish(channel, "two")
        got = []
        while len(got) < 2:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            if message is not None:
                got.append(message["data"])
        await pubsub.aclose()
        return {"messages": got}
    finally:
        await r.aclose()


@app.get("/redis/timeout")
async def redis_timeout():
    r = redis_client()
    try:
        async with asyncio.timeout(0.1):
            await r.blpop(["never-pushed"], timeout=5)
    except TimeoutError:
        return {"timed_out": True}
    finally:
        await r.aclose()
    return {"timed_out": False}


@app.get("/redis/block/{name}")
async def redis_block(name: str):
    """Blocks in BLPOP until the client goes away; the test checks the connection is closed."""
    r = aioredis.Redis.from_url(ENV["REDIS_URL"], decode_responses=True, client_name=name)
    try:
        await r.blpop([f"never:{name}"], timeout=30)
    finally:
        await r.aclose()


@app.get("/conn/open")
async def conn_open():
    host, port = ENV["REDIS_URL"].split("//")[1].split("/")[0].split(":")
    kept["conn"] = await asyncio.open_connection(host, int(port))
    return {"thread": threading.get_ident()}


@app.get("/conn/use")
async def conn_use():
    """Waits for a reply on the kept connection: redis answers BLPOP after 50 ms."""
    reader, writer = kept["conn"]
    writer.write(b"BLPOP never:kept 0.05\r\n")
    try:
        return {"thread": threading.get_ident(), "reply": (await reader.readline()).decode()}
    except RuntimeError as e:
        return {"thread": threading.get_ident(), "error": str(e)}


# -- PostgreSQL (psycopg 3) -------------------------------------------------------------------

@app.get("/pg/query")
async def pg_query():
    async with await psycopg.AsyncConnection.connect(ENV["PG_DSN"]) as conn:
        cur = await conn.execute("SELECT 1 + %s, current_setting('server_version_num')::int > 0", (41,))
        row = await cur.fetchone()
        async with conn.transaction():
            await conn.execute("CREATE TEMP TABLE t (id int primary key, name text)")
            await conn.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO t VALUES (3, 'three')")
                raise ValueError("roll back")
        except ValueError:
            pass
        names = [r[0] for r in await (await conn.execute("SELECT name FROM t ORDER BY id")).fetchall()]
    return {"row": list(row), "names": names}


async def pool() -> AsyncConnectionPool:
    me = threading.get_ident()
    if me not in pools:
        pools[me] = AsyncConnectionPool(ENV["PG_DSN"], min_size=1, max_size=4, open=False, timeout=5)
        await pools[me].open(wait=True)
    return pools[me]


@app.get("/pg/pool/{n}")
async def pg_pool(n: int):
    p = await pool()

    async def one(i: int) -> int:
        async with p.connection() as conn:
            cur = await conn.execute("SELECT %s::int * 2, pg_sleep(0.01)", (i,))
            return (await cur.fetchone())[0]

    return {"doubled": await asyncio.gather(*(one(i) for i in range(n))), "pool_max": p.max_size}


@app.get("/pg/fresh")
async def pg_fresh():
    try:
        async with await psycopg.AsyncConnection.connect(ENV["PG_DSN"], connect_timeout=3) as conn:
            value = (await (await conn.execute("SELECT 7")).fetchone())[0]
        return {"ok": True, "value": value}
    except psycopg.OperationalError as e:
        return {"ok": False, "error": type(e).__name__}


@app.get("/pg/pooled")
async def pg_pooled():
    p = await pool()
    try:
        async with p.connection() as conn:
            value = (await (await conn.execute("SELECT 8")).fetchone())[0]
        return {"ok": True, "value": value}
    except psycopg.OperationalError as e:
        return {"ok": False, "error": type(e).__name__}


@app.get("/pg/sleep/{name}")
async def pg_sleep(name: str):
    """Sleeps in the server until the client goes away; the test checks the backend is gone."""
    async with await psycopg.AsyncConnection.connect(ENV["PG_DSN"], application_name=name) as conn:
        await conn.execute("SELECT pg_sleep(30)")


# -- aiosqlite --------------------------------------------------------------------------------

@app.get("/sqlite")
async def sqlite():
    import aiosqlite

    async with aiosqlite.connect(ENV["SQLITE_PATH"]) as db:
        await db.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v INT)")
        await db.execute("INSERT OR REPLACE INTO kv VALUES ('a', 1), ('b', 2)")
        await db.commit()
        async with db.execute("SELECT k, v FROM kv ORDER BY k") as cur:
            rows = [list(r) async for r in cur]
    return {"rows": rows}


# -- anyio and asyncio structured concurrency -------------------------------------------------

@app.get("/anyio")
async def anyio_features():
    out: dict = {}
    order: list[int] = []

    async def child(i: int) -> None:
        await anyio.sleep(0.005 * (3 - i))
        order.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(3):
            tg.start_soon(child, i)
    out["task_group"] = order

    with anyio.move_on_after(0.02) as scope:
        await anyio.sleep(5)
    out["move_on_after"] = scope.cancelled_caught
    try:
        with anyio.fail_after(0.02):
            await anyio.sleep(5)
    except TimeoutError:
        out["fail_after"] = "TimeoutError"
    with anyio.CancelScope() as scope:
        scope.cancel()
        await anyio.sleep(5)
    out["cancel_scope"] = scope.cancel_called

    out["to_thread"] = await anyio.to_thread.run_sync(threading.get_ident) != threading.get_ident()
    event, lock = anyio.Event(), anyio.Lock()
    send, receive = anyio.create_memory_object_stream[int](2)

    async def producer() -> None:
        async with send:
            for i in range(5):
                async with lock:
                    await send.send(i)
        event.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(producer)
        out["stream"] = [i async for i in receive]
    await event.wait()

    async with asyncio.TaskGroup() as group:
        a = group.create_task(asyncio.sleep(0.001, "a"))
        b = group.create_task(asyncio.sleep(0.002, "b"))
    out["asyncio_task_group"] = [a.result(), b.result()]
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(asyncio.sleep(5))
            group.create_task(_fail_soon())
    except* KeyError as eg:
        out["task_group_error"] = [repr(e) for e in eg.exceptions]
    out["current_task_listed"] = asyncio.current_task() in asyncio.all_tasks()
    return out


async def _fail_soon() -> None:
    await asyncio.sleep(0.001)
    raise KeyError("boom")

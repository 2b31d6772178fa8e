"""Routes for the limits and timeouts (tests/test_limits.py), served with small limits."""
import asyncio
import threading

import fastcore
from fastcore import Request
from fastcore.responses import StreamingResponse

app = fastcore.FastCore()
cancelled: list[str] = []


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.post("/upload")
def upload(request: Request):
    return {"size": len(request.body_bytes)}


@app.post("/upload-async")
async def upload_async(request: Request):
    return {"size": len(await request.body())}


@app.get("/sleep")
async def sleep(seconds: float):
    try:
        await asyncio.sleep(seconds)
    finally:
        cancelled.append("sleep")
    return {"slept": seconds}


@app.get("/cancelled")
def was_cancelled():
    return {"cancelled": cancelled}


@app.get("/drip")
async def drip(n: int, pause: float):
    """n chunks, `pause` seconds apart: a response that stays in flight, quietly, for a while."""
    async def chunks():
        for i in range(n):
            await asyncio.sleep(pause)
            yield b"%d\n" % i
    return StreamingResponse(chunks(), media_type="text/plain")

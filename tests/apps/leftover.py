"""Handlers that answer without reading all of the request body (tests/test_leftover.py)."""
import threading

import fastcore
from fastcore import Request
from fastcore.responses import StreamingResponse

app = fastcore.FastCore()


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.post("/async-ignore")
async def async_ignore():
    return {"ignored": True}


@app.post("/async-ignore-request")
async def async_ignore_request(request: Request):
    return {"ignored": True}


@app.post("/sync-ignore")
def sync_ignore():
    return {"ignored": True}


@app.post("/async-one-chunk")
async def async_one_chunk(request: Request):
    async for chunk in request.stream():
        return {"first": len(chunk)}
    return {"first": 0}


@app.post("/async-read")
async def async_read(request: Request):
    return {"size": len(await request.body())}


@app.post("/form-refused")
async def form_refused(request: Request):
    try:
        async with request.form(max_fields=1) as form:
            return {"fields": len(form)}
    except fastcore.HTTPException as exc:
        return fastcore.responses.JSONResponse({"refused": exc.detail}, status_code=exc.status_code)


@app.post("/stream-ignore")
async def stream_ignore():
    async def gen():
        yield b"a"
        yield b"b"
    return StreamingResponse(gen())

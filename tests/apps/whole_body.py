"""Bodies read whole (src/request/whole.rs, src/request/body.rs): each route answers with the
SHA-256 of what it read, so a test can check every byte of large bodies sent in many pieces."""
import hashlib

import fastcore
from fastcore import File, Request, UploadFile

app = fastcore.FastCore()


def digest(body: bytes) -> dict:
    return {"size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "type": type(body).__name__}


@app.post("/async")
async def read_async(request: Request):
    first = await request.body()
    again = await request.body()  # the same bytes again, from the cache
    return {**digest(first), "same": first == again, "identical": first is again}


@app.post("/sync")
def read_sync(request: Request):
    return digest(request.body_bytes)


@app.post("/stream-after-body")
async def stream_after_body(request: Request):
    body = await request.body()
    chunks = [chunk async for chunk in request.stream()]
    return {**digest(body), "streamed": digest(b"".join(chunks))}


@app.post("/json")
async def read_json(request: Request):
    value = await request.json()
    return {"keys": len(value), "last": value[f"k{len(value) - 1}"]}


@app.post("/form")
def form_file(file: UploadFile = File()):
    return digest(file.file.read())

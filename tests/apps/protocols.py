"""What TLS and HTTP/2 must carry unchanged (tests/test_tls.py, tests/test_http2.py): the request
as the handler sees it, bodies both ways, streaming, background tasks, a slow handler."""
import hashlib
import threading

import fastcore
from fastcore import Request
from fastcore.background import BackgroundTask
from fastcore.responses import StreamingResponse

app = fastcore.FastCore()
ran: list[str] = []
lock = threading.Lock()


@app.get("/info")
def info(request: Request):
    return {"scheme": request.url.scheme, "http_version": request.http_version, "url": str(request.url),
            "host": request.headers.get("host"), "client": request.client.host}


@app.get("/hello")
def hello():
    return {"message": "Hello, World!"}


@app.post("/upload")
async def upload(request: Request):
    body = await request.body()
    return {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@app.post("/upload-sync")
def upload_sync(request: Request):
    body = request.body_bytes
    return {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@app.get("/stream/{count}")
async def stream(count: int):
    async def chunks():
        for i in range(count):
            yield f"chunk {i}\n"
            await fastcore.sleep(0.001)
    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/big/{size}")
def big(size: int):
    return StreamingResponse(iter([b"x" * size]), media_type="application/octet-stream")


def record(name: str) -> None:
    with lock:
        ran.append(name)


@app.get("/background/{name}")
def background(name: str):
    return fastcore.responses.JSONResponse({"queued": name}, background=BackgroundTask(record, name))


@app.get("/ran")
def ran_tasks():
    with lock:
        return {"ran": list(ran)}


@app.get("/sleep/{seconds}")
async def sleep(seconds: float):
    await fastcore.sleep(seconds)
    return {"slept": seconds}

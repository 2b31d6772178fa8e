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
            "host": request.headers.get("host"), "client": request.client.host, "port": request.client.port}


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


arrived: dict[str, int] = {}


@app.get("/gather/{group}/{count}")
async def gather(group: str, count: int):
    """Answers once `count` requests of `group` are in flight at the same time (or after 10 s,
    with met=False): proves that requests run concurrently without timing anything."""
    with lock:
        arrived[group] = arrived.get(group, 0) + 1
    for _ in range(1000):
        with lock:
            if arrived[group] >= count:
                return {"met": True}
        await fastcore.sleep(0.01)
    return {"met": False}


sleeping = [0]


@app.get("/sleep/{seconds}")
async def sleep(seconds: float):
    with lock:
        sleeping[0] += 1
    await fastcore.sleep(seconds)
    return {"slept": seconds}


@app.get("/sleeping")
def sleepers():
    """How many /sleep requests have started."""
    return {"started": sleeping[0]}


@app.websocket("/ws")
async def echo(websocket: fastcore.WebSocket):
    """Echoes text after telling the URL it was reached by (wss:// over TLS)."""
    await websocket.accept()
    await websocket.send_text(str(websocket.url))
    async for text in websocket.iter_text():
        await websocket.send_text(text)

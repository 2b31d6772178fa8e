"""The soak's app (bench/soak.py): a mix of what a server meets over a long run — sync and async
JSON, a validation error, a handler error (500), an upload, a streamed response, a large body
that clients drop mid-way, and a background task."""
import fastcore
from fastcore import BackgroundTasks, HTTPException, Request
from fastcore.responses import StreamingResponse

app = fastcore.FastCore()
done = {"background": 0}


@app.get("/sync/{n}")
def sync(n: int):
    return {"n": n, "squares": [i * i for i in range(n % 16)]}


@app.get("/async/{n}")
async def async_(n: int, q: str = "x"):
    await fastcore.sleep(0)
    return {"n": n, "q": q}


@app.get("/fail")
def fail():
    raise RuntimeError("soak: an expected failure")


@app.get("/teapot")
async def teapot():
    raise HTTPException(418, "soak")


@app.post("/upload")
async def upload(request: Request):
    return {"size": len(await request.body())}


@app.get("/stream/{n}")
async def stream(n: int):
    async def chunks():
        for i in range(n):
            yield b"chunk %d;" % i
    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/big")
def big():
    """4 MiB, so a client can leave mid-body with most of it unsent."""
    def chunks():
        for _ in range(64):
            yield b"x" * 65536
    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.get("/background")
def background(tasks: BackgroundTasks):
    tasks.add_task(lambda: done.__setitem__("background", done["background"] + 1))
    return {"queued": True}

"""GZipMiddleware as FastAPI apps use it (tests/test_gzip.py)."""
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

app = FastAPI()
app.add_middleware(GZipMiddleware, minimum_size=100, compresslevel=9)

TEXT = "fastcore compresses this line. " * 40


@app.get("/small")
def small():
    return {"small": True}


@app.get("/big")
def big():
    return {"rows": [{"id": i, "name": f"row {i}"} for i in range(100)]}


@app.get("/text")
def text():
    return PlainTextResponse(TEXT, headers={"vary": "Cookie"})


@app.get("/stream")
def stream():
    return StreamingResponse((f"chunk {i} " * 20 for i in range(5)), media_type="text/plain")


@app.get("/events")
def events():
    return StreamingResponse(iter(["data: 1\n\n", "data: 2\n\n"]), media_type="text/event-stream")


@app.get("/encoded")
def encoded():
    return Response(TEXT.encode(), media_type="text/plain", headers={"content-encoding": "identity"})


@app.get("/image")
def image():
    return Response(b"\x89PNG" + b"\0" * 1000, media_type="image/png")


app_level1 = FastAPI()
app_level1.add_middleware(GZipMiddleware, minimum_size=10, compresslevel=1)


@app_level1.get("/text")
def level1_text():
    return PlainTextResponse(TEXT)

"""Responses written with FastAPI's imports (tests/test_fa_responses.py serves this on fastcore
and on FastAPI and compares the answers)."""
import os
import tempfile

from fastapi import BackgroundTasks, FastAPI, Response
from fastapi.responses import (FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse,
                               StreamingResponse)

app = FastAPI()
done: list[str] = []
# Written by both processes (the fastcore server and the test's FastAPI), with one fixed mtime so
# that both compute the same etag and last-modified.
FILE = os.path.join(tempfile.gettempdir(), "fastcore_fa_responses.txt")
with open(FILE, "wb") as f:
    f.write(b"0123456789" * 100)
os.utime(FILE, (1_700_000_000, 1_700_000_000))


@app.get("/plain", response_class=PlainTextResponse)
def plain():
    return "hello"


@app.get("/html", response_class=HTMLResponse)
def html():
    return "<p>hi</p>"


@app.get("/json")
def json_response():
    return JSONResponse({"a": [1, 2]}, status_code=201, headers={"X-Extra": "1"})


@app.get("/redirect")
def redirect():
    return RedirectResponse("/target path?x=ü")


@app.get("/cookies")
def cookies(response: Response):
    response.set_cookie("session", "abc", httponly=True, max_age=60)
    response.delete_cookie("old")
    return {"ok": True}


@app.get("/cookie-response")
def cookie_response():
    r = PlainTextResponse("c")
    r.set_cookie("k", "v w", secure=True, samesite="strict", domain="example.com")
    r.headers["X-Set"] = "1"
    return r


@app.get("/stream")
def stream():
    def chunks():
        yield "a"
        yield b"b"
        yield "c"
    return StreamingResponse(chunks(), media_type="text/plain", headers={"X-Stream": "1"})


@app.get("/astream")
async def astream():
    async def chunks():
        for i in range(3):
            yield f"{i};"
    return StreamingResponse(chunks(), media_type="text/csv")


@app.get("/file")
def file():
    return FileResponse(FILE, filename="data.txt")


@app.get("/file-range")
def file_range():
    return FileResponse(FILE)


@app.post("/tasks/{name}")
async def tasks(name: str, background: BackgroundTasks):
    background.add_task(done.append, name)
    return {"queued": name}


@app.get("/done")
def get_done():
    return done

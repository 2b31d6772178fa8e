"""Middleware written for FastAPI (tests/test_middleware.py): `@app.middleware("http")` and
`BaseHTTPMiddleware` subclasses, in Starlette's order, around routes, errors and streams."""
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware import Middleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

try:  # what FastAPI's docs import; fastcore runs Starlette's own class too
    from starlette.middleware.base import BaseHTTPMiddleware
except ImportError:  # the free-threaded venv, where Starlette is not installed
    from fastcore.middleware.base import BaseHTTPMiddleware  # type: ignore[no-redef]


class Teapot(Exception):
    pass


class Tagging(BaseHTTPMiddleware):
    def __init__(self, app, tag: str) -> None:
        super().__init__(app)
        self.tag = tag

    async def dispatch(self, request, call_next):
        request.state.seen = [*getattr(request.state, "seen", []), self.tag]
        response = await call_next(request)
        response.headers.append("x-order", self.tag)
        return response


app = FastAPI(middleware=[Middleware(Tagging, tag="declared")])
app.add_middleware(Tagging, tag="inner")
app.add_middleware(Tagging, tag="outer")


@app.exception_handler(Teapot)
async def teapot(request: Request, exc: Teapot):
    return JSONResponse({"teapot": True}, status_code=418)


@app.middleware("http")
async def gatekeeper(request: Request, call_next):
    if request.headers.get("x-block"):
        return PlainTextResponse("blocked by middleware", status_code=403)
    if request.url.path == "/middleware-raises":
        raise HTTPException(status_code=409, detail="from middleware")
    response = await call_next(request)
    if request.url.path == "/rewrite":
        body = b"".join([chunk async for chunk in response.body_iterator])
        return Response(content=body.upper(), status_code=response.status_code, headers={"x-rewritten": "yes"},
                        media_type="text/plain")
    response.headers["x-gate"] = "passed"
    return response


@app.get("/hello")
def hello():
    return {"hello": "world"}


@app.get("/state")
async def state(request: Request):
    return {"seen": request.state.seen}


@app.get("/items/{item_id}")
def item(item_id: int, q: int = 0):
    return {"item_id": item_id, "q": q}


@app.get("/rewrite")
def rewrite():
    return PlainTextResponse("quiet words")


@app.get("/stream")
def stream():
    return StreamingResponse(iter([b"one ", b"two ", b"three"]), media_type="text/plain")


@app.get("/forbidden")
def forbidden():
    raise HTTPException(status_code=403, detail="no", headers={"x-why": "because"})


@app.get("/teapot")
def brew():
    raise Teapot()


@app.get("/middleware-raises")
def never():
    return {"reached": True}


@app.post("/echo")
async def echo(request: Request):
    return {"body": (await request.body()).decode()}


@app.get("/crash")
def crash():
    raise RuntimeError("boom")

"""Static files and a mounted sub-application, written with FastAPI's imports (tests/compat.py
serves it on fastcore and FastAPI). The files live under $FASTCORE_STATIC_ROOT, which
tests/test_staticfiles.py fills before either app is imported."""
import os
from urllib.parse import quote, unquote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.exceptions import StarletteHTTPException

ROOT = os.environ["FASTCORE_STATIC_ROOT"]


def build_sub() -> FastAPI:
    sub = FastAPI(title="Sub API", version="2.0.0")

    @sub.get("/items/{item_id}", name="item")
    def item(item_id: int):
        return {"item_id": item_id}

    @sub.get("/teapot")
    def teapot():
        raise HTTPException(418, "I'm a teapot")

    @sub.get("/where")
    def where(request: Request):
        return {"url": str(request.url), "root_path": request.scope["root_path"], "base": str(request.base_url),
                "item": str(request.url_for("v2:item", item_id=5)),
                "asset": str(request.url_for("v2:assets", path="css/app.css"))}

    @sub.get("/state")
    def state(request: Request):
        return {"seen": getattr(request.state, "seen", None), "root_path": request.scope["root_path"]}

    @sub.post("/echo")
    async def echo(request: Request):
        return {"got": (await request.body()).decode()}

    @sub.exception_handler(404)
    def sub_not_found(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"sub": "not found"}, status_code=404)

    sub.mount("/assets", StaticFiles(directory=f"{ROOT}/public"), name="assets")
    return sub


def build(app: FastAPI) -> FastAPI:
    """The routes and mounts every app here serves."""

    @app.get("/hello")
    def hello():
        return {"hello": "world"}

    @app.get("/urls")
    def urls():
        return {
            "static": app.url_path_for("static", path="/css/app.css"),
            "site": app.url_path_for("site", path="docs/"),
            "item": app.url_path_for("v2:item", item_id=3),
            "assets": app.url_path_for("v2:assets", path="js/app.js"),
        }

    app.mount("/static", StaticFiles(directory=f"{ROOT}/public"), name="static")
    app.mount("/site", StaticFiles(directory=f"{ROOT}/site", html=True), name="site")
    app.mount("/follow", StaticFiles(directory=f"{ROOT}/public", follow_symlink=True), name="follow")
    app.mount("/both", StaticFiles(directory=f"{ROOT}/site", packages=None), name="both")
    app.mount("/v2", build_sub(), name="v2")
    # Not there when mounted (tests create it later).
    app.mount("/later", StaticFiles(directory=f"{ROOT}/later", check_dir=False), name="later")
    return app


app = build(FastAPI())


# The same app under an HTTP middleware (tests/test_middleware_mounts.py): as in Starlette, it
# wraps what the mounts answer too, and sees (and may change) their real responses.
wrapped = FastAPI()


@wrapped.middleware("http")
async def tag(request: Request, call_next):
    if "x-block" in request.headers:
        return PlainTextResponse("blocked by middleware", status_code=403)
    request.state.seen = [request.url.path, request.scope["root_path"]]
    response = await call_next(request)
    if "x-upper" in request.headers:
        body = b"".join([chunk async for chunk in response.body_iterator])
        return Response(body.upper(), status_code=response.status_code, headers={"x-upper": str(len(body))},
                        media_type=response.headers.get("content-type"))
    if "x-status" in request.headers:
        response.status_code = int(request.headers["x-status"])
    path = quote(unquote(request.url.path))  # a header value: ASCII
    response.headers["x-seen"] = f"{response.status_code} {path} {len(response.headers)}"
    return response


build(wrapped)


# The same mounts in an app with its own handler for Starlette's HTTPException: a static
# mount's 404 and 405 reach it, as Starlette's StaticFiles raises them.
handled = FastAPI()


@handled.exception_handler(StarletteHTTPException)
def custom_http(request: Request, exc: StarletteHTTPException):
    return JSONResponse({"custom": exc.status_code, "detail": exc.detail}, status_code=exc.status_code,
                        headers=exc.headers)


handled.mount("/static", StaticFiles(directory=f"{ROOT}/public"), name="static")

"""Python middleware (python/fastcore/middleware/base.py, stack.py; src/dispatch/serve.rs
`through_python`): `@app.middleware("http")` and `BaseHTTPMiddleware` subclasses, run on
tests/apps/fa_middleware.py by fastcore and by FastAPI (where installed), answers compared."""
from __future__ import annotations

from typing import Iterator

import pytest

from fastcore import FastAPI
from fastcore.middleware import Middleware
from fastcore.middleware.base import BaseHTTPMiddleware
from fastcore.middleware.cors import CORSMiddleware
from fastcore.testclient import TestClient

from .compat import Pair, comparable_headers, serve_pair
from .conftest import ServerFactory


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_middleware")), "fa_middleware", "--threads", "1")


@pytest.mark.parametrize("path", ["/hello", "/state", "/items/3?q=4", "/forbidden", "/teapot", "/rewrite"])
def test_same_answer_through_the_stack(app: Pair, path: str) -> None:
    r = app.get(path)
    assert r.headers.get("x-gate") == ("passed" if path != "/rewrite" else None)


def test_stream_passes_through(app: Pair) -> None:
    """Same body and headers; fastcore's real server adds transfer-encoding."""
    r = app.client.get("/stream")
    assert r.content == b"one two three"
    assert r.headers.get_list("x-order") == ["declared", "inner", "outer"]
    if app.reference is not None:
        theirs = app.reference.get("/stream")
        assert theirs.content == r.content
        assert [h for h in comparable_headers(r) if h[0] != "transfer-encoding"] == comparable_headers(theirs)


def test_order_last_added_is_outermost(app: Pair) -> None:
    r = app.get("/state")
    # dispatch runs outermost first; headers are appended innermost first
    assert r.json() == {"seen": ["outer", "inner", "declared"]}
    assert r.headers.get_list("x-order") == ["declared", "inner", "outer"]


@pytest.mark.parametrize("path, status", [("/nope", 404), ("/items/x", 422), ("/items/3?q=x", 422),
                                          ("/forbidden", 403), ("/teapot", 418)])
def test_middleware_sees_handled_errors(app: Pair, path: str, status: int) -> None:
    r = app.get(path)
    assert r.status_code == status
    assert r.headers["x-gate"] == "passed"


def test_method_not_allowed_and_redirect_through_the_stack(app: Pair) -> None:
    r = app.post("/hello")
    assert (r.status_code, r.headers["allow"], r.headers["x-gate"]) == (405, "GET", "passed")
    r = app.get("/hello/", headers={"host": "testserver"})
    assert (r.status_code, r.headers["location"], r.headers["x-gate"]) == (307, "http://testserver/hello", "passed")


def test_early_response_without_call_next(app: Pair) -> None:
    r = app.get("/hello", headers={"x-block": "1"})
    assert (r.status_code, r.text) == (403, "blocked by middleware")
    assert "x-order" not in r.headers


def test_body_replaced(app: Pair) -> None:
    r = app.get("/rewrite")
    assert (r.text, r.headers["x-rewritten"], r.headers["content-length"]) == ("QUIET WORDS", "yes", "11")


def test_request_body_read_by_endpoint(app: Pair) -> None:
    assert app.post("/echo", content=b"payload").json() == {"body": "payload"}


def test_unhandled_errors_become_500(app: Pair) -> None:
    """An exception escaping the handler, or raised in the middleware itself (even an
    HTTPException: the exception handlers sit inside the middleware), is the plain 500 of
    Starlette's ServerErrorMiddleware, which no user middleware wraps."""
    for path in ("/crash", "/middleware-raises"):
        r = app.client.get(path)
        assert (r.status_code, r.text) == (500, "Internal Server Error")
        assert "x-gate" not in r.headers and "x-order" not in r.headers


def test_custom_server_error_handler() -> None:
    app = FastAPI()

    @app.exception_handler(500)
    def on_500(request, exc):
        return PlainTextResponse(f"handled {type(exc).__name__}", status_code=500)

    @app.middleware("http")
    async def tag(request, call_next):
        response = await call_next(request)
        response.headers["x-tag"] = "1"
        return response

    @app.get("/boom")
    def boom():
        raise ValueError("x")

    from fastcore.responses import PlainTextResponse

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
        assert (r.status_code, r.text, r.headers.get("x-tag")) == (500, "handled ValueError", None)
    with TestClient(app) as client, pytest.raises(ValueError):
        client.get("/boom")


def test_debug_traceback_through_middleware() -> None:
    app = FastAPI(debug=True)

    @app.middleware("http")
    async def passthrough(request, call_next):
        return await call_next(request)

    @app.get("/boom")
    def boom():
        raise ValueError("debug me")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
        assert r.status_code == 500 and "ValueError: debug me" in r.text


def test_state_shared_and_background_runs() -> None:
    from fastcore.background import BackgroundTask
    from fastcore.responses import JSONResponse

    done: list[str] = []

    class Stamp(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            request.state.user = "ada"
            response = await call_next(request)
            body = b"".join([c async for c in response.body_iterator])
            return JSONResponse({"wrapped": body.decode()}, headers={"x-user": request.state.user})

    app = FastAPI(middleware=[Middleware(Stamp)])

    @app.get("/who")
    async def who(request: __import__("fastcore").Request):
        return JSONResponse({"user": request.state.user}, background=BackgroundTask(done.append, "bg"))

    with TestClient(app) as client:
        r = client.get("/who")
        assert r.json() == {"wrapped": '{"user":"ada"}'} and r.headers["x-user"] == "ada"
    assert done == ["bg"]  # the inner response's background ran once its body was read


class RawASGI:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


def test_raw_asgi_middleware_refused_with_reason() -> None:
    app = FastAPI()
    with pytest.raises(TypeError, match="RawASGI is an ASGI middleware .* cannot run it"):
        app.add_middleware(RawASGI)
    with pytest.raises(TypeError, match="BaseHTTPMiddleware"):
        FastAPI(middleware=[Middleware(RawASGI)])


def test_no_middleware_after_start() -> None:
    app = FastAPI()
    with TestClient(app) as client:
        client.get("/docs")
        with pytest.raises(RuntimeError, match="Cannot add middleware after an application has started"):
            app.add_middleware(CORSMiddleware, allow_origins=["*"])


def test_only_http_middleware() -> None:
    with pytest.raises(AssertionError):
        FastAPI().middleware("websocket")

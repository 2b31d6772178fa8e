"""fastcore.testclient: httpx's API over the app's real server, in the test's own process."""
from __future__ import annotations

import threading
from contextlib import asynccontextmanager

import pytest

from fastcore import FastAPI, Request
from fastcore.responses import RedirectResponse, Response
from fastcore.testclient import TestClient


def make_app(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        events.append("start")
        yield {"db": "connected"}
        events.append("stop")

    app = FastAPI(lifespan=lifespan)

    @app.get("/where")
    def where(request: Request):
        return {"url": str(request.url), "thread": threading.get_ident(), "db": request.state.db,
                "agent": request.headers.get("user-agent")}

    @app.post("/echo")
    async def echo(request: Request):
        return {"json": await request.json()}

    @app.get("/login")
    def login():
        r = Response("ok")
        r.set_cookie("session", "s3cret")
        return r

    @app.get("/whoami")
    def whoami(request: Request):
        return {"session": request.cookies.get("session")}

    @app.get("/old")
    def old():
        return RedirectResponse("/where")

    @app.get("/boom")
    def boom():
        raise LookupError("nothing here")

    return app


def test_context_manager_runs_the_lifespan_around_real_requests() -> None:
    events: list[str] = []
    app = make_app(events)
    with TestClient(app) as client:
        assert events == ["start"]
        body = client.get("/where").json()
        assert body["url"] == "http://testserver/where"
        assert body["db"] == "connected"
        assert body["agent"] == "testclient"
        assert body["thread"] != threading.get_ident(), "served by a worker thread of the real server"
        assert client.post("/echo", json={"a": [1, 2]}).json() == {"json": {"a": [1, 2]}}
    assert events == ["start", "stop"]


def test_cookies_and_redirects_follow_httpx_api() -> None:
    with TestClient(make_app([])) as client:
        assert client.get("/login").text == "ok"
        assert client.cookies.get("session") == "s3cret"
        assert client.get("/whoami").json() == {"session": "s3cret"}
        followed = client.get("/old")
        assert followed.status_code == 200 and followed.url.path == "/where"
        assert followed.history[0].status_code == 307
        assert client.get("/old", follow_redirects=False).status_code == 307


def test_server_exceptions_are_raised_in_the_test_unless_asked_not_to() -> None:
    app = make_app([])
    with TestClient(app) as client:
        with pytest.raises(LookupError, match="nothing here"):
            client.get("/boom")
        assert client.get("/whoami").status_code == 200, "the server kept serving"
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
        assert (r.status_code, r.text) == (500, "Internal Server Error")


def test_without_with_requests_work_and_no_lifespan_runs() -> None:
    events: list[str] = []
    client = TestClient(make_app(events))
    try:
        assert client.post("/echo", json=1).json() == {"json": 1}
    finally:
        client.close()
    assert events == []


def test_on_event_handlers_run_when_the_app_has_no_lifespan() -> None:
    events: list[str] = []
    app = FastAPI()
    app.add_event_handler("startup", lambda: events.append("sync start"))

    @app.on_event("startup")
    async def async_start() -> None:
        events.append("async start")

    @app.on_event("shutdown")
    def stop() -> None:
        events.append("stop")

    @app.get("/")
    def index():
        return events

    with TestClient(app) as client:
        assert client.get("/").json() == ["sync start", "async start"]
    assert events == ["sync start", "async start", "stop"]

"""fastcore.applications: routers, exception handlers, lifespan and state, each answer compared with
FastAPI's for the same app (tests/apps/application.py, via tests/compat.py)."""
from __future__ import annotations

from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("application")), "application", "--threads", "2")


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("custom")), "application", "--threads", "1",
                          attr="custom")


def test_router_prefixes_and_include_prefix(app: Pair) -> None:
    assert app.get("/items/3").json() == {"item_id": 3}
    assert app.get("/admin/urls").json() == {"item": "/items/7"}
    assert app.get("/state").status_code == 404


def test_exception_class_handler_and_its_subclasses(app: Pair) -> None:
    assert app.get("/items/0").json() == {"missing": 0, "path": "/items/0"}
    r = app.get("/items/418")  # a subclass finds its base's handler
    assert (r.status_code, r.json()) == (404, {"missing": 418, "path": "/items/418"})


def test_status_code_handler(app: Pair) -> None:
    r = app.check("PUT", "/items/5/lock")
    assert r.status_code == 409 and r.headers["x-conflict"] == "yes"
    assert r.json() == {"conflict": {"item": 5, "state": "locked"}}


def test_validation_error_handler_override(app: Pair) -> None:
    r = app.get("/items/check/validated", params={"limit": "many"})
    assert (r.status_code, r.text) == (400, "bad request: 1 error(s)")


def test_default_http_exception_answers(app: Pair) -> None:
    r = app.get("/admin/errors/plain")
    assert (r.status_code, r.json()) == (403, {"detail": "Forbidden"})
    r = app.get("/admin/errors/headers")
    assert (r.status_code, r.json()) == (401, {"detail": ["a", 1, None]})
    assert r.headers["www-authenticate"] == "Bearer"
    r = app.get("/admin/errors/no-content")
    assert (r.status_code, r.content) == (304, b"")


def test_unhandled_exception_is_plain_text_500(app: Pair) -> None:
    # FastAPI's TestClient would re-raise it; compare with the reference's 500 explicitly.
    r = app.client.get("/admin/errors/boom")
    assert (r.status_code, r.text) == (500, "Internal Server Error")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_lifespan_state_and_startup_event(app: Pair) -> None:
    assert app.get("/admin/state").json() == {"greeting": "hello from lifespan", "started": True}


def test_apps_own_handlers_answer_the_routers_own_errors(custom: Pair) -> None:
    r = custom.get("/nowhere")
    assert (r.status_code, r.json()) == (404, {"nothing at": "/nowhere"})
    r = custom.check("DELETE", "/items/1")
    assert (r.status_code, r.text, r.headers["allow"]) == (405, "405: Method Not Allowed", "GET")
    r = custom.get("/items/one")
    assert (r.status_code, r.json()) == (422, {"errors": [["path", "item_id"]]})
    assert custom.get("/items/1").json() == {"item_id": 1}

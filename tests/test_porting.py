"""Porting: an app written with FastAPI idioms (tests/apps/porting.py) runs unchanged on fastcore,
and every answer is FastAPI's (status, body bytes, headers), via tests/compat.py."""
from __future__ import annotations

from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory

KEY = {"X-API-Key": "secret"}
ITEM = {"name": "widget", "price": 9.5, "tags": ["a"]}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("porting")), "porting", "--threads", "2")


def test_depends_chain_body_and_response_model(app: Pair) -> None:
    r = app.post("/items/5", params={"q": "x", "skip": 1}, json=ITEM, headers=KEY)
    assert r.status_code == 201
    assert r.json() == {"id": 5, "name": "widget", "price": 9.5, "tags": ["a"]}


@pytest.mark.parametrize("case", [
    {"json": ITEM},                                              # no API key: 401 from the scheme
    {"json": ITEM, "headers": {"X-API-Key": "wrong"}},           # the dependency's 403
    {"json": {"name": "", "price": -1}, "headers": KEY},         # body constraints
    {"content": b'{"name": ', "headers": {**KEY, "content-type": "application/json"}},  # malformed JSON
    {"headers": KEY},                                            # missing body
    {"json": ITEM, "headers": KEY, "params": {"limit": 500}},    # a class dependency's query constraint
])
def test_errors_are_fastapis(app: Pair, case: dict) -> None:
    r = app.post("/items/5", **case)
    assert r.status_code in (401, 403, 422)
    assert app.post("/items/0", json=ITEM, headers=KEY).status_code == 422  # Path(ge=1)


def test_query_enum_and_lists(app: Pair) -> None:
    r = app.get("/items/3", params=[("tier", "pro"), ("tags", "a"), ("tags", "b")], headers=KEY)
    assert r.json() == {"item_id": 3, "user": "alice", "tier": "pro", "tags": ["a", "b"]}
    assert app.get("/items/3", params={"tier": "gold"}, headers=KEY).status_code == 422


def test_headers_and_cookies(app: Pair) -> None:
    r = app.get("/headers", headers=[("User-Agent", "porter"), ("X-Token", "a"), ("X-Token", "b")],
                cookies={"session": "s1"})
    assert r.json() == {"agent": "porter", "tokens": ["a", "b"], "session": "s1"}


def test_embedded_and_several_bodies(app: Pair) -> None:
    r = app.check("PUT", "/embed", json={"item": ITEM, "importance": 3})
    assert r.json() == {"item": ITEM, "importance": 3}
    assert app.check("PUT", "/embed", json=ITEM).status_code == 422


def test_injected_response_and_raw_request(app: Pair) -> None:
    r = app.get("/set-cookie")
    assert r.headers["set-cookie"] == "session=abc; HttpOnly; Path=/; SameSite=lax"
    assert r.headers["x-extra"] == "1"
    assert app.get("/raw", params={"q": "z"}).json() == {"method": "GET", "q": "z"}


def test_path_conversion_error_and_not_found(app: Pair) -> None:
    r = app.get("/items/three", headers=KEY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "item_id"]
    assert app.get("/nowhere").status_code == 404
    assert app.check("DELETE", "/items/3", headers=KEY).status_code == 405

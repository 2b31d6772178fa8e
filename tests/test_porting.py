"""Porting: an app written with FastAPI idioms (tests/apps/porting.py) runs unchanged on fastcore,
and every answer is FastAPI's (status, body bytes, headers), via tests/compat.py."""
from __future__ import annotations

from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("porting")), "porting", "--threads", "2")


def test_path_and_query(app: Pair) -> None:
    assert app.get("/items/3", params={"q": "x"}).json() == {"item_id": 3, "q": "x"}
    assert app.get("/items/3").json() == {"item_id": 3, "q": None}


def test_path_conversion_error(app: Pair) -> None:
    r = app.get("/items/three")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_async_handler_and_not_found(app: Pair) -> None:
    assert app.get("/async/bob").json() == {"name": "bob"}
    assert app.get("/nowhere").status_code == 404

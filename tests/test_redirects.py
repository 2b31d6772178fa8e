"""FastAPI's trailing-slash redirect (src/dispatch/redirect.rs): a path no route has, whose
trailing slash toggled one has, is answered 307 with Location as Starlette's Router builds it
(Host header, decoded path re-quoted, query kept) and an empty body; compared with FastAPI where
it is installed (tests/compat.py)."""
from __future__ import annotations

from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory

HOST = {"host": "testserver"}  # what FastAPI's TestClient sends


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("redirects")), "redirects", "--threads", "1")


@pytest.mark.parametrize("path, location", [
    ("/items/", "http://testserver/items"),
    ("/items//", "http://testserver/items"),
    ("/items/?q=1&r=a%20b&s=%C3%A9", "http://testserver/items?q=1&r=a%20b&s=%C3%A9"),
    ("/users", "http://testserver/users/"),
    ("/only-post/", "http://testserver/only-post"),  # another method's route still redirects
    ("/deep/x", "http://testserver/deep/x/"),
    ("/deep/a%20b", "http://testserver/deep/a%20b/"),
    ("/deep/caf%C3%A9", "http://testserver/deep/caf%C3%A9/"),
    ("/deep/q%3Fx", "http://testserver/deep/q%3Fx/"),
    ("/num/5/", "http://testserver/num/5"),
])
def test_redirect(app: Pair, path: str, location: str) -> None:
    r = app.get(path, headers=HOST)
    assert r.status_code == 307
    assert r.headers["location"] == location
    assert r.content == b"" and r.headers["content-length"] == "0"
    assert "content-type" not in r.headers


def test_redirect_keeps_the_port_of_the_host(app: Pair) -> None:
    r = app.get("/items/", headers={"host": "example.com:8080"})
    assert r.headers["location"] == "http://example.com:8080/items"


@pytest.mark.parametrize("path, status", [("/", 200), ("/items", 200), ("/users/", 200), ("/nowhere/", 404),
                                          ("/nowhere", 404), ("/deep/x/y", 404)])
def test_no_redirect(app: Pair, path: str, status: int) -> None:
    assert app.get(path, headers=HOST).status_code == status


def test_method_not_allowed_wins_over_a_redirect(app: Pair) -> None:
    assert app.client.put("/items", headers=HOST).status_code == 405
    if app.reference is not None:
        assert app.reference.put("/items").status_code == 405


def test_redirect_is_followed(app: Pair) -> None:
    r = app.client.get("/users", follow_redirects=True)
    assert r.status_code == 200 and r.json() == {"users": True}


def test_redirect_slashes_off(server: ServerFactory) -> None:
    srv = server("no_redirects")
    with srv.client() as c:
        assert c.get("/items/").status_code == 404
        assert c.get("/items").status_code == 200

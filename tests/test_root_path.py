"""Serving behind a root path (`fastcore run --root-path`, `FastAPI(root_path=)`; requests.py,
openapi/routes.py, src/dispatch/redirect.rs), compared with FastAPI (tests/compat.py): the
scope's `root_path`, `request.url`, `base_url`, `url_for`, the OpenAPI `servers` and the docs
pages' URLs."""
from __future__ import annotations

from typing import Iterator

import pytest

from fastcore import Request

from .compat import Pair, serve_pair
from .conftest import ServerFactory

HOST = {"host": "testserver"}  # what FastAPI's TestClient sends


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """`--root-path /api`: a proxy serves the app under /api and strips it (uvicorn's flag)."""
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("root_path")), "root_path", root_path="/api")


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """`FastAPI(root_path="/own")`, no server root path."""
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("root_path_own")), "root_path", attr="app_own")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("root_path_plain")), "root_path")


def test_server_root_path_in_the_request(proxied: Pair) -> None:
    body = proxied.get("/info", headers=HOST).json()
    assert body == {
        "root_path": "/api",
        "path": "/api/info",  # uvicorn puts the root path in front of the path
        "url": "http://testserver/api/info",
        "base_url": "http://testserver/api/",
        "item": "http://testserver/api/items/7",
        "info": "http://testserver/api/info",
        "item_path": "/items/7",
    }


def test_url_for_follows_the_host_and_the_query_is_kept_out(proxied: Pair) -> None:
    r = proxied.get("/items/5?x=1", headers={"host": "example.com:8080"})
    assert r.json() == {"item_id": 5, "self": "http://example.com:8080/api/items/5"}


def test_routes_match_the_path_as_the_proxy_sends_it(proxied: Pair) -> None:
    assert proxied.get("/items/3", headers=HOST).status_code == 200
    assert proxied.get("/api/items/3", headers=HOST).status_code == 404  # seen as /api/api/items/3


def test_trailing_slash_redirect_carries_the_root_path(proxied: Pair) -> None:
    r = proxied.get("/slash", headers=HOST)
    assert r.status_code == 307
    assert r.headers["location"] == "http://testserver/api/slash/"


def test_url_for_an_unknown_name_is_a_server_error(proxied: Pair) -> None:
    # Starlette raises NoMatchFound; unhandled, it is a plain 500 on both.
    r = proxied.client.get("/missing", headers=HOST)
    assert r.status_code == 500
    assert r.text == "Internal Server Error"


def test_openapi_servers_start_with_the_root_path(proxied: Pair) -> None:
    doc = proxied.get("/openapi.json", headers=HOST).json()
    assert doc["servers"] == [{"url": "/api"}, {"url": "https://api.example.com", "description": "prod"}]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_pages_point_under_the_root_path(proxied: Pair, path: str) -> None:
    # Not compared byte for byte: fastcore's pages load the shipped assets, FastAPI's a CDN's.
    r = proxied.client.get(path, headers=HOST)
    assert r.status_code == 200
    if path != "/docs/oauth2-redirect":
        assert "'/api/openapi.json'" in r.text or '"/api/openapi.json"' in r.text
        assert 'src="/api/_fastcore/docs/' in r.text
        asset = r.text.split('src="/api', 1)[1].split('"', 1)[0]
        assert proxied.client.get(asset).status_code == 200  # the proxy strips /api


def test_app_root_path(own: Pair) -> None:
    body = own.get("/info", headers=HOST).json()
    assert body["root_path"] == "/own"
    assert body["url"] == "http://testserver/info"  # FastAPI sets the scope's root_path only
    assert body["base_url"] == "http://testserver/own/"
    assert body["item"] == "http://testserver/own/items/7"
    assert own.get("/openapi.json", headers=HOST).json()["servers"][0] == {"url": "/own"}
    assert "'/own/openapi.json'" in own.client.get("/docs", headers=HOST).text


def test_app_root_path_is_deprecated() -> None:
    from fastcore import FastAPI
    from fastcore.exceptions import FastAPIDeprecationWarning

    with pytest.warns(FastAPIDeprecationWarning, match="root_path"):
        FastAPI(root_path="/x")


def test_without_a_root_path(plain: Pair) -> None:
    body = plain.get("/info", headers=HOST).json()
    assert body["root_path"] == "" and body["base_url"] == "http://testserver/"
    assert body["item"] == "http://testserver/items/7"
    assert "servers" in plain.get("/openapi.json", headers=HOST).json()  # the app's own only
    assert plain.get("/openapi.json", headers=HOST).json()["servers"] == [
        {"url": "https://api.example.com", "description": "prod"}]


def test_root_path_kept_out_of_servers(server: ServerFactory) -> None:
    from .compat import ported
    from .conftest import fastcore_argv

    srv = server.launch(fastcore_argv(ported("root_path", "app_no_servers"), "--root-path", "/api"))
    with srv.client() as client:
        doc = client.get("/openapi.json").json()
        assert "servers" not in doc
        assert client.get("/info").json()["base_url"].endswith("/api/")


def test_testclient_root_path_is_starlettes() -> None:
    """fastcore's TestClient takes `root_path` as Starlette's does: in the scope, not the path."""
    from fastcore import FastAPI
    from fastcore.testclient import TestClient

    app = FastAPI()

    @app.get("/where")
    def where(request: Request):
        return {"root": request.scope["root_path"], "url": str(request.url), "for": str(request.url_for("where"))}

    with TestClient(app, root_path="/tc") as client:
        assert client.get("/where").json() == {"root": "/tc", "url": "http://testserver/where",
                                               "for": "http://testserver/tc/where"}

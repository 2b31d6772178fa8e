"""CORSMiddleware (python/fastcore/middleware/cors.py, src/middleware/cors.rs) on
tests/apps/fa_cors.py, by fastcore and by FastAPI (where installed): preflights allowed and
refused, credentials, regex origins, exposed headers and simple requests, headers compared."""
from __future__ import annotations

from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory

PREFLIGHT = {"access-control-request-method": "GET"}


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("cors")), "fa_cors", "--threads", "1")


@pytest.fixture(scope="module")
def any_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("cors_any")), "fa_cors", "--threads", "1",
                          attr="app_any")


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("cors_private")), "fa_cors", "--threads", "1",
                          attr="app_private")


def test_preflight_allowed(named: Pair) -> None:
    r = named.check("OPTIONS", "/items", headers={"origin": "https://example.org", **PREFLIGHT,
                                                   "access-control-request-headers": "X-Token, content-type"})
    assert (r.status_code, r.text) == (200, "OK")
    assert r.headers["access-control-allow-origin"] == "https://example.org"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-max-age"] == "300"
    assert set(r.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert set(r.headers["access-control-allow-headers"].split(", ")) == {
        "Accept", "Accept-Language", "Content-Language", "Content-Type", "X-Token"}
    assert r.headers["vary"] == ("Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
                                 "Access-Control-Request-Private-Network")


@pytest.mark.parametrize("origin, method, headers, text", [
    ("https://evil.example", "GET", None, "Disallowed CORS origin"),
    ("https://example.org", "DELETE", None, "Disallowed CORS method"),
    ("https://example.org", "GET", "x-other", "Disallowed CORS headers"),
    ("https://evil.example", "PUT", "x-token,", "Disallowed CORS origin, method, headers"),
])
def test_preflight_refused(named: Pair, origin: str, method: str, headers: str | None, text: str) -> None:
    sent = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        sent["access-control-request-headers"] = headers
    r = named.check("OPTIONS", "/items", headers=sent)
    assert (r.status_code, r.text) == (400, text)


def test_preflight_regex_origin(named: Pair) -> None:
    r = named.check("OPTIONS", "/items", headers={"origin": "https://api.example.net", **PREFLIGHT})
    assert (r.status_code, r.headers["access-control-allow-origin"]) == (200, "https://api.example.net")
    r = named.check("OPTIONS", "/items", headers={"origin": "https://api.example.net.evil.com", **PREFLIGHT})
    assert r.status_code == 400  # fullmatch, not search


def test_options_without_request_method_is_not_a_preflight(named: Pair) -> None:
    r = named.check("OPTIONS", "/items", headers={"origin": "https://example.org"})
    assert r.status_code == 405


@pytest.mark.parametrize("origin", ["https://example.org", "https://trusted.example.com", "https://x.example.net"])
def test_simple_request_allowed_origin(named: Pair, origin: str) -> None:
    r = named.get("/items", headers={"origin": origin})
    assert r.json() == {"items": [1, 2]}
    assert r.headers["access-control-allow-origin"] == origin
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-expose-headers"] == "X-Total, X-Page"
    assert r.headers["vary"] == "Origin"


def test_simple_request_other_origin_and_none(named: Pair) -> None:
    r = named.get("/items", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers and r.headers["vary"] == "Origin"
    r = named.get("/items")
    assert "access-control-allow-credentials" not in r.headers and r.headers["vary"] == "Origin"


def test_vary_joined_with_the_responses_own(named: Pair) -> None:
    r = named.get("/vary", headers={"origin": "https://example.org"})
    assert r.headers["vary"] == "Accept-Language, Origin"


def test_errors_get_cors_headers(named: Pair) -> None:
    r = named.get("/missing", headers={"origin": "https://example.org"})
    assert (r.status_code, r.headers["access-control-allow-origin"]) == (404, "https://example.org")


def test_any_origin(any_origin: Pair) -> None:
    r = any_origin.get("/items", headers={"origin": "https://anywhere.example"})
    assert r.headers["access-control-allow-origin"] == "*" and r.headers["vary"] == "Origin"
    r = any_origin.check("OPTIONS", "/items", headers={
        "origin": "https://anywhere.example", "access-control-request-method": "QUERY",
        "access-control-request-headers": "X-Anything, X-Else"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-headers"] == "X-Anything, X-Else"
    assert set(r.headers["access-control-allow-methods"].split(", ")) == {
        "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY"}


def test_any_origin_with_credentials_mirrors_origin(private: Pair) -> None:
    r = private.get("/items", headers={"origin": "https://anywhere.example"})
    assert r.headers["access-control-allow-origin"] == "https://anywhere.example"
    assert r.headers["vary"] == "Origin"


def test_private_network(private: Pair) -> None:
    r = private.check("OPTIONS", "/items", headers={
        "origin": "https://a.example", **PREFLIGHT, "access-control-request-private-network": "true"})
    assert (r.status_code, r.headers["access-control-allow-private-network"]) == (200, "true")
    r = private.check("OPTIONS", "/items", headers={
        "origin": "https://a.example", "access-control-request-method": "POST",
        "access-control-request-private-network": "true"})
    assert (r.status_code, r.text) == (400, "Disallowed CORS method")

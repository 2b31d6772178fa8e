"""Security schemes (python/fastcore/security/): the credentials they return, and FastAPI's exact
401/403 statuses, bodies and WWW-Authenticate headers, auto_error=False and scopes.
tests/apps/fa_security.py runs on FastAPI and on fastcore and the answers must be identical."""
from __future__ import annotations

import base64

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory


@pytest.fixture(scope="module")
def sec(tmp_path_factory: pytest.TempPathFactory):
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_security")), "fa_security", "--threads", "2")


def basic_auth(value: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}


def unauthenticated(r, challenge: str) -> None:
    assert (r.status_code, r.json(), r.headers["www-authenticate"]) == (401, {"detail": "Not authenticated"}, challenge)


def test_oauth2_password_bearer(sec: Pair) -> None:
    assert sec.get("/oauth2", headers={"Authorization": "Bearer abc"}).json() == {"token": "abc"}
    unauthenticated(sec.get("/oauth2"), "Bearer")
    unauthenticated(sec.get("/oauth2", headers={"Authorization": "Basic abc"}), "Bearer")
    assert sec.get("/oauth2-optional").json() == {"token": None}
    assert sec.get("/oauth2-optional", headers={"Authorization": "bearer t"}).json() == {"token": "t"}


@pytest.mark.parametrize("header", ["Bearer", "Basic x", "Token abc", "abc", ""])
def test_http_bearer_refusals(sec: Pair, header: str) -> None:
    unauthenticated(sec.get("/bearer", headers={"Authorization": header}), "Bearer")
    assert sec.get("/bearer-optional", headers={"Authorization": header}).json() == {"credentials": None}


def test_http_bearer(sec: Pair) -> None:
    assert sec.get("/bearer", headers={"Authorization": "Bearer  tok"}).json() == {"scheme": "Bearer", "credentials": "tok"}
    unauthenticated(sec.get("/bearer"), "Bearer")


def test_http_basic(sec: Pair) -> None:
    assert sec.get("/basic", headers=basic_auth("ann:pw:x")).json() == {"username": "ann", "password": "pw:x"}
    unauthenticated(sec.get("/basic"), "Basic")
    unauthenticated(sec.get("/basic", headers=basic_auth("no-colon")), "Basic")
    unauthenticated(sec.get("/basic", headers={"Authorization": "Basic !!!"}), "Basic")
    unauthenticated(sec.get("/basic", headers={"Authorization": "Bearer x"}), "Basic")
    unauthenticated(sec.get("/basic-realm"), 'Basic realm="simple"')
    assert sec.get("/basic-realm", headers=basic_auth("bo:")).json() == {"username": "bo"}


def test_http_digest(sec: Pair) -> None:
    assert sec.get("/digest", headers={"Authorization": "Digest abc"}).json() == {"credentials": "abc"}
    unauthenticated(sec.get("/digest", headers={"Authorization": "Basic abc"}), "Digest")


def test_api_keys(sec: Pair) -> None:
    assert sec.get("/key-header", headers={"x-api-key": "k"}).json() == {"key": "k"}
    unauthenticated(sec.get("/key-header"), "APIKey")
    unauthenticated(sec.get("/key-header", headers={"x-api-key": ""}), "APIKey")
    assert sec.get("/key-query?api_key=q").json() == {"key": "q"}
    assert sec.get("/key-query").json() == {"key": None}
    assert sec.get("/key-cookie", headers={"cookie": "session=s1"}).json() == {"key": "s1"}
    unauthenticated(sec.get("/key-cookie"), "APIKey")


def test_security_scopes(sec: Pair) -> None:
    assert sec.get("/scoped/items", headers={"Authorization": "Bearer items"}).json() == {
        "token": "items", "scopes": ["items"]}
    assert sec.get("/scoped/me", headers={"Authorization": "Bearer me,items"}).json() == {
        "token": "me,items", "scopes": ["me", "items"]}
    r = sec.get("/scoped/me", headers={"Authorization": "Bearer items"})
    assert (r.status_code, r.headers["www-authenticate"]) == (401, 'Bearer scope="me items"')
    unauthenticated(sec.get("/scoped/items"), "Bearer")


def test_open_id_connect(sec: Pair) -> None:
    assert sec.get("/oidc", headers={"Authorization": "Bearer t0k"}).json() == {"authorization": "Bearer t0k"}
    unauthenticated(sec.get("/oidc"), "Bearer")
    assert sec.get("/oidc-optional").json() == {"authorization": None}

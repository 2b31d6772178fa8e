"""Plain routes get one generated endpoint (python/fastcore/dependencies/fused.py), `str`
parameters skip a validation that changes nothing (dependencies/straight.py, `_plain_str`), and
an instance of exactly the response model is only serialised (handler.py, `Finisher.plain`):
every answer, the errors included, compared with FastAPI's on the same app (tests/apps/fa_plain.py).
The same routes behind an HTTP middleware (`mw_pair`) check what the middleware sees of an
answer the core would send without a `Response` (`JsonReply`), and what a validation-error
handler gets as `exc.body` when the body was validated straight from its bytes."""
from __future__ import annotations

import pytest

from .compat import serve_pair
from .conftest import ServerFactory

ITEM = {"name": "widget", "price": 9.5, "tags": ["a", "b"]}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_plain")), "fa_plain", "--threads", "1")


@pytest.fixture(scope="module")
def mw_pair(tmp_path_factory: pytest.TempPathFactory):
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_plain_mw")), "fa_plain", "--threads", "1",
                          attr="mw_app")


@pytest.mark.parametrize("url", ["/users/42?q=hello", "/users/42", "/users/42?q=", "/users/42?q=a&q=b",
                                 "/users/x?q=1", "/users/%20%2042", "/users/4.0", "/users/42?q=%C3%A9t%C3%A9"])
def test_path_and_query(pair, url: str) -> None:
    pair.check("GET", url)


def test_path_and_query_values(pair) -> None:
    assert pair.get("/users/42?q=hello").json() == {"user_id": 42, "q": "hello"}
    assert pair.get("/users/x").status_code == 422


@pytest.mark.parametrize("url, headers", [
    ("/headers", {"x-token": "t"}),
    ("/headers", {}),
    ("/headers?q=abcd", {"x-token": "t"}),
    ("/headers?q=ab&n=x&tags=1&tags=2", {"x-token": "t"}),
    ("/headers?n=3", {"X-Token": "a, b;c"}),
])
def test_headers_and_constrained_query(pair, url: str, headers: dict) -> None:
    pair.check("GET", url, headers=headers)


BODIES = [
    (ITEM, None),
    ({"name": "widget", "price": "9.5"}, None),
    ({"name": "widget"}, None),
    ({"name": 1, "price": "x", "tags": "no"}, None),
    ("[1, 2]", JSON),
    ('{"name": "w", "price": 1', JSON),
    ("", JSON),
    ('{"name": "w", "price": 1}', {"content-type": "text/plain"}),
    ('{"name": "w", "price": 1}', {"content-type": "application/vnd.api+json"}),
]


def send(pair, method: str, path: str, body, headers):
    if isinstance(body, str):
        return pair.check(method, path, content=body.encode(), headers=headers)
    return pair.check(method, path, json=body)


@pytest.mark.parametrize("path", ["/items", "/items/secret", "/items/dict", "/items/accepted", "/items/7?q=x", "/maybe"])
@pytest.mark.parametrize("body, headers", BODIES)
def test_json_bodies(pair, path: str, body, headers) -> None:
    send(pair, "PUT" if path.startswith("/items/7") else "POST", path, body, headers)


@pytest.mark.parametrize("path", ["/items", "/items/secret", "/items/dict", "/items/accepted", "/items/7?q=x",
                                  "/items/x?q=x", "/maybe"])
@pytest.mark.parametrize("body, headers", BODIES)
def test_json_bodies_through_middleware(mw_pair, path: str, body, headers) -> None:
    send(mw_pair, "PUT" if path.startswith("/items/") and "?" in path else "POST", path, body, headers)


def test_middleware_sees_the_encoded_answer(mw_pair) -> None:
    r = mw_pair.post("/items", json=ITEM)
    assert (r.status_code, r.json()) == (201, ITEM)
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-seen"] == f"201 {len(r.content)}"


def test_error_handler_gets_the_body_validated_from_bytes(mw_pair) -> None:
    # The body validates (from its bytes); the path parameter does not: the handler of the
    # 422 gets the body as `json.loads` reads it, as FastAPI hands it.
    r = mw_pair.check("PUT", "/items/x?q=1", json=ITEM)
    assert r.status_code == 422
    assert r.json()["body"] == ITEM
    assert [e["loc"] for e in r.json()["detail"]] == [["path", "item_id"]]


def test_response_model_filters_a_subclass(pair) -> None:
    r = pair.post("/items/secret", json=ITEM)
    assert r.status_code == 200
    assert r.json() == {"name": "widget", "price": 9.5, "tags": ["a", "b"]}
    r = pair.post("/items", json=ITEM)
    assert (r.status_code, r.json()) == (201, ITEM)
    r = pair.post("/items/accepted", json=ITEM)
    assert (r.status_code, r.json()) == (202, ITEM)


def test_json_reply_takes_only_statuses_with_a_body() -> None:
    from fastcore._core import JsonReply

    reply = JsonReply(b'{"a":1}', 201)
    assert (reply.body, reply.status_code) == (b'{"a":1}', 201)
    for status in (100, 199, 204, 205, 304, 1000):
        with pytest.raises(ValueError):
            JsonReply(b"{}", status)

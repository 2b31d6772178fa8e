"""Routing in the Rust core: static and parameterised paths, converters, methods, 404/405/422."""
from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("path, expected", [
    ("/", {"route": "root"}),
    ("/items", {"route": "items"}),
    ("/users/me", {"route": "me"}),
])
def test_static_paths(routing: httpx.Client, path: str, expected: dict) -> None:
    r = routing.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == expected


@pytest.mark.parametrize("path, expected", [
    ("/users/42", {"user_id": 42, "type": "int"}),
    ("/users/-7", {"user_id": -7, "type": "int"}),
    ("/users/0", {"user_id": 0, "type": "int"}),
    ("/users/9223372036854775807", {"user_id": 9223372036854775807, "type": "int"}),
    ("/prices/2.5", {"price": 2.5, "type": "float"}),
    ("/prices/3", {"price": 3.0, "type": "float"}),
    ("/prices/-0.25", {"price": -0.25, "type": "float"}),
    ("/prices/1e3", {"price": 1000.0, "type": "float"}),
    ("/names/alice", {"name": "alice", "type": "str"}),
    ("/names/42", {"name": "42", "type": "str"}),
    ("/names/a%20b", {"name": "a b", "type": "str"}),
    ("/names/caf%C3%A9", {"name": "café", "type": "str"}),
    ("/files/readme", {"rest": "readme"}),
    ("/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
    ("/files/dir/with%20space/x", {"rest": "dir/with space/x"}),
    ("/orgs/python/repos/3", {"org": "python", "repo_id": 3}),
])
def test_path_parameters_are_converted(routing: httpx.Client, path: str, expected: dict) -> None:
    r = routing.get(path)
    assert r.status_code == 200, r.text
    assert r.json() == expected


def test_static_route_wins_over_parameter(routing: httpx.Client) -> None:
    assert routing.get("/users/me").json() == {"route": "me"}
    assert routing.get("/users/12").json() == {"user_id": 12, "type": "int"}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_method_dispatch(routing: httpx.Client, method: str) -> None:
    r = routing.request(method, "/things/5")
    assert r.status_code == 200
    assert r.json() == {"method": method, "thing_id": 5}


def test_one_handler_for_several_methods(routing: httpx.Client) -> None:
    assert routing.get("/multi").json() == {"method": "GET"}
    assert routing.post("/multi").json() == {"method": "POST"}
    r = routing.put("/multi")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"


# "/items/" is a redirect to "/items" (FastAPI's redirect_slashes, tests/test_redirects.py).
@pytest.mark.parametrize("path", ["/nope", "/users", "/users/", "/users/1/extra", "/files", "/files/",
                                  "/orgs/python/repos", "/ITEMS"])
def test_unknown_path_is_404_json(routing: httpx.Client, path: str) -> None:
    r = routing.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Not Found"}


# FastAPI's Allow: the methods of the first route whose path matched (not every route's).
@pytest.mark.parametrize("method, path, allow", [
    ("POST", "/only-get", "GET"),
    ("DELETE", "/", "GET, HEAD"),
    ("GET", "/only-post", "POST"),
    ("OPTIONS", "/things/1", "GET"),
    ("POST", "/users/1", "GET, HEAD"),
])
def test_wrong_method_is_405_with_allow(routing: httpx.Client, method: str, path: str, allow: str) -> None:
    r = routing.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert r.json() == {"detail": "Method Not Allowed"}


def test_a_get_route_does_not_answer_head(routing: httpx.Client) -> None:
    r = routing.head("/only-get")  # as in FastAPI: HEAD is served only where it is declared
    assert (r.status_code, r.headers["allow"], r.content) == (405, "GET", b"")


def test_405_when_the_path_matches_but_not_the_method_even_with_bad_param(routing: httpx.Client) -> None:
    # The path shape matches /users/{user_id:int}; the method is the first thing that is wrong.
    r = routing.post("/users/abc")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_int_param_that_does_not_parse_is_422(routing: httpx.Client) -> None:
    r = routing.get("/users/abc")
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": [{
        "type": "int_parsing",
        "loc": ["path", "user_id"],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "abc",
    }]}


@pytest.mark.parametrize("path, name, kind, value", [
    ("/users/1.5", "user_id", "int_parsing", "1.5"),
    ("/users/12abc", "user_id", "int_parsing", "12abc"),
    ("/orgs/x/repos/y", "repo_id", "int_parsing", "y"),
    ("/prices/cheap", "price", "float_parsing", "cheap"),
    ("/prices/nan", "price", "float_parsing", "nan"),
    ("/prices/inf", "price", "float_parsing", "inf"),
    ("/users/%C3%A9", "user_id", "int_parsing", "é"),
])
def test_bad_typed_params_are_422_naming_the_param(routing: httpx.Client, path: str, name: str, kind: str,
                                                     value: str) -> None:
    r = routing.get(path)
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["type"] == kind
    assert error["loc"] == ["path", name]
    assert error["input"] == value


def test_server_keeps_routing_after_errors(routing: httpx.Client) -> None:
    for path, status, error in (("/nope", 404, "Not Found"), ("/users/abc", 422, "int_parsing"),
                                ("/prices/x", 422, "float_parsing")):
        r = routing.get(path)
        assert r.status_code == status, (path, r.text)
        detail = r.json()["detail"]
        assert (detail if status == 404 else detail[0]["type"]) == error, (path, detail)
    assert routing.get("/users/1").json() == {"user_id": 1, "type": "int"}

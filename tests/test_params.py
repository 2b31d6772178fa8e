"""Query parameters, JSON bodies, response_model and status_code, with FastAPI-shaped 422s."""
from __future__ import annotations

import httpx
import pytest

# -- query parameters ---------------------------------------------------------------------------


def test_query_params_with_defaults(params: httpx.Client) -> None:
    assert params.get("/search", params={"q": "x"}).json() == {"q": "x", "limit": 10, "exact": False, "ratio": 0.5}


def test_query_params_are_converted(params: httpx.Client) -> None:
    r = params.get("/search", params={"q": "café", "limit": "5", "exact": "true", "ratio": "0.25"})
    assert r.status_code == 200
    assert r.json() == {"q": "café", "limit": 5, "exact": True, "ratio": 0.25}


@pytest.mark.parametrize("raw, expected", [("true", True), ("1", True), ("yes", True), ("on", True),
                                           ("false", False), ("0", False), ("no", False), ("off", False)])
def test_bool_query_values(params: httpx.Client, raw: str, expected: bool) -> None:
    assert params.get("/search", params={"q": "x", "exact": raw}).json()["exact"] is expected


def test_missing_required_query_param_is_422(params: httpx.Client) -> None:
    r = params.get("/search")
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": [{"type": "missing", "loc": ["query", "q"], "msg": "Field required",
                                    "input": None}]}


def test_invalid_query_param_is_422(params: httpx.Client) -> None:
    r = params.get("/search", params={"q": "x", "limit": "lots"})
    assert r.status_code == 422
    assert r.json() == {"detail": [{
        "type": "int_parsing",
        "loc": ["query", "limit"],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "lots",
    }]}


def test_all_query_errors_are_reported_together(params: httpx.Client) -> None:
    r = params.get("/search", params={"limit": "lots", "ratio": "half"})
    assert r.status_code == 422
    errors = r.json()["detail"]
    assert [(e["type"], e["loc"]) for e in errors] == [("missing", ["query", "q"]),
                                                      ("int_parsing", ["query", "limit"]),
                                                      ("float_parsing", ["query", "ratio"])]


def test_optional_query_params(params: httpx.Client) -> None:
    assert params.get("/optional").json() == {"q": None, "n": None}
    assert params.get("/optional", params={"q": "a", "n": "3"}).json() == {"q": "a", "n": 3}
    bad = params.get("/optional", params={"n": "three"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "n"]


def test_list_query_params_take_repeats(params: httpx.Client) -> None:
    r = params.get("/tags?tag=a&tag=b&n=1&n=2&tag=c")
    assert r.json() == {"tag": ["a", "b", "c"], "n": [1, 2]}
    assert params.get("/tags").json() == {"tag": [], "n": []}
    assert params.get("/tags?tag=solo").json() == {"tag": ["solo"], "n": []}


def test_list_query_item_error_names_the_index(params: httpx.Client) -> None:
    r = params.get("/tags?n=1&n=x")
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["query", "n", 1]
    assert error["type"] == "int_parsing"
    assert error["input"] == "x"


def test_optional_list_query_params_take_repeats(params: httpx.Client) -> None:
    r = params.get("/optional-tags?tag=a&tag=b")
    assert r.status_code == 200, r.text
    assert r.json() == {"tag": ["a", "b"]}


def test_optional_list_query_param_absent(params: httpx.Client) -> None:
    assert params.get("/optional-tags").json() == {"tag": None}


# -- path parameters validated in Python --------------------------------------------------------


def test_path_param_with_a_pydantic_type(params: httpx.Client) -> None:
    good = params.get("/typed-path/12345678-1234-5678-1234-567812345678")
    assert good.json() == {"item_id": "12345678-1234-5678-1234-567812345678", "type": "UUID"}
    bad = params.get("/typed-path/not-a-uuid")
    assert bad.status_code == 422
    [error] = bad.json()["detail"]
    assert error["type"] == "uuid_parsing" and error["loc"] == ["path", "item_id"] and error["input"] == "not-a-uuid"


def test_path_request_and_query_together(params: httpx.Client) -> None:
    assert params.get("/users/3/items", params={"page": "2"}).json() == {"user_id": 3, "page": 2,
                                                                        "path": "/users/3/items"}
    assert params.get("/users/3/items").json()["page"] == 1
    assert params.get("/users/x/items").status_code == 422


# -- bodies -------------------------------------------------------------------------------------


def test_body_is_validated_into_the_model(params: httpx.Client) -> None:
    r = params.post("/items", json={"name": "widget", "price": "9.5", "extra": "ignored"})
    assert r.status_code == 200
    assert r.json() == {"received": {"name": "widget", "price": 9.5, "tags": []}, "type": "Item"}


def test_invalid_body_field_is_422(params: httpx.Client) -> None:
    r = params.post("/items", json={"name": "widget", "price": -1})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["type"] == "greater_than"
    assert error["loc"] == ["body", "price"]
    assert error["input"] == -1
    assert error["ctx"] == {"gt": 0.0}


def test_missing_body_fields_are_422(params: httpx.Client) -> None:
    r = params.post("/items", json={"price": "abc"})
    assert r.status_code == 422
    assert [(e["type"], e["loc"]) for e in r.json()["detail"]] == [("missing", ["body", "name"]),
                                                                  ("float_parsing", ["body", "price"])]


@pytest.mark.parametrize("raw", [b"{bad json", b"{\"name\": \"a\",", b"not json at all", b"{\"name\": \"\xc3\xa9\""])
def test_invalid_json_body_is_422(params: httpx.Client, raw: bytes) -> None:
    r = params.post("/items", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"


def test_non_utf8_body(params: httpx.Client) -> None:
    """FastAPI's answers: a UTF-16 BOM decodes to nothing (JSON error at 0); bytes that decode
    in no JSON encoding are a 400."""
    r = params.post("/items", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json() == {"detail": [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error",
                                    "input": {}, "ctx": {"error": "Expecting value"}}]}
    r = params.post("/items", content=b'{"name": "\xff", "price": 1}', headers={"content-type": "application/json"})
    assert (r.status_code, r.json()) == (400, {"detail": "There was an error parsing the body"})


def test_missing_body_is_422(params: httpx.Client) -> None:
    r = params.post("/items")
    assert r.status_code == 422
    assert r.json() == {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]}


def test_body_of_the_wrong_shape_is_422(params: httpx.Client) -> None:
    r = params.post("/items", json=["not", "an", "object"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body"]


def test_body_with_path_and_query(params: httpx.Client) -> None:
    r = params.put("/items/5", params={"q": "z"}, json={"name": "a", "price": 2})
    assert r.json() == {"item_id": 5, "name": "a", "price": 2.0, "q": "z"}


def test_optional_body_with_none_default(params: httpx.Client) -> None:
    assert params.post("/items/optional-body").json() == {"item": None}
    r = params.post("/items/optional-body", json={"name": "a", "price": 2})
    assert r.json() == {"item": {"name": "a", "price": 2.0, "tags": []}}


def test_optional_union_body_is_read(params: httpx.Client) -> None:
    r = params.post("/items/optional-union-body", json={"name": "a", "price": 2})
    assert r.json() == {"item": {"name": "a", "price": 2.0, "tags": []}}


def test_list_of_models_body(params: httpx.Client) -> None:
    assert params.post("/items/batch", json=[{"name": "a", "price": 1}, {"name": "b", "price": 2}]).json() == {
        "names": ["a", "b"]}
    bad = params.post("/items/batch", json=[{"name": "a", "price": 1}, {"name": "b"}])
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", 1, "price"]


def test_dict_body(params: httpx.Client) -> None:
    assert params.post("/raw-dict", json={"b": 1, "a": 2}).json() == {"keys": ["a", "b"]}
    assert params.post("/raw-dict", json=[1, 2]).status_code == 422


# -- status_code and response_model -------------------------------------------------------------


def test_status_code_201(params: httpx.Client) -> None:
    r = params.post("/created", json={"name": "new", "price": 1})
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"name": "new"}


def test_validation_error_wins_over_status_code(params: httpx.Client) -> None:
    assert params.post("/created", json={"name": "new"}).status_code == 422


def test_response_model_filters_extra_fields(params: httpx.Client) -> None:
    r = params.post("/filtered", json={"name": "a", "price": 2, "tags": ["t"]})
    assert r.status_code == 200
    assert r.json() == {"name": "a", "price": 2.0}
    assert b"do-not-leak" not in r.content


def test_response_model_from_a_model_instance_with_status(params: httpx.Client) -> None:
    r = params.get("/filtered-model")
    assert r.status_code == 201
    assert r.json() == {"name": "widget", "price": 9.5}


def test_response_model_list(params: httpx.Client) -> None:
    assert params.get("/filtered-list").json() == [{"name": "a", "price": 1.0}, {"name": "b", "price": 2.5}]


def test_return_value_that_violates_response_model_is_500(params: httpx.Client, params_server) -> None:
    r = params.get("/bad-response-model")
    assert r.status_code == 500
    assert r.text == "Internal Server Error"
    log = params_server.wait_for_log("ResponseValidationError: 1 validation error")
    assert "Exception in handler for GET /bad-response-model" in log


def test_returned_response_wins_over_status_code(params: httpx.Client) -> None:
    r = params.get("/response-wins")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "explicit"


def test_status_code_204_sends_no_body(params: httpx.Client) -> None:
    r = params.delete("/things/3")
    assert r.status_code == 204
    assert r.content == b""


def test_validation_errors_are_not_logged(params: httpx.Client, params_server) -> None:
    marker = "never-logged-query-marker"
    assert params.get("/search", params={"limit": marker}).status_code == 422
    assert marker not in params_server.log()


# -- the same app on FastAPI and on fastcore (tests/apps/fa_params.py, tests/compat.py) ----------
# Every request goes to both where FastAPI is installed: status, body bytes and headers must be
# identical. The assertions below are what both answer, so they also run on 3.13t.


def test_compat_path_params(fa_params) -> None:
    assert fa_params.get("/path/int/42").json() == {"item_id": 42}
    assert fa_params.get("/path/int/x").status_code == 422
    assert fa_params.get("/path/ge/5").json() == {"item_id": 5}
    r = fa_params.get("/path/ge/0")
    assert r.status_code == 422
    assert r.json() == {"detail": [{"type": "greater_than_equal", "loc": ["path", "item_id"],
                                    "msg": "Input should be greater than or equal to 1", "input": "0",
                                    "ctx": {"ge": 1}}]}
    assert fa_params.get("/path/ge/abc").json()["detail"][0]["type"] == "int_parsing"
    assert fa_params.get("/path/default-form/0").json()["detail"][0]["type"] == "greater_than"
    assert fa_params.get("/path/enum/red").json() == {"color": "red", "is_red": True}
    r = fa_params.get("/path/enum/blue")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "enum"
    assert fa_params.get("/path/uuid/12345678-1234-5678-1234-567812345678").status_code == 200
    assert fa_params.get("/path/uuid/nope").status_code == 422
    assert fa_params.get("/path/float/2.5").json() == {"x": 2.5}
    assert fa_params.get("/path/file/a/b/c.txt").json() == {"file_path": "a/b/c.txt"}
    # Every parameter that does not convert is reported, in path order, as FastAPI does.
    assert [e["loc"] for e in fa_params.get("/path/two/x/y").json()["detail"]] == [["path", "a"], ["path", "b"]]
    assert fa_params.get("/path/two/1/y").json()["detail"][0]["input"] == "y"


@pytest.mark.parametrize("query", [
    {"q": "x"}, {"q": "x", "n": "3", "f": "1e3", "day": "2024-02-29"}, {}, {"n": "many"}, {"q": "x", "day": "nope"},
    {"q": "x", "flag": "yes"}, {"q": "x", "flag": "off"}, {"q": "x", "flag": "maybe"}, {"q": ""},
])
def test_compat_query_scalars(fa_params, query) -> None:
    fa_params.get("/query/scalars", params=query)


@pytest.mark.parametrize("query", [
    {"q": "abc"}, {"q": "ab"}, {"q": "abcdef"}, {"q": "ABC"}, {"q": "abc", "n": "0"}, {"q": "abc", "n": "10"},
    {"q": "abc", "d": "12.345"}, {"q": "abc", "d": "123.4"}, {"q": "abc", "d": "9.99"},
])
def test_compat_query_constraints(fa_params, query) -> None:
    fa_params.get("/query/constraints", params=query)


def test_compat_query_alias_list_enum(fa_params) -> None:
    assert fa_params.get("/query/alias?item-query=a&X=3").json() == {"item_query": "a", "x": 3}
    assert fa_params.get("/query/alias?item_query=a").json()["detail"][0]["loc"] == ["query", "item-query"]
    assert fa_params.get("/query/list?tag=a&tag=b&n=5").json() == {"tag": ["a", "b"], "n": [5]}
    assert fa_params.get("/query/list").json() == {"tag": [], "n": [1, 2]}
    assert fa_params.get("/query/list?n=1&n=x").json()["detail"][0]["loc"] == ["query", "n", 1]
    assert fa_params.get("/query/required-list").status_code == 422
    assert fa_params.get("/query/enum-literal?color=red&mode=slow").json() == {"color": "red", "mode": "slow"}
    assert fa_params.get("/query/enum-literal?mode=medium").status_code == 422
    assert fa_params.get("/query/enum-literal?color=pink").status_code == 422
    assert fa_params.get("/query/union?v=3").json() == {"v": "3"}  # smart mode: the str matches exactly
    assert fa_params.get("/query/union?v=three").json() == {"v": "three"}
    fa_params.get("/query/scalars?q=a&q=b")  # the last repeat wins


def test_compat_headers(fa_params) -> None:
    r = fa_params.get("/headers", headers={"x-token": "t", "user-agent": "ua", "strange_header": "s"})
    assert r.json() == {"user_agent": "ua", "x_token": "t", "strange_header": "s", "x_tag": []}
    assert fa_params.get("/headers").json()["detail"] == [
        {"type": "missing", "loc": ["header", "x-token"], "msg": "Field required", "input": None}]
    r = fa_params.get("/headers", headers=[("x-token", "a"), ("x-token", "b"), ("x-tag", "1"), ("x-tag", "2"),
                                           ("user-agent", "ua")])
    assert r.json()["x_token"] == "a" and r.json()["x_tag"] == ["1", "2"]
    assert fa_params.get("/headers/int", headers={"x-count": "-1"}).status_code == 422
    assert fa_params.get("/headers/int", headers={"x-count": "7"}).json() == {"x_count": 7}


def test_compat_cookies(fa_params) -> None:
    r = fa_params.get("/cookies", headers={"cookie": 'session=abc; theme="dark"; n=4'})
    assert r.json() == {"session": "abc", "theme": "dark", "n": 4}
    assert fa_params.get("/cookies").json()["detail"][0]["loc"] == ["cookie", "session"]
    assert fa_params.get("/cookies", headers={"cookie": "session=a; n=x"}).status_code == 422


ITEM = {"name": "widget", "price": 2.5}


@pytest.mark.parametrize("url, body", [
    ("/body/item", ITEM), ("/body/item", {"name": "w", "price": -1, "tags": "no"}), ("/body/item", [ITEM]),
    ("/body/item", None), ("/body/item", "text"), ("/body/item-async?q=z", ITEM), ("/body/item-async", {}),
    ("/body/multi/3", {"item": ITEM, "user": {"username": "u"}}),
    ("/body/multi/3", {"item": ITEM, "user": {"username": "u"}, "importance": 0}),
    ("/body/multi/x", {"item": ITEM}), ("/body/multi/3", [1]), ("/body/multi/3", ITEM),
    ("/body/embed", {"item": ITEM}), ("/body/embed", ITEM), ("/body/dict", {"1": 1.5, "2": 2}),
    ("/body/dict", {"x": 1}), ("/body/list", [ITEM, ITEM]), ("/body/list", [ITEM, {"name": 1}]),
    ("/body/list", {}), ("/body/optional", ITEM), ("/body/alias", {"itemName": "a"}), ("/body/alias", {"item_name": "a"}),
    ("/body/scalar", {"name": "n"}), ("/body/scalar", {"name": "n", "count": "x"}), ("/body/scalar", {}),
])
def test_compat_json_bodies(fa_params, url, body) -> None:
    fa_params.post(url, json=body) if not url.startswith("/body/multi") else fa_params.check("PUT", url, json=body)


@pytest.mark.parametrize("content, headers", [
    (b"", {}), (b"", {"content-type": "application/json"}), (b"{", {"content-type": "application/json"}),
    (b'{"name": "a",}', {"content-type": "application/json"}),
    (b'{"name": "a", "price": 1}', {"content-type": "text/plain"}),
    (b'{"name": "a", "price": 1}', {"content-type": "application/vnd.api+json; charset=utf-8"}),
    (b'{"name": "a", "price": 1}', {}),
])
def test_compat_raw_bodies(fa_params, content, headers) -> None:
    fa_params.post("/body/item", content=content, headers=headers)
    fa_params.post("/body/optional", content=content, headers=headers)
    fa_params.post("/body/embed", content=content, headers=headers)


def test_compat_request_and_response_injection(fa_params) -> None:
    assert fa_params.get("/inject/request/a?q=1").json() == {"item_id": "a", "method": "GET", "q": "1"}
    r = fa_params.get("/inject/cookie")
    assert r.headers["set-cookie"] == "fresh=cookie; Path=/; SameSite=lax"
    assert fa_params.post("/inject/status").status_code == 201
    assert fa_params.post("/inject/status?fail=true").status_code == 400


def test_compat_injected_response_headers(fa_params) -> None:
    r = fa_params.get("/inject/response")
    assert r.headers["x-extra"] == "yes" and "fresh=cookie" in r.headers["set-cookie"]


@pytest.mark.parametrize("url", ["/models/query", "/models/query?limit=5&offset=2&order_by=updated_at&tags=a&tags=b",
                                 "/models/query?limit=0&order_by=name", "/models/query?offset=-1&other=1",
                                 "/models/query-strict?q=a", "/models/query-strict?q=a&extra=1", "/models/query-strict"])
def test_compat_query_models(fa_params, url: str) -> None:
    r = fa_params.get(url)
    assert r.status_code in (200, 422)


def test_compat_header_and_cookie_models(fa_params) -> None:
    r = fa_params.get("/models/headers", headers=[("save-data", "true"), ("x-tag", "1"), ("x-tag", "2"),
                                                   ("if-modified-since", "yesterday")])
    assert r.json() == {"save_data": True, "x_tag": ["1", "2"], "ims": "yesterday"}
    r = fa_params.get("/models/headers", headers={"save-data": "perhaps"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "save-data"]
    assert fa_params.get("/models/cookies", headers={"cookie": "session_id=s; tracker=t"}).json() == {
        "session_id": "s", "tracker": "t"}
    r = fa_params.get("/models/cookies")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["cookie", "session_id"]


def test_compat_type_alias_annotations(fa_params) -> None:
    assert fa_params.get("/alias-type?n=3").json() == {"n": 3}
    assert fa_params.get("/alias-type?n=30").json()["detail"][0]["type"] == "less_than"


def test_compat_validation_alias(fa_params) -> None:
    assert fa_params.get("/validation-alias?item-id=3", headers={"x-h": "v"}).json() == {"item_id": 3, "h": "v"}
    assert fa_params.get("/validation-alias?item_id=3").json()["detail"][0]["loc"] == ["query", "item-id"]


# JSON bodies validated from their bytes (dependencies/json_body.py): what FastAPI's json.loads +
# validation gives, including every way the one-pass parse fails and the two steps do not.
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("content", [
    b'{"title": "t"}', b'{"title": "t", "score": 5, "count": "7", "anything": [1, 2.5, null, {"a": "\\u00e9"}]}',
    b'{"title": "t", "title": "u"}', b'{"title": "t", "anything": NaN}', b'{"title": "t", "anything": 1e400}',
    b'{"title": "t", "anything": 123456789012345678901234567890}', b'{"title": "t", "anything": -0}',
    b'{"title": "t", "count": 2.0, "score": true}', b'{"title": "t", "parent": {"title": "p", "parent": null}}',
    b'{"title": "t", "items": [{"name": "a", "price": 1}], "meta": {"k": {"x": [1]}}}',
    b'{"title": "\\ud83d\\ude00 caf\xc3\xa9"}', b' {"title": "t"}\n',
    # the one-pass parse refuses these; FastAPI's json.loads takes or reports them
    b'{"title": "t", "unknown": "\\ud800"}', b'\xef\xbb\xbf{"title": "bom"}', '{"title": "utf16"}'.encode("utf-16"),
    b'{"title": "t"} x', b'{"title": "\xff"}', b'{"title": ""}', b'{"title": "t", "count": 1.5}',
    b'{"title": "t", "items": [{"name": "a", "price": -1}]}', b'[]', b'null', b'"t"', b'{"title": "t",}', b'{',
])
def test_compat_json_bodies_from_bytes(fa_params, content: bytes) -> None:
    fa_params.post("/body/document", content=content, headers=JSON)
    fa_params.post("/body/document?x=1", content=content, headers={"content-type": "application/ld+json"})


@pytest.mark.parametrize("content", [b'{"amount": 1.10}', b'{"amount": 0.1, "when": "2020-01-02T03:04:05Z"}',
                                     b'{"amount": "x"}'])
def test_compat_json_bodies_validated_in_two_steps(fa_params, content: bytes) -> None:
    fa_params.post("/body/precise", content=content, headers=JSON)


def test_json_body_plan_validates_from_bytes_only_where_the_value_is_the_same() -> None:
    from fastcore.applications import FastAPI
    from fastcore.dependencies.solve import PreValidated
    from fastcore.handler import _body_from_bytes, read_json_body
    from tests.apps._ported import fa_params as ported

    plans = {r.path: r.compiled.plan for r in ported.app.routes if getattr(r, "compiled", None) is not None}
    assert isinstance(ported.app, FastAPI)
    for path in ("/body/document", "/body/item", "/body/list", "/body/dict"):
        assert _body_from_bytes(plans[path]) is not None, path
    for path in ("/body/precise", "/body/embed", "/body/scalar"):
        assert _body_from_bytes(plans[path]) is None, path
    from_bytes = _body_from_bytes(plans["/body/document"])
    body = read_json_body(b'{"title": "t"}', "application/json", from_bytes)
    assert type(body) is PreValidated and body.value.title == "t"
    assert read_json_body(b'{"title": ""}', "application/json", from_bytes) == {"title": ""}
    assert read_json_body(b'{"title": "t"}', "text/plain", from_bytes) == b'{"title": "t"}'

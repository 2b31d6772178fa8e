"""What a handler returns and what goes on the wire: plain values, bytes and Response classes
(python/fastcore/responses.py, datastructures.MutableHeaders, src/response/convert.rs)."""
from __future__ import annotations

import json
import re

import httpx
import pytest

import fastcore

from .apps import responses as cases_app
from .apps import values as app
from .conftest import ServerProcess


def strict_json(body: bytes):
    def reject(constant: str):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(body.decode("utf-8"), parse_constant=reject)


@pytest.mark.parametrize("name", sorted(app.PLAIN))
def test_plain_values_become_json(values: httpx.Client, name: str) -> None:
    r = values.get(f"/plain/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["content-length"] == str(len(r.content))
    # Same document as the standard library would produce (tuples as lists, keys as strings).
    assert strict_json(r.content) == json.loads(json.dumps(app.PLAIN[name]))


@pytest.mark.parametrize("name, raw", [
    ("str", b'"hello"'),
    ("empty_str", b'""'),
    ("int", b"42"),
    ("float", b"2.5"),
    ("true", b"true"),
    ("false", b"false"),
    ("none", b"null"),
    ("empty_dict", b"{}"),
    ("empty_list", b"[]"),
    ("tuple", b'[1,"x",[2,3]]'),
])
def test_scalar_bodies_are_exact(values: httpx.Client, name: str, raw: bytes) -> None:
    """A str is sent as a JSON string (as FastAPI does), None as null, and so on."""
    assert values.get(f"/plain/{name}").content == raw


def test_bytes_are_octet_stream(values: httpx.Client) -> None:
    r = values.get("/bytes")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.content == b"\x00\x01binary\xff\xfe"
    assert r.headers["content-length"] == "10"


def test_empty_bytes(values: httpx.Client) -> None:
    r = values.get("/empty-bytes")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "0"


def test_response_with_status_headers_and_media_type(values: httpx.Client) -> None:
    r = values.get("/response")
    assert r.status_code == 202
    assert r.content == b"<note>hi</note>"
    assert r.headers["content-type"] == "application/xml"
    assert r.headers["x-kind"] == "legacy"
    assert r.headers["content-length"] == "15"
    assert r.headers["server"] == f"fastcore/{fastcore.__version__}"


def test_text_media_type_gets_a_charset(values: httpx.Client) -> None:
    r = values.get("/response/text-media")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.text == "plain words"


def test_response_with_bytes_content(values: httpx.Client) -> None:
    r = values.get("/response/bytes")
    assert r.content == b"\xde\xad\xbe\xef"
    assert r.headers["content-type"] == "application/octet-stream"


def test_empty_204_response(values: httpx.Client) -> None:
    r = values.get("/response/empty")
    assert r.status_code == 204
    assert r.content == b""
    assert "content-type" not in r.headers


def test_response_without_media_type_has_no_content_type(values: httpx.Client) -> None:
    r = values.get("/response/no-media")
    assert r.text == "untyped"
    assert "content-type" not in r.headers


def test_handler_cannot_send_a_wrong_content_length(values: httpx.Client) -> None:
    r = values.get("/response/wrong-length")
    assert r.status_code == 200
    assert r.headers.get_list("content-length") == ["4"]
    assert r.content == b"four"


def test_set_cookie_headers(values: httpx.Client) -> None:
    r = values.get("/response/cookies")
    assert r.text == "cookies set"
    # Starlette's format (http.cookies' attribute order), checked against Starlette below.
    assert r.headers.get_list("set-cookie") == ["session=abc123; HttpOnly; Path=/; SameSite=lax",
                                                "theme=dark; Max-Age=60; Path=/"]
    assert dict(r.cookies) == {"session": "abc123", "theme": "dark"}


def test_json_response(values: httpx.Client) -> None:
    r = values.get("/json-response")
    assert r.status_code == 207
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-json"] == "yes"
    assert r.json() == {"created": True, "when": "2024-01-01", "name": "ü"}
    assert r.headers["content-length"] == str(len(r.content))


def test_plain_text_response(values: httpx.Client) -> None:
    r = values.get("/text-response")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.content == "Hello, Wörld!".encode()
    assert r.headers["content-length"] == str(len("Hello, Wörld!".encode()))


def test_html_response(values: httpx.Client) -> None:
    r = values.get("/html-response")
    assert r.status_code == 203
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "<h1>Hello</h1>"


def test_redirect_response(values: httpx.Client) -> None:
    r = values.get("/redirect")
    assert r.status_code == 307
    assert r.headers["location"] == "/plain/str"
    assert r.content == b""
    followed = values.get("/redirect", follow_redirects=True)
    assert followed.status_code == 200 and followed.json() == "hello"


def test_redirect_with_status(values: httpx.Client) -> None:
    r = values.get("/redirect-permanent")
    assert r.status_code == 301
    assert r.headers["location"] == "https://example.com/elsewhere"


def test_pydantic_model_return(values: httpx.Client) -> None:
    assert values.get("/fallback/model").json() == {
        "id": "12345678-1234-5678-1234-567812345678",
        "name": "Rex",
        "owner": {"name": "Ann", "since": "2019-01-01"},
        "tags": ["dog"],
    }


def test_list_of_models_return(values: httpx.Client) -> None:
    assert values.get("/fallback/models").json() == [{"name": "A", "since": "2000-01-01"},
                                                     {"name": "B", "since": "2001-02-03"}]


# -- Starlette's Response API: init_headers, MutableHeaders, cookies, redirects --------------------

# What Starlette 1.10 builds for each case of tests/apps/responses.py (raw headers, body, status),
# recorded from it; where Starlette is installed (the GIL venv) it is also compared live below.
STARLETTE = {
    "cookie-all": ([("content-length", "1"),
                    ("set-cookie", 'k="v w\\073x"; Domain=example.com; expires=Wed, 02 Jan 2030 03:04:05 GMT; '
                                   "HttpOnly; Max-Age=10; Path=/p; SameSite=strict; Secure")], b"c", 200),
    "cookie-expires-str": ([("content-length", "1"),
                            ("set-cookie", "k=v; expires=Thu, 01 Jan 2099 00:00:00 GMT; SameSite=none")], b"c", 200),
    "cookies": ([("content-length", "1"), ("set-cookie", "session=abc123; HttpOnly; Path=/; SameSite=lax"),
                 ("set-cookie", "theme=dark; Max-Age=60; Path=/")], b"c", 200),
    "delete-cookie": ([("content-length", "1"),
                       ("set-cookie", 'k=""; Domain=d.org; expires=<now>; Max-Age=0; Path=/x; SameSite=lax; Secure')],
                      b"c", 200),
    "given-length": ([("content-length", "1"), ("x-a", "1")], b"x", 200),
    "given-type": ([("content-type", "a/b"), ("content-length", "1")], b"x", 200),
    "html": ([("content-length", "3"), ("content-type", "text/html; charset=utf-8")], b"<p>", 200),
    "json": ([("content-length", "27"), ("content-type", "application/json")],
             b'{"a":"\xc3\xbc","b":[1,2.5,null]}', 200),
    "memoryview": ([("content-length", "3"), ("content-type", "application/x-thing")], b"bcd", 200),
    "mutate": ([("content-length", "1"), ("x-multi", "1"), ("x-multi", "2"), ("x-single", "s")], b"h", 200),
    "no-length-204": ([], b"", 204),
    "no-length-304": ([], b"", 304),
    "plain": ([("content-length", "2")], b"hi", 200),
    "plain-text": ([("content-length", "2"), ("content-type", "text/plain; charset=utf-8")], b"\xc3\xbc", 200),
    "redirect-abs": ([("x-r", "1"), ("content-length", "0"), ("location", "https://e.com/p%20q")], b"", 301),
    "redirect-quoted": ([("content-length", "0"), ("location", "/a%20b/%C3%BC?x=1&y=%C3%A4#f")], b"", 307),
    "set-dedups": ([("content-length", "1"), ("x-m", "3")], b"h", 200),
    "text-charset-given": ([("content-length", "2"), ("content-type", "text/csv; Charset=latin-1")], b"hi", 200),
    "text-csv": ([("content-length", "2"), ("content-type", "text/csv; charset=utf-8")], b"hi", 200),
    "vary-del": ([("content-length", "1"), ("vary", "a, b")], b"h", 200),
}

NOW = re.compile(r"expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT; Max-Age=0")


def normalised(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """delete_cookie's `expires` is the current time: replaced by a placeholder."""
    return [(k, NOW.sub("expires=<now>; Max-Age=0", v)) for k, v in headers]


def decoded(raw: list) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) if isinstance(k, bytes) else (k, v) for k, v in raw]


@pytest.mark.parametrize("name", sorted(STARLETTE))
def test_response_objects_match_starlette(name: str) -> None:
    from fastcore import responses

    r = cases_app.cases(responses)[name]
    assert (normalised(r.raw_headers), bytes(r.body), r.status_code) == STARLETTE[name]


def test_recorded_cases_are_starlette_s() -> None:
    """The recorded expectations above are what the installed Starlette builds today."""
    starlette = pytest.importorskip("starlette.responses")
    live = {name: (normalised(decoded(r.raw_headers)), bytes(r.body), r.status_code)
            for name, r in cases_app.cases(starlette).items()}
    assert live == STARLETTE


@pytest.mark.parametrize("name", sorted(set(STARLETTE) - {"no-length-204", "no-length-304"}))
def test_response_headers_on_the_wire(responses_server: ServerProcess, name: str) -> None:
    """What goes out is the raw header list in order, after `server` (and hyper's `date`)."""
    with responses_server.client() as c:
        r = c.get(f"/case/{name}")
    raw, body, status = STARLETTE[name]
    assert r.status_code == status
    assert r.content == body
    sent = [(k.decode(), v.decode("latin-1")) for k, v in r.headers.raw if k.lower() not in (b"server", b"date")]
    assert normalised(sent) == raw


@pytest.mark.parametrize("name", ["no-length-204", "no-length-304"])
def test_bodiless_statuses_on_the_wire(responses_server: ServerProcess, name: str) -> None:
    with responses_server.client() as c:
        r = c.get(f"/case/{name}")
    assert r.status_code == STARLETTE[name][2]
    assert r.content == b""
    assert "content-length" not in r.headers and "content-type" not in r.headers


def test_header_values_are_latin1(responses_server: ServerProcess) -> None:
    with responses_server.client() as c:
        r = c.get("/latin1")
    assert (b"x-name", "café".encode("latin-1")) in r.headers.raw


def test_invalid_header_value_is_a_500_not_a_broken_connection(responses_server: ServerProcess) -> None:
    with responses_server.client() as c:
        r = c.get("/bad-header")
        assert r.status_code == 500
        assert r.text == "Internal Server Error"
        assert c.get("/latin1").status_code == 200
    assert "invalid value for header x-bad" in responses_server.log()


def test_mutable_headers_api() -> None:
    from fastcore.datastructures import MutableHeaders

    raw = [("a", "1")]
    h = MutableHeaders(raw=raw)
    h["B"] = "2"
    h.append("b", "3")
    assert raw == [("a", "1"), ("b", "2"), ("b", "3")], "edits go to the list it wraps"
    assert h["b"] == "2" and h.getlist("B") == ["2", "3"] and "B" in h and "c" not in h
    assert len(h) == 3 and h.keys() == ["a", "b", "b"] and list(h) == ["a", "b", "b"]
    del h["b"]
    assert raw == [("a", "1")]
    assert h.setdefault("a", "x") == "1" and h.setdefault("c", "x") == "x"
    h |= {"a": "9"}
    assert raw == [("a", "9"), ("c", "x")]
    both = h | {"d": "4"}
    assert both.raw == [("a", "9"), ("c", "x"), ("d", "4")] and raw == [("a", "9"), ("c", "x")]
    assert MutableHeaders({"X-Y": "z"}).raw == [("x-y", "z")]
    assert h == MutableHeaders(raw=[("c", "x"), ("a", "9")])
    with pytest.raises(KeyError):
        h["nope"]

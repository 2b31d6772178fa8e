"""What a handler returns and what goes on the wire: plain values, bytes and Response classes."""
from __future__ import annotations

import json

import httpx
import pytest

from .apps import values as app


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
    assert r.headers["server"] == "fastcore"


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
    assert r.headers.get_list("set-cookie") == ["session=abc123; Path=/; HttpOnly; SameSite=lax",
                                                "theme=dark; Path=/; Max-Age=60"]
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

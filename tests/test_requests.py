"""What a sync handler sees: typed path params and the `Request` object."""
from __future__ import annotations

import json

import httpx
import pytest

from .conftest import ServerProcess, read_response


def test_method_url_and_path(routing: httpx.Client, routing_server: ServerProcess) -> None:
    r = routing.get("/inspect/some/where", params={"x": "1"})
    data = r.json()
    assert data["method"] == "GET"
    assert data["url"] == f"http://127.0.0.1:{routing_server.port}/inspect/some/where?x=1"
    assert data["path"] == "/inspect/some/where"
    assert data["tail"] == "some/where"
    assert data["path_params"] == {"tail": "some/where"}
    assert data["http_version"] == "1.1"


def test_path_is_percent_decoded_but_url_is_not(routing: httpx.Client, routing_server: ServerProcess) -> None:
    data = routing.get("/inspect/caf%C3%A9%20au%20lait").json()
    assert data["path"] == "/inspect/café au lait"
    assert data["tail"] == "café au lait"
    assert data["url"] == f"http://127.0.0.1:{routing_server.port}/inspect/caf%C3%A9%20au%20lait"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_method_is_reported(routing: httpx.Client, method: str) -> None:
    assert routing.request(method, "/inspect/m").json()["method"] == method


def test_query_params_keep_every_value_in_order(routing: httpx.Client) -> None:
    data = routing.get("/inspect/q?a=1&b=&a=2&c=x%20y&d=%C3%A9&e=1%2B1&plus=a+b").json()
    assert data["query"] == [["a", "1"], ["b", ""], ["a", "2"], ["c", "x y"], ["d", "é"], ["e", "1+1"],
                             ["plus", "a b"]]
    # Mapping access gives the last value of a repeated key.
    assert data["query_last"] == {"a": "2", "b": "", "c": "x y", "d": "é", "e": "1+1", "plus": "a b"}


def test_no_query_string(routing: httpx.Client, routing_server: ServerProcess) -> None:
    data = routing.get("/inspect/plain").json()
    assert data["query"] == [] and data["query_last"] == {}
    assert data["url"] == f"http://127.0.0.1:{routing_server.port}/inspect/plain"


def test_headers_are_case_insensitive_and_multi_valued(routing: httpx.Client) -> None:
    r = routing.get("/inspect/h", headers=[("X-Tag", "first"), ("x-tag", "second"), ("User-Agent", "probe/1.0")])
    data = r.json()
    assert data["header_tags"] == ["first", "second"]
    assert data["user_agent"] == "probe/1.0"


def test_header_values_are_decoded_as_latin1(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        sock.sendall(b"GET /inspect/l HTTP/1.1\r\nHost: t\r\nX-Latin1: caf\xe9 \xb5\r\n\r\n")
        resp = read_response(sock.makefile("rb"))
    assert resp.status == 200
    assert json.loads(resp.body)["latin1"] == "café µ"


def test_cookies(routing: httpx.Client) -> None:
    data = routing.get("/inspect/c", headers={"Cookie": 'session=abc123; theme="dark"; empty=; flag'}).json()
    # Starlette's cookie_parser: a chunk without "=" is a value with an empty name, as browsers read it.
    assert data["cookies"] == {"session": "abc123", "theme": "dark", "empty": "", "": "flag"}


def test_no_cookies(routing: httpx.Client) -> None:
    assert routing.get("/inspect/c").json()["cookies"] == {}


def test_client_address_is_the_peer(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        sock.sendall(b"GET /inspect/peer HTTP/1.1\r\nHost: t\r\n\r\n")
        resp = read_response(sock.makefile("rb"))
        host, port = sock.getsockname()
    assert json.loads(resp.body)["client"] == [host, port]


def test_body_bytes(routing: httpx.Client) -> None:
    payload = bytes(range(256)) * 4
    data = routing.post("/inspect/b", content=payload).json()
    assert data["body_len"] == len(payload)
    assert data["body"].encode("latin-1") == payload


def test_empty_body(routing: httpx.Client) -> None:
    data = routing.post("/inspect/b").json()
    assert data["body_len"] == 0 and data["body"] == ""


def test_chunked_request_body(routing: httpx.Client) -> None:
    def chunks():
        yield b"hello "
        yield b"chunked "
        yield b"world"

    data = routing.post("/inspect/chunked", content=chunks()).json()
    assert data["body"] == "hello chunked world"


def test_http10_version_is_reported(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        sock.sendall(b"GET /inspect/v HTTP/1.0\r\nHost: legacy\r\n\r\n")
        resp = read_response(sock.makefile("rb"))
    data = json.loads(resp.body)
    assert data["http_version"] == "1.0"
    assert data["url"] == "http://legacy/inspect/v"


def test_concurrent_requests_see_their_own_request(routing_server: ServerProcess) -> None:
    """Two worker threads, many clients: every handler must see exactly its own request."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> None:
        with routing_server.client() as c:
            for j in range(10):
                tag = f"{i}-{j}"
                data = c.post(f"/inspect/{tag}?n={tag}", content=tag.encode(), headers={"X-Tag": tag}).json()
                assert (data["tail"], data["query_last"], data["body"], data["header_tags"]) == (
                    tag, {"n": tag}, tag, [tag])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(8)))

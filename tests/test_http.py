"""HTTP/1.1 on the wire: keep-alive, pipelining, framing headers, HEAD, HTTP/1.0 and Connection: close.

httpx hides connection handling, so the protocol-level checks write requests to a raw socket and
parse the responses themselves (tests/conftest.py:read_response).
"""
from __future__ import annotations

import datetime
import email.utils
import json
import re
import socket

import httpx
import pytest

import fastcore

from .conftest import RawResponse, ServerProcess, read_response

IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                         r"\d{4} \d{2}:\d{2}:\d{2} GMT$")


def get(path: str, *, host: str = "test", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def closed_by_server(sock: socket.socket) -> bool:
    """True if the server closed the connection (EOF), False if it is still open after a while."""
    sock.settimeout(2)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


# -- keep-alive ---------------------------------------------------------------------------------

def test_keep_alive_reuses_one_connection(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        stream = sock.makefile("rb")
        local_port = sock.getsockname()[1]
        for i in range(5):
            sock.sendall(get("/client"))
            resp = read_response(stream)
            assert resp.status == 200
            assert json.loads(resp.body) == {"host": "127.0.0.1", "port": local_port}, f"request {i}"
            assert resp.header("connection") != "close"
        sock.sendall(get("/users/5"))
        assert json.loads(read_response(stream).body) == {"user_id": 5, "type": "int"}


def test_httpx_client_keeps_its_connection(routing: httpx.Client, routing_server: ServerProcess) -> None:
    ports = {routing.get("/client").json()["port"] for _ in range(6)}
    assert len(ports) == 1, f"one keep-alive client used several connections: {ports}"
    with routing_server.client() as other:
        other_port = other.get("/client").json()["port"]
    assert other_port not in ports, "a second client must arrive on its own connection"


# -- pipelining ---------------------------------------------------------------------------------

def test_pipelined_requests_are_answered_in_order(routing_server: ServerProcess) -> None:
    paths = ["/users/1", "/names/second", "/prices/3.5", "/files/a/b", "/nope", "/users/abc", "/"]
    with routing_server.connect() as sock:
        sock.sendall(b"".join(get(p) for p in paths))  # one write, several requests
        stream = sock.makefile("rb")
        responses = [read_response(stream) for _ in paths]
    assert [r.status for r in responses] == [200, 200, 200, 200, 404, 422, 200]
    assert json.loads(responses[0].body) == {"user_id": 1, "type": "int"}
    assert json.loads(responses[1].body) == {"name": "second", "type": "str"}
    assert json.loads(responses[2].body) == {"price": 3.5, "type": "float"}
    assert json.loads(responses[3].body) == {"rest": "a/b"}
    assert json.loads(responses[4].body) == {"detail": "Not Found"}
    assert json.loads(responses[5].body)["detail"][0]["loc"] == ["path", "user_id"]
    assert json.loads(responses[6].body) == {"route": "root"}


def test_pipelined_requests_with_bodies(routing_server: ServerProcess) -> None:
    first = b"first body"
    second = "zweiter Körper".encode()
    data = (b"POST /inspect/one HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(first), first)
            + b"PUT /inspect/two HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(second), second)
            + get("/inspect/three"))
    with routing_server.connect() as sock:
        sock.sendall(data)
        stream = sock.makefile("rb")
        bodies = [json.loads(read_response(stream).body) for _ in range(3)]
    assert [(b["method"], b["tail"], b["body"].encode("latin-1")) for b in bodies] == [
        ("POST", "one", first), ("PUT", "two", second), ("GET", "three", b"")]


# -- framing and standard headers ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/sized/0", "/sized/1", "/sized/100000", "/names/%C3%A9t%C3%A9%F0%9F%9A%80",
                                  "/nope", "/users/abc"])
def test_content_length_matches_body(routing_server: ServerProcess, path: str) -> None:
    with routing_server.connect() as sock:
        sock.sendall(get(path))
        resp = read_response(sock.makefile("rb"))
    assert resp.header("transfer-encoding") is None
    assert resp.header("content-length") == str(len(resp.body))


def test_large_response_is_complete(routing: httpx.Client) -> None:
    r = routing.get("/sized/1000000")
    assert r.status_code == 200
    assert r.headers["content-length"] == str(1000000 + 2)
    assert r.json() == "x" * 1000000


@pytest.mark.parametrize("method, path, status", [("GET", "/", 200), ("GET", "/nope", 404), ("POST", "/only-get", 405),
                                                  ("GET", "/users/abc", 422), ("POST", "/multi", 200)])
def test_server_and_date_headers(routing: httpx.Client, method: str, path: str, status: int) -> None:
    r = routing.request(method, path)
    assert r.status_code == status
    assert r.headers.get_list("server") == [f"fastcore/{fastcore.__version__}"]
    dates = r.headers.get_list("date")
    assert len(dates) == 1 and IMF_FIXDATE.match(dates[0]), dates
    sent = email.utils.parsedate_to_datetime(dates[0])
    assert sent.tzinfo is not None
    # The header carries the current time, not, say, the start-up time (a generous window).
    assert abs(sent - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(minutes=10)


# -- HEAD ---------------------------------------------------------------------------------------

def head_on_the_wire(server: ServerProcess, path: str) -> tuple[RawResponse, RawResponse]:
    """Sends GET `path`, then HEAD `path` and a sentinel GET pipelined behind it, on one
    connection. The sentinel's response parses only if the HEAD response carried no body bytes."""
    with server.connect() as sock:
        stream = sock.makefile("rb")
        sock.sendall(get(path))
        got = read_response(stream)
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode() + get("/users/9"))
        head = read_response(stream, head=True)
        after = read_response(stream)
    assert after.status == 200 and json.loads(after.body) == {"user_id": 9, "type": "int"}, after
    return got, head


@pytest.mark.parametrize("path", ["/", "/users/7", "/sized/12345", "/files/x/y.txt"])
def test_head_has_get_headers_and_no_body(routing_server: ServerProcess, path: str) -> None:
    got, head = head_on_the_wire(routing_server, path)
    assert head.status == got.status == 200
    assert got.body, "the GET has a body, which the HEAD must leave out"
    assert head.header("content-length") == got.header("content-length") == str(len(got.body))
    assert head.header("content-type") == got.header("content-type")
    assert head.header("server") == f"fastcore/{fastcore.__version__}"


def test_head_sends_no_body_bytes_on_the_wire(routing_server: ServerProcess) -> None:
    # If a HEAD response carried a body, the next pipelined response would not parse.
    with routing_server.connect() as sock:
        sock.sendall(b"HEAD /sized/500 HTTP/1.1\r\nHost: t\r\n\r\n" + get("/users/9"))
        stream = sock.makefile("rb")
        head = read_response(stream, head=True)
        after = read_response(stream)
    assert head.status == 200
    assert head.header("content-length") == str(500 + 2)
    assert after.status == 200 and json.loads(after.body) == {"user_id": 9, "type": "int"}


def test_head_on_unknown_and_wrong_method_routes(routing_server: ServerProcess) -> None:
    got, missing = head_on_the_wire(routing_server, "/nope")
    assert missing.status == got.status == 404 and got.body
    got, post_only = head_on_the_wire(routing_server, "/only-post")
    assert post_only.status == got.status == 405 and got.body
    assert post_only.header("allow") == "POST"


# -- connection management ----------------------------------------------------------------------

def test_http10_request_is_answered_and_closed(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        sock.sendall(b"GET /inspect/old HTTP/1.0\r\n\r\n")
        stream = sock.makefile("rb")
        resp = read_response(stream)
        assert resp.status == 200
        assert json.loads(resp.body)["http_version"] == "1.0"
        assert stream.read() == b"", "an HTTP/1.0 connection without keep-alive must be closed"


def test_http10_keep_alive_is_honoured(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        stream = sock.makefile("rb")
        for n in (1, 2):
            sock.sendall(b"GET /users/%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % n)
            resp = read_response(stream)
            assert resp.status == 200 and json.loads(resp.body)["user_id"] == n
            assert resp.header("connection") == "keep-alive"


def test_connection_close_is_honoured(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        sock.sendall(get("/users/3", extra="Connection: close\r\n"))
        resp = read_response(sock.makefile("rb"))
        assert resp.status == 200
        assert resp.header("connection") == "close"
        assert closed_by_server(sock)


def test_http11_connection_stays_open_after_a_response(routing_server: ServerProcess) -> None:
    with routing_server.connect() as sock:
        sock.sendall(get("/users/3"))
        assert read_response(sock.makefile("rb")).status == 200
        assert not closed_by_server(sock)


@pytest.mark.parametrize("junk", [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                                  b"\x00\x01\x02\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"])
def test_malformed_request_gets_400_and_a_close(routing_server: ServerProcess, routing: httpx.Client,
                                                junk: bytes) -> None:
    with routing_server.connect() as sock:
        sock.sendall(junk)
        resp = read_response(sock.makefile("rb"))
        assert resp.status == 400, resp
        assert closed_by_server(sock)
    assert routing.get("/").json() == {"route": "root"}

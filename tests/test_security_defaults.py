"""Security defaults (NOTES.md, "Security defaults"): CR/LF can never reach a response head
(src/response/convert.rs refuses such names and values; the handler's answer becomes a 500),
and a failing handler's traceback and message stay in the server log, never in the response.
App: tests/apps/security_headers.py."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.conftest import ServerFactory, ServerProcess


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("security"))
    yield factory("security_headers", "--threads", "2")
    problems = factory.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/crlf-value", "/lf-value", "/crlf-name", "/crlf-bytes", "/crlf-redirect",
                                  "/crlf-cookie"])
def test_crlf_never_reaches_the_response_head(srv: ServerProcess, path: str) -> None:
    with srv.connect() as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    # Refused outright (a 500), or made harmless by the response class (Starlette quotes a
    # redirect's URL and a cookie's value): either way no injected header line.
    assert not any(line.startswith(b"set-cookie: injected") for line in lines), data
    assert all(b"\r" not in line for line in lines), data
    if path in ("/crlf-value", "/lf-value", "/crlf-name", "/crlf-bytes"):
        assert head.startswith(b"http/1.1 500"), data
    with srv.client() as c:
        assert c.get("/whoami").status_code == 200


@pytest.mark.parametrize("path", ["/boom", "/boom-async"])
def test_no_traceback_or_message_reaches_the_client(srv: ServerProcess, path: str) -> None:
    with srv.client() as c:
        r = c.get(path)
    assert r.status_code == 500
    assert r.text == "Internal Server Error"
    for leak in ("Traceback", "secret", "/srv/app", "password", ".py", "RuntimeError", "KeyError"):
        assert leak not in r.text and leak not in str(r.headers)
    srv.wait_for_log("Traceback")  # it is in the log


def client_seen(srv: ServerProcess, *headers: str) -> dict:
    with srv.connect() as sock, sock.makefile("rb") as stream:
        extra = "".join(h + "\r\n" for h in headers)
        sock.sendall(f"GET /client HTTP/1.1\r\nHost: example.com\r\n{extra}\r\n".encode())
        from tests.conftest import read_response
        import json
        return json.loads(read_response(stream).body)


SPOOF = ("X-Forwarded-For: 6.6.6.6, 5.5.5.5", "X-Forwarded-Proto: https")


def test_forwarded_headers_ignored_by_default(srv: ServerProcess) -> None:
    """No --forwarded-allow-ips: a client cannot pose as another address or as https."""
    seen = client_seen(srv, *SPOOF)
    assert seen["client"][0] == "127.0.0.1" and seen["client"][1] > 0
    assert seen["scheme"] == "http"


def test_forwarded_headers_from_a_trusted_proxy(server: ServerFactory) -> None:
    srv = server("security_headers", "--forwarded-allow-ips", "127.0.0.1")
    seen = client_seen(srv, *SPOOF)
    assert seen == {"client": ["5.5.5.5", 0], "scheme": "https", "url": "https://example.com/client"}
    # without the headers: the peer itself
    assert client_seen(srv)["client"][0] == "127.0.0.1"


def test_forwarded_headers_from_an_untrusted_peer(server: ServerFactory) -> None:
    srv = server("security_headers", "--forwarded-allow-ips", "10.0.0.0/8, 192.168.0.1")
    seen = client_seen(srv, *SPOOF)
    assert seen["client"][0] == "127.0.0.1" and seen["scheme"] == "http"


def test_forwarded_allow_ips_is_checked(server: ServerFactory) -> None:
    from fastcore import FastCore
    from fastcore._core import Server
    with pytest.raises(ValueError, match="not an IP"):
        Server(FastCore().core, "127.0.0.1", 0, 1, forwarded_allow_ips="localhost")

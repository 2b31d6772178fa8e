"""A corpus of malformed and hostile requests sent over plain sockets, each with the answer it
must get (a status, or "close": the connection closed without one). hyper parses the request
head and the body framing; fastcore routes, decodes and answers what hyper lets through
(src/dispatch/serve.rs, src/routing/, src/request/). Nothing may give a 500, hang past the
timeouts, or take a worker down: after the corpus every worker thread still answers.
App: tests/apps/malformed.py, served with 1-2 s header and body timeouts."""
from __future__ import annotations

import socket
import time
from typing import Iterator, Union

import pytest

from tests.conftest import ServerFactory, ServerProcess, clients_on_each_worker

Expected = Union[int, str, tuple]
H = b"Host: x\r\n"


def req(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def chunked(path: bytes, chunks: bytes, *headers: bytes) -> bytes:
    return req(b"POST " + path + b" HTTP/1.1", b"Host: x", b"Transfer-Encoding: chunked", *headers, body=chunks)


def cl(path: bytes, n: bytes, body: bytes, *headers: bytes) -> bytes:
    return req(b"POST " + path + b" HTTP/1.1", b"Host: x", b"Content-Length: " + n, *headers, body=body)


GET = b"GET /whoami HTTP/1.1"
LONG = b"a" * 10_000

# (name, bytes sent, expected). A "+eof" in the name: the client shuts down its sending side
# after the bytes (an early close).
CORPUS: list[tuple[str, bytes, Expected]] = [
    # -- request lines and versions
    ("garbage line", b"GARBAGE\r\n\r\n", 400),
    ("method only", b"GET\r\n\r\n", 400),
    ("http/0.9 request", b"GET /whoami\r\n\r\n", 400),
    ("version 1.2", req(b"GET /whoami HTTP/1.2", b"Host: x"), 400),
    ("version 2.0", req(b"GET /whoami HTTP/2.0", b"Host: x"), 400),
    ("version 3", req(b"GET /whoami HTTP/3", b"Host: x"), 400),
    ("lowercase version", req(b"GET /whoami http/1.1", b"Host: x"), 400),
    ("double space", req(b"GET  /whoami HTTP/1.1", b"Host: x"), 400),
    ("tab separator", req(b"GET\t/whoami HTTP/1.1", b"Host: x"), 400),
    ("bad method token", req(b"G@T /whoami HTTP/1.1", b"Host: x"), 400),
    ("space in target", req(b"GET /who ami HTTP/1.1", b"Host: x"), 400),
    ("lowercase method", req(b"get /whoami HTTP/1.1", b"Host: x"), 405),
    ("unknown method", req(b"BREW /whoami HTTP/1.1", b"Host: x"), 405),
    ("leading empty line", b"\r\n" + req(GET, b"Host: x"), 200),
    ("bare LF line ends", b"GET /whoami HTTP/1.1\nHost: x\n\n", 200),
    ("bare CR line ends", b"GET /whoami HTTP/1.1\rHost: x\r\r", 400),
    ("HTTP/1.0 without Host", req(b"GET /whoami HTTP/1.0"), 200),
    ("HTTP/1.1 without Host", req(GET), 200),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "close"),  # hyper spots h2 and closes
    ("TLS client hello", bytes.fromhex("160301002c010000280303") + b"\x00" * 40, 400),
    ("nothing, then close+eof", b"", "close"),
    ("empty line, then close+eof", b"\r\n", "close"),
    ("head cut short+eof", b"GET /whoami HTTP/1.1\r\nHost: x\r\n", "close"),
    # -- header names and values
    ("space in header name", req(GET, H.strip(), b"Bad Header: v"), 400),
    ("header without colon", req(GET, H.strip(), b"NoColon"), 400),
    ("empty header name", req(GET, H.strip(), b": v"), 400),
    ("non-token in name", req(GET, H.strip(), b"X(y): v"), 400),
    ("space before colon", req(GET, b"Host : x"), 400),
    ("obs-fold", req(GET, H.strip(), b"X-A: a", b" folded"), 400),
    ("obs-fold first line", b"GET /whoami HTTP/1.1\r\n Host: x\r\n\r\n", 400),
    ("NUL in header value", req(GET, H.strip(), b"X-A: a\x00b"), 400),
    ("NUL in header name", req(GET, H.strip(), b"X-\x00A: v"), 400),
    ("CR in header value", req(GET, H.strip(), b"X-A: a\rb"), 400),
    ("DEL in header value", req(GET, H.strip(), b"X-A: a\x7fb"), 400),
    ("obs-text in header value", req(GET, H.strip(), b"X-A: \xff\xfe"), 200),
    ("two Host headers", req(GET, b"Host: a", b"Host: b"), 200),
    ("huge header", req(GET, H.strip(), b"X-Big: " + b"a" * 20_000), 431),
    ("too many headers", req(GET, H.strip(), *[b"X-%d: v" % i for i in range(150)]), 431),
    ("Upgrade h2c ignored", req(GET, H.strip(), b"Connection: Upgrade, HTTP2-Settings", b"Upgrade: h2c",
                                b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"), 200),
    # -- framing and request smuggling shapes
    # RFC 9112 6.3: chunked framing wins and the connection closes after the response (hyper's
    # way; test_smuggled_request_is_never_answered checks the close).
    ("CL and TE together", chunked(b"/echo", b"5\r\nhello\r\n0\r\n\r\n", b"Content-Length: 5"), 200),
    ("TE and CL together", req(b"POST /echo HTTP/1.1", H.strip(), b"Content-Length: 5",
                               b"Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n"), 200),
    ("duplicate equal CL", cl(b"/echo", b"5", b"hello", b"Content-Length: 5"), 200),
    ("conflicting CL", cl(b"/echo", b"5", b"hello", b"Content-Length: 6"), 400),
    ("CL list equal", cl(b"/echo", b"5, 5", b"hello"), 400),  # stricter than RFC 9110 allows
    ("CL list conflicting", cl(b"/echo", b"5, 6", b"hello"), 400),
    ("negative CL", cl(b"/echo", b"-1", b""), 400),
    ("plus-signed CL", cl(b"/echo", b"+5", b"hello"), 400),
    ("hex CL", cl(b"/echo", b"0x5", b"hello"), 400),
    ("overflowing CL", cl(b"/echo", b"99999999999999999999999", b""), 400),
    ("CL with inner space", cl(b"/echo", b"5 5", b"hello"), 400),
    ("empty CL", cl(b"/echo", b"", b""), 400),
    ("TE gzip only", req(b"POST /echo HTTP/1.1", H.strip(), b"Transfer-Encoding: gzip", body=b"hello"), 400),
    ("TE chunked then gzip", req(b"POST /echo HTTP/1.1", H.strip(), b"Transfer-Encoding: chunked, gzip",
                                 body=b"5\r\nhello\r\n0\r\n\r\n"), 400),
    ("TE xchunked", req(b"POST /echo HTTP/1.1", H.strip(), b"Transfer-Encoding: xchunked",
                        body=b"5\r\nhello\r\n0\r\n\r\n"), 400),
    ("TE on HTTP/1.0", req(b"POST /echo HTTP/1.0", H.strip(), b"Transfer-Encoding: chunked",
                           body=b"5\r\nhello\r\n0\r\n\r\n"), 400),
    ("TE Chunked, any case", req(b"POST /echo HTTP/1.1", H.strip(), b"Transfer-Encoding: Chunked",
                                 body=b"5\r\nhello\r\n0\r\n\r\n"), 200),
    ("CL on GET is a body", req(GET, H.strip(), b"Content-Length: 5", body=b"hello"), 200),
    # -- chunked bodies
    ("chunk size not hex", chunked(b"/echo", b"zz\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk size overflow", chunked(b"/echo", b"ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 400),
    ("negative chunk size", chunked(b"/echo", b"-5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk longer than size", chunked(b"/echo", b"3\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk without CRLF", chunked(b"/echo", b"5\r\nhello0\r\n\r\n"), 400),
    ("chunk extension", chunked(b"/echo", b"5;name=value\r\nhello\r\n0\r\n\r\n"), 200),
    ("trailer fields", chunked(b"/echo", b"5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n"), 200),
    ("async: chunk size not hex", chunked(b"/echo-async", b"zz\r\nhello\r\n0\r\n\r\n"), 400),
    ("truncated chunk, stalled", chunked(b"/echo", b"a\r\nhel"), 408),
    ("no last chunk, stalled", chunked(b"/echo", b"5\r\nhello\r\n"), 408),
    ("async: truncated chunk, stalled", chunked(b"/echo-async", b"a\r\nhel"), 408),
    ("truncated chunk+eof", chunked(b"/echo", b"a\r\nhel"), 400),
    ("async: truncated chunk+eof", chunked(b"/echo-async", b"a\r\nhel"), 400),
    # -- an early close mid-body, and bodies of the wrong length
    ("close mid-body+eof", cl(b"/echo", b"100", b"x" * 10), 400),
    ("async: close mid-body+eof", cl(b"/echo-async", b"100", b"x" * 10), 400),
    ("CL longer than body, stalled", cl(b"/echo", b"100", b"x" * 10), 408),
    ("CL shorter than body", cl(b"/echo", b"2", b"hello"), 200),
    ("POST without length", req(b"POST /echo HTTP/1.1", H.strip()), 200),
    # -- targets: length, encoding, forms
    ("URI over max_uri", req(b"GET /q?a=" + LONG + b" HTTP/1.1", H.strip()), 414),
    ("URI over the head limit", req(b"GET /q?a=" + LONG * 7 + b" HTTP/1.1", H.strip()), 431),
    ("bad percent-encoding in path", req(b"GET /p/%zz HTTP/1.1", H.strip()), 200),
    ("percent-encoded invalid UTF-8 in path", req(b"GET /p/%ff%fe HTTP/1.1", H.strip()), 200),
    ("percent-encoded NUL in path", req(b"GET /p/%00 HTTP/1.1", H.strip()), 200),
    ("raw invalid UTF-8 in path", req(b"GET /p/\xff\xfe HTTP/1.1", H.strip()), 400),
    ("raw NUL in path", req(b"GET /p/\x00 HTTP/1.1", H.strip()), 400),
    ("bad percent-encoding in query", req(b"GET /q?a=%zz&b=%ff&%=1 HTTP/1.1", H.strip()), 200),
    ("raw invalid UTF-8 in query", req(b"GET /q?a=\xff HTTP/1.1", H.strip()), 400),
    ("int param overflow", req(b"GET /n/99999999999999999999999999 HTTP/1.1", H.strip()), 422),
    ("int param not a number", req(b"GET /n/abc HTTP/1.1", H.strip()), 422),
    ("dot segments", req(b"GET /../../etc/passwd HTTP/1.1", H.strip()), 404),
    ("encoded dot segments", req(b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1", H.strip()), 404),
    ("double slash", req(b"GET //whoami HTTP/1.1", H.strip()), 404),
    ("fragment in target", req(b"GET /whoami#frag HTTP/1.1", H.strip()), 200),
    ("origin-form without slash", req(b"GET whoami HTTP/1.1", H.strip()), 404),  # read as authority-form
    ("absolute-form", req(b"GET http://example.com/whoami HTTP/1.1", H.strip()), 200),
    ("absolute-form with port and query", req(b"GET https://example.com:8443/q?a=1 HTTP/1.1", H.strip()), 200),
    ("authority-form on GET", req(b"GET example.com:80 HTTP/1.1", H.strip()), 404),
    ("CONNECT", req(b"CONNECT example.com:443 HTTP/1.1", b"Host: example.com:443"), 404),
    ("OPTIONS *", req(b"OPTIONS * HTTP/1.1", H.strip()), 404),
    ("asterisk on GET", req(b"GET * HTTP/1.1", H.strip()), 404),
]


def send(host: str, port: int, data: bytes, eof: bool = False, timeout: float = 6.0) -> Union[int, str]:
    """Sends `data`; returns the status of the first response, or "close" if the connection
    closed (or was reset) without one, or "timeout" if nothing came in `timeout` seconds."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if eof:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            pass
    if not received:
        return "close"
    assert received[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 "), received[:100]
    return int(received[9:12])


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("malformed"))
    yield factory("malformed", "--threads", "2", "--timeout-header", "2", "--timeout-body", "1")
    problems = factory.close()
    assert not problems, "\n".join(problems)


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 60
    assert len({name for name, _, _ in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("name,data,expected", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed(srv: ServerProcess, name: str, data: bytes, expected: Expected) -> None:
    started = time.monotonic()
    got = send(srv.host, srv.port, data, eof="+eof" in name)
    assert got == expected, f"{name}: expected {expected}, got {got}"
    assert time.monotonic() - started < 5


def test_smuggled_request_is_never_answered(srv: ServerProcess) -> None:
    """CL+TE with a second request hidden after the chunked body: the body is read as chunked
    (empty), the response says `Connection: close`, and the hidden request is never answered."""
    hidden = b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + hidden
    data = req(b"POST /echo HTTP/1.1", H.strip(), b"Content-Length: %d" % len(body),
               b"Transfer-Encoding: chunked", body=body)
    with srv.connect() as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 ") == 1, received
    assert received.startswith(b"HTTP/1.1 200") and b"connection: close" in received.lower(), received
    assert b'{"size":0}' in received


def test_every_worker_alive_after_the_corpus(srv: ServerProcess) -> None:
    for _, data, _ in CORPUS:
        send(srv.host, srv.port, data, timeout=0.5)  # without waiting for the slow ones
    with clients_on_each_worker(srv, per_worker=1, workers=2) as by_worker:
        for clients in by_worker.values():
            for c in clients:
                assert c.post("/echo", content=b"abc").json() == {"size": 3}
    assert "panicked" not in srv.log() and "Traceback" not in srv.log(), srv.log()

"""fastcore.http end to end: a fastcore app (tests/apps/http_client_app.py) whose async handlers
call a real upstream HTTP server through fastcore.http.

The upstream is a `ThreadingHTTPServer` in this test process, speaking HTTP/1.1 keep-alive; the
fastcore app runs as a subprocess (two workers) and learns the upstream's URL from
FASTCORE_TEST_UPSTREAM.
"""
from __future__ import annotations

import json
import select
import signal
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qsl

import httpx
import pytest

import fastcore
from fastcore.http import ConnectError, HTTPError, HTTPStatusError, Response
from fastcore.http import TimeoutError as HTTPTimeoutError

from .conftest import ServerFactory, ServerProcess, free_port, wait_until

UPSTREAM_ENV = "FASTCORE_TEST_UPSTREAM"
JSON_DOC = {"hello": "world", "items": [1, 2, 3], "nested": {"ok": True, "pi": 3.25}}

_barriers: dict[str, threading.Barrier] = {}
_held: dict[str, str] = {}  # /hold?tag=...: "waiting", then "closed" when the client hung up
_barriers_lock = threading.Lock()


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's pool is exercised

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              extra: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra or []:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj: object, status: int = 200, extra: list[tuple[str, str]] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), extra=extra)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        q = dict(parse_qsl(query))
        if path == "/json":
            self._json(JSON_DOC, extra=[("X-Upstream", "yes")])
        elif path == "/headers":
            seen = {k.lower(): v for k, v in self.headers.items()}
            self._json({"seen": seen}, extra=[("X-Reply", q.get("marker", "")), ("X-Multi", "a"), ("X-Multi", "b")])
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._json({"code": code}, status=code)
        elif path == "/slow":
            time.sleep(int(q["ms"]) / 1000)
            self._json({"slept": int(q["ms"])})
        elif path == "/barrier":
            with _barriers_lock:
                barrier = _barriers.setdefault(q["round"], threading.Barrier(2, timeout=5))
            try:
                barrier.wait()
                passed = True
            except threading.BrokenBarrierError:
                passed = False
            self._json({"tag": q["tag"], "passed": passed})
        elif path == "/hold":
            self._hold(q["tag"])
        elif path == "/peer":
            self._json({"port": self.client_address[1]})
        elif path == "/latin1":
            self._send(200, "café olé".encode("latin-1"), content_type="text/plain; charset=iso-8859-1")
        else:
            self._json({"detail": "not found"}, status=404)

    def _hold(self, tag: str) -> None:
        """Answers nothing; records whether the client closed the connection within 10 s."""
        _held[tag] = "waiting"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                _held[tag] = "closed"
                self.close_connection = True
                return
        _held[tag] = "still open"
        self._json({"held": tag})

    def _echo(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        self._json({"method": self.command, "path": self.path, "content_type": self.headers.get("Content-Type"),
                    "body": body.decode("utf-8", "replace"), "json": parsed,
                    "x_client": self.headers.get("X-Client")})

    do_POST = do_PUT = do_PATCH = do_DELETE = _echo


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and left makes the late write fail; that is expected


class QuietServer6(QuietServer):
    address_family = socket.AF_INET6


def localhost_addresses() -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)}


def bind_upstream() -> list[QuietServer]:
    """The upstream on 127.0.0.1 and, for every other address `localhost` resolves to (::1 on
    many machines, often first), on that address with the same port, so that a request to
    localhost reaches this upstream whichever address the client tries."""
    extra = sorted(localhost_addresses() - {"127.0.0.1"})
    assert set(extra) <= {"::1"}, f"localhost resolves to {extra}, which this fixture cannot serve"
    for _ in range(20):
        servers = [QuietServer(("127.0.0.1", 0), Upstream)]
        try:
            for host in extra:
                servers.append(QuietServer6((host, servers[0].server_address[1]), Upstream))
        except OSError:  # that port is taken on ::1: try another
            for srv in servers:
                srv.server_close()
            continue
        return servers
    raise RuntimeError("no port free on every address of localhost")


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    servers = bind_upstream()
    threads = [threading.Thread(target=srv.serve_forever, name="upstream", daemon=True) for srv in servers]
    for t in threads:
        t.start()
    try:
        yield f"http://127.0.0.1:{servers[0].server_address[1]}"
    finally:
        for srv, t in zip(servers, threads):
            srv.shutdown()
            srv.server_close()
            t.join(timeout=5)


def start_app(factory: ServerFactory, upstream: str) -> ServerProcess:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(UPSTREAM_ENV, upstream)
        return factory("http_client_app", "--threads", "2")


@pytest.fixture(scope="module")
def app_server(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("http_client"))
    srv = start_app(factory, upstream)
    try:
        yield srv
    finally:
        problems = factory.close()  # SIGINT; any exit code but 0 is reported
    assert not problems, "\n".join(problems)


@pytest.fixture
def app(app_server: ServerProcess) -> Iterator[httpx.Client]:
    with app_server.client() as c:
        yield c


# -- through the app ------------------------------------------------------------------------------

def test_get_json_round_trip(app: httpx.Client) -> None:
    r = app.get("/get-json")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == 200
    assert body["json"] == JSON_DOC
    assert json.loads(body["text"]) == JSON_DOC and body["length"] == len(body["text"])
    assert body["content_type"] == "application/json"
    assert body["x_upstream"] == "yes"
    assert body["ok"] is True and body["repr"] == "<Response [200 OK]>"


@pytest.mark.parametrize("payload", [{"a": 1, "b": [True, None, "é"]}, [1, 2.5, "x"], "just a string"])
def test_post_json_echo(app: httpx.Client, payload: object) -> None:
    r = app.post("/post-json", json=payload)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == 200
    echo = body["echo"]
    assert echo["method"] == "POST" and echo["path"] == "/echo"
    assert echo["json"] == payload
    assert echo["content_type"] == "application/json"


def test_every_method_and_body_kind(app: httpx.Client) -> None:
    r = app.get("/methods")
    assert r.status_code == 200, r.text
    put, patch, delete, client_post, generic = r.json()
    assert (put["method"], put["json"], put["content_type"]) == ("PUT", {"verb": "put"}, "application/json")
    assert (patch["method"], patch["body"], patch["content_type"]) == ("PATCH", "raw patch", "text/plain")
    assert (delete["method"], delete["body"]) == ("DELETE", "")
    assert (client_post["method"], client_post["body"], client_post["x_client"]) == ("POST", "text body",
                                                                                   "fastcore-test")
    assert client_post["content_type"] is None  # raw content gets no content-type of its own
    assert (generic["method"], generic["json"]) == ("POST", [1, 2])


def test_headers_forwarded_both_ways(app: httpx.Client) -> None:
    m = uuid.uuid4().hex
    r = app.get("/headers", params={"marker": m})
    assert r.status_code == 200, r.text
    body = r.json()
    seen = body["seen"]
    assert seen["x-marker"] == m  # request header, sent upstream
    assert seen["x-client"] == "fastcore-test"  # the client's default header
    assert seen["x-override"] == "from-request"  # a request header replaces a default one
    assert seen["user-agent"].startswith("fastcore/")
    assert seen["host"].startswith("127.0.0.1:")
    assert body["reply"] == m  # response header, read case-insensitively
    assert body["multi"] == ["a", "b"]  # repeated response headers all kept


@pytest.mark.parametrize("code", [200, 201, 404, 418, 500, 503])
def test_status_codes(app: httpx.Client, code: int) -> None:
    r = app.get(f"/status/{code}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == code and body["body"] == {"code": code}
    if code < 400:
        assert body["raised"] is None
    else:
        raised = body["raised"]
        assert raised["error"] == "HTTPStatusError" and raised["http_error"] is True
        assert raised["response_status"] == code
        assert str(code) in raised["message"] and f"/status/{code}" in raised["message"]


def test_two_upstream_calls_run_concurrently_under_gather(app: httpx.Client) -> None:
    r = app.get(f"/gather/{uuid.uuid4().hex}")
    assert r.status_code == 200, r.text
    # Each call passes the upstream's two-party barrier only if the other is in flight too.
    assert r.json() == [{"tag": "a", "passed": True}, {"tag": "b", "passed": True}]


def test_keep_alive_connection_is_reused(app: httpx.Client) -> None:
    r = app.get("/pooled")
    assert r.status_code == 200, r.text
    ports = r.json()["ports"]
    assert len(set(ports)) == 1, f"expected one pooled upstream connection, saw client ports {ports}"


def test_host_name_is_resolved(app: httpx.Client) -> None:
    """localhost is looked up (src/client/http.rs) and reaches the upstream, which serves every
    address localhost resolves to (bind_upstream)."""
    body = app.get("/by-name").json()
    assert body["status"] == 200 and body["json"] == JSON_DOC
    assert body["host"].startswith("http://localhost:")


def test_connection_refused_is_a_connect_error(app: httpx.Client) -> None:
    port = free_port()  # bound and released: nothing listens there
    r = app.get("/refused", params={"port": port})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["error"] == "ConnectError" and body["module"] == "fastcore.http"
    assert body["http_error"] is True
    url = f"http://127.0.0.1:{port}/nothing-here"
    assert body["url"] == url and body["method"] == "GET"
    assert url in body["message"] and "could not connect" in body["message"]
    assert "refused" in body["message"].lower()


@pytest.mark.parametrize("use_client", [False, True])
def test_timeout_raises_timeout_error(app: httpx.Client, upstream: str, use_client: bool) -> None:
    r = app.get("/timeout", params={"ms": 1500, "limit": 0.2, "use_client": str(use_client).lower()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["error"] == "TimeoutError" and body["module"] == "fastcore.http"
    assert body["builtin_timeout"] is True and body["http_error"] is True
    assert f"{upstream}/slow?ms=1500" in body["message"] and "0.2s" in body["message"]


def test_https_is_refused_with_value_error(app: httpx.Client) -> None:
    r = app.get("/https")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["error"] == "ValueError"
    assert "https is not supported" in body["message"] and "https://127.0.0.1:1/secure" in body["message"]


def test_text_uses_the_declared_charset(app: httpx.Client) -> None:
    assert app.get("/text").json() == {"text": "café olé", "encoding": "iso-8859-1"}


def test_server_still_serves_after_failures(app: httpx.Client) -> None:
    app.get("/refused", params={"port": free_port()})
    app.get("/timeout", params={"ms": 600, "limit": 0.05})
    assert app.get("/get-json").json()["json"] == JSON_DOC


def test_client_disconnect_drops_the_upstream_request(app_server: ServerProcess) -> None:
    tag = uuid.uuid4().hex
    sock = app_server.connect()
    sock.sendall(f"GET /hang/{tag} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    wait_until(lambda: _held.get(tag) == "waiting", 10, "the upstream call to arrive")
    sock.close()  # the handler is cancelled, its awaitable dropped, and with it the hyper request
    wait_until(lambda: _held.get(tag) != "waiting", 10, "the upstream connection to close")
    assert _held[tag] == "closed"


def test_sigint_after_upstream_calls_exits_cleanly(server: ServerFactory, upstream: str) -> None:
    srv = start_app(server, upstream)
    with srv.client() as c:
        assert c.get("/get-json").json()["status"] == 200
        assert c.get("/pooled").status_code == 200
    assert srv.stop(signal.SIGINT) == 0, srv.describe()


# -- in this process: argument checks and the Response class -------------------------------------

@pytest.mark.parametrize("url, needle", [
    ("https://example.com/", "https is not supported"),
    ("HTTPS://example.com/", "https is not supported"),
    ("ftp://example.com/", "unsupported URL scheme"),
    ("/relative/path", "must be absolute"),
    ("http://exa mple.com/", "invalid URL"),
])
def test_bad_urls_raise_value_error_before_awaiting(url: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        fastcore.http.get(url)


def test_bad_arguments_raise_at_call_time() -> None:
    with pytest.raises(ValueError, match="invalid header name"):
        fastcore.http.get("http://127.0.0.1:1/", headers={"bad header": "x"})
    with pytest.raises(ValueError, match="invalid value for header"):
        fastcore.http.get("http://127.0.0.1:1/", headers={"x": "line\nbreak"})
    with pytest.raises(TypeError, match="headers must be str"):
        fastcore.http.get("http://127.0.0.1:1/", headers={"x": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="not both"):
        fastcore.http.post("http://127.0.0.1:1/", json={}, content=b"")
    with pytest.raises(ValueError, match="timeout"):
        fastcore.http.get("http://127.0.0.1:1/", timeout=-1)
    with pytest.raises(ValueError, match="invalid HTTP method"):
        fastcore.http.request("BAD METHOD", "http://127.0.0.1:1/")


def test_exception_hierarchy() -> None:
    assert issubclass(ConnectError, HTTPError) and issubclass(HTTPStatusError, HTTPError)
    assert issubclass(HTTPTimeoutError, HTTPError) and issubclass(HTTPTimeoutError, TimeoutError)
    e = HTTPTimeoutError("GET http://x/: slow", method="GET", url="http://x/")
    assert str(e) == "GET http://x/: slow" and e.url == "http://x/"


def test_response_helpers() -> None:
    r = Response(404, [("Content-Type", "application/json"), ("X-A", "1"), ("x-a", "2")], b'{"detail": "nope"}',
                 method="GET", url="http://h/x")
    assert r.headers["content-type"] == "application/json" and r.headers.getlist("X-A") == ["1", "2"]
    assert r.json() == {"detail": "nope"} and r.text == '{"detail": "nope"}' and not r.is_success
    with pytest.raises(HTTPStatusError, match="404 Not Found' for GET http://h/x") as info:
        r.raise_for_status()
    assert info.value.response is r
    ok = Response(299, [], b"")
    assert ok.raise_for_status() is ok and repr(ok) == "<Response [299]>"


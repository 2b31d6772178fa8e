"""HTTP/2 (src/server/protocol.rs): over TLS by ALPN, over cleartext by prior knowledge (h2c),
`--http 1|2|auto`, with the same handlers, bodies, streams, background tasks and limits as
HTTP/1.1, many streams at once on one connection and a cap on them. Clients: httpx's HTTP/2
(the `h2` package) and, for what httpx will not send, raw frames (`hyperframe`, `hpack`).
App: tests/apps/protocols.py; certificates: tests/certs.py."""
from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import ssl
from typing import Iterator

import httpx
import pytest
from hpack import Decoder, Encoder
from hyperframe.frame import DataFrame, Frame, HeadersFrame, PingFrame, RstStreamFrame, SettingsFrame

from tests.certs import Certs
from tests.conftest import ServerFactory, ServerProcess, wait_until

LIMITS = ("--max-header-size", "4096", "--max-headers", "20", "--max-uri", "1024", "--max-body", "100000")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, certs: Certs) -> Iterator[dict[str, ServerProcess]]:
    """TLS with the default (auto: ALPN), and cleartext with --http auto (h2c by prior knowledge
    and HTTP/1.1 on one port), both with small limits."""
    factory = ServerFactory(tmp_path_factory.mktemp("h2"))
    yield {"tls": factory("protocols", "--threads", "2", "--access-log", *LIMITS, *certs.server_args()),
           "h2c": factory("protocols", "--threads", "2", "--http", "auto", *LIMITS)}
    problems = factory.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(params=["tls", "h2c"])
def srv(request: pytest.FixtureRequest, servers: dict[str, ServerProcess]) -> ServerProcess:
    return servers[request.param]


def h2_client(srv: ServerProcess, certs: Certs, **kwargs: object) -> httpx.Client:
    """HTTP/2 only: by ALPN over TLS, by prior knowledge over cleartext."""
    return srv.client(http1=False, http2=True, verify=certs.trusting(), **kwargs)


def test_h2_by_alpn_over_tls(servers: dict[str, ServerProcess], certs: Certs) -> None:
    srv = servers["tls"]
    with srv.client(http2=True, verify=certs.trusting()) as c:  # offers h2 and http/1.1
        resp = c.get("/info?x=1")
    assert resp.http_version == "HTTP/2"
    assert resp.json() == {"scheme": "https", "http_version": "2", "url": f"{srv.base_url}/info?x=1",
                           "host": f"127.0.0.1:{srv.port}", "client": "127.0.0.1", "port": resp.json()["port"]}
    srv.wait_for_log('"GET /info?x=1 HTTP/2" 200')


def test_http1_still_served_when_auto(srv: ServerProcess, certs: Certs) -> None:
    with srv.client(verify=certs.trusting()) as c:  # HTTP/1.1 only (ALPN http/1.1 over TLS)
        resp = c.get("/info")
    assert resp.http_version == "HTTP/1.1"
    assert resp.json()["http_version"] == "1.1"


def test_h2c_by_prior_knowledge(servers: dict[str, ServerProcess], certs: Certs) -> None:
    srv = servers["h2c"]
    with h2_client(srv, certs) as c:
        resp = c.get("/info")
    assert resp.http_version == "HTTP/2"
    assert resp.json()["scheme"] == "http" and resp.json()["http_version"] == "2"
    assert resp.json()["host"] == f"127.0.0.1:{srv.port}"


@pytest.mark.parametrize("route", ["/upload", "/upload-sync"])
def test_uploads_within_and_over_the_limit(srv: ServerProcess, certs: Certs, route: str) -> None:
    body = os.urandom(99_000)
    with h2_client(srv, certs) as c:
        resp = c.post(route, content=body)
        assert resp.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        over = c.post(route, content=os.urandom(300_000))
        assert over.status_code == 413
        assert over.json() == {"detail": "Request body is larger than the limit of 100000 bytes"}
        # The stream was refused, not the connection: it goes on serving.
        assert c.get("/hello").json() == {"message": "Hello, World!"}


def test_large_upload_and_response_need_flow_control(server: ServerFactory, certs: Certs) -> None:
    # Both bigger than HTTP/2's initial 64 KiB windows: WINDOW_UPDATEs must flow both ways.
    srv = server("protocols", "--threads", "1", *certs.server_args())
    body = os.urandom(5 * 1024 * 1024)
    with h2_client(srv, certs) as c:
        for route in ("/upload", "/upload-sync"):
            resp = c.post(route, content=body)
            assert resp.http_version == "HTTP/2"
            assert resp.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        assert c.get("/big/6000000").content == b"x" * 6_000_000


def test_streaming_response(srv: ServerProcess, certs: Certs) -> None:
    with h2_client(srv, certs) as c:
        with c.stream("GET", "/stream/40") as resp:
            assert resp.http_version == "HTTP/2"
            lines = list(resp.iter_lines())
    assert lines == [f"chunk {i}" for i in range(40)]


def test_background_task(srv: ServerProcess, certs: Certs) -> None:
    name = f"h2-{srv.scheme}"
    with h2_client(srv, certs) as c:
        assert c.get(f"/background/{name}").json() == {"queued": name}
        wait_until(lambda: name in c.get("/ran").json()["ran"], 10, "the background task")


def test_concurrent_streams_on_one_connection(srv: ServerProcess, certs: Certs) -> None:
    # 30 requests that each answer only once all 30 are in flight together, on one connection.
    group = f"together-{srv.scheme}"

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=srv.base_url, http1=False, http2=True, verify=certs.trusting(),
                                     timeout=30, limits=httpx.Limits(max_connections=1)) as c:
            ports = {(await c.get("/info")).json()["port"] for _ in range(3)}
            assert len(ports) == 1
            return await asyncio.gather(*(c.get(f"/gather/{group}/30") for _ in range(30)))

    responses = asyncio.run(main())
    assert all(r.http_version == "HTTP/2" for r in responses)
    assert [r.json() for r in responses] == [{"met": True}] * 30


def test_header_limits(srv: ServerProcess, certs: Certs) -> None:
    with h2_client(srv, certs) as c:
        assert c.get("/hello", headers={"x-big": "a" * 3000}).status_code == 200
        # Over SETTINGS_MAX_HEADER_LIST_SIZE (--max-header-size): h2 answers 431 itself.
        assert c.get("/hello", headers={"x-big": "a" * 5000}).status_code == 431
        assert c.get("/hello", headers={f"x-h{i}": "v" for i in range(15)}).status_code == 200
        many = c.get("/hello", headers={f"x-h{i}": "v" for i in range(30)})
        assert many.status_code == 431
        assert many.json() == {"detail": "Request Header Fields Too Large"}
        assert c.get("/hello?q=" + "a" * 900).status_code == 200
        long = c.get("/hello?q=" + "a" * 1100)
        assert long.status_code == 414 and long.json() == {"detail": "URI Too Long"}
        assert c.get("/hello").status_code == 200


def test_http_2_only(server: ServerFactory, certs: Certs) -> None:
    secure = server("protocols", "--threads", "1", "--http", "2", *certs.server_args())
    with h2_client(secure, certs) as c:
        assert c.get("/info").json()["http_version"] == "2"
    with secure.client(verify=certs.trusting()) as c:  # offers only http/1.1: no protocol in common
        with pytest.raises(httpx.ConnectError):
            c.get("/info")
    plain = server("protocols", "--threads", "1", "--http", "2")
    with h2_client(plain, certs) as c:
        assert c.get("/info").json() == {**c.get("/info").json(), "scheme": "http", "http_version": "2"}
    with plain.client() as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/info")


def test_http_1_only(server: ServerFactory, certs: Certs) -> None:
    secure = server("protocols", "--threads", "1", "--http", "1", *certs.server_args())
    with secure.client(http2=True, verify=certs.trusting()) as c:  # offers h2 too; the server picks http/1.1
        resp = c.get("/info")
    assert resp.http_version == "HTTP/1.1" and resp.json()["http_version"] == "1.1"
    # Cleartext's default is HTTP/1.1 alone, as before HTTP/2 existed: no h2c.
    plain = server("protocols", "--threads", "1")
    with h2_client(plain, certs) as c:
        # hyper answers the preface as a bad HTTP/1.1 request and closes; the client sees that
        # as a protocol error, or as a reset when the close beats the rest of its frames.
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            c.get("/info")
    with plain.client() as c:
        assert c.get("/info").json()["http_version"] == "1.1"


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class RawH2:
    """HTTP/2 by hand over cleartext, for what a well-behaved client library will not do
    (open more streams than the server allows)."""

    def __init__(self, srv: ServerProcess) -> None:
        self.sock = socket.create_connection((srv.host, srv.port), timeout=15)
        self.sock.sendall(PREFACE + SettingsFrame(0).serialize())
        self.encoder, self.decoder = Encoder(), Decoder()
        self.buffer = b""

    def request(self, stream_id: int, path: str) -> None:
        block = self.encoder.encode([(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", path)])
        self.sock.sendall(HeadersFrame(stream_id, block, flags=["END_STREAM", "END_HEADERS"]).serialize())

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def frame(self) -> Frame:
        frame, length = Frame.parse_frame_header(memoryview(self._read(9)))
        frame.parse_body(memoryview(self._read(length)))
        if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
            self.sock.sendall(SettingsFrame(0, flags=["ACK"]).serialize())
        if isinstance(frame, PingFrame) and "ACK" not in frame.flags:
            self.sock.sendall(PingFrame(0, frame.opaque_data, flags=["ACK"]).serialize())
        return frame

    def close(self) -> None:
        self.sock.close()


def test_concurrent_stream_cap(server: ServerFactory) -> None:
    srv = server("protocols", "--threads", "1", "--http", "2", "--h2-max-concurrent-streams", "2")
    h2 = RawH2(srv)
    try:
        settings = h2.frame()
        assert isinstance(settings, SettingsFrame)
        assert settings.settings[SettingsFrame.MAX_CONCURRENT_STREAMS] == 2
        for stream_id in (1, 3, 5):
            h2.request(stream_id, "/sleep/0.5")
        refused: set[int] = set()
        statuses: dict[int, str] = {}
        ended: set[int] = set()
        while len(ended) + len(refused) < 3:
            frame = h2.frame()
            if isinstance(frame, RstStreamFrame):
                assert frame.error_code == 7  # REFUSED_STREAM
                refused.add(frame.stream_id)
            elif isinstance(frame, HeadersFrame):
                statuses[frame.stream_id] = dict(h2.decoder.decode(frame.data))[":status"]
            elif isinstance(frame, DataFrame) and "END_STREAM" in frame.flags:
                ended.add(frame.stream_id)
        assert refused == {5}
        assert statuses == {1: "200", 3: "200"} and ended == {1, 3}
        # Once those are done, a new stream is accepted on the same connection.
        h2.request(7, "/hello")
        while True:
            frame = h2.frame()
            if isinstance(frame, HeadersFrame) and frame.stream_id == 7:
                assert dict(h2.decoder.decode(frame.data))[":status"] == "200"
                break
    finally:
        h2.close()


def test_graceful_shutdown_finishes_streams_in_flight(server: ServerFactory) -> None:
    # On SIGINT the server sends GOAWAY, still answers the stream in flight, then exits 0.
    # (Raw frames: h2-the-Python-library treats a PING after GOAWAY, which hyper sends to
    # finish its graceful shutdown, as a protocol error.)
    srv = server("protocols", "--threads", "1", "--http", "2")
    h2 = RawH2(srv)
    try:
        h2.request(1, "/sleep/1")
        with srv.client(http1=False, http2=True) as other:
            wait_until(lambda: other.get("/sleeping").json()["started"] == 1, 10, "the slow request to start")
        srv.send_signal(signal.SIGINT)
        kinds, body = [], b""
        while True:
            frame = h2.frame()
            kinds.append(type(frame).__name__)
            if isinstance(frame, HeadersFrame):
                assert dict(h2.decoder.decode(frame.data))[":status"] == "200"
            if isinstance(frame, DataFrame) and frame.stream_id == 1:
                body += frame.data
                if "END_STREAM" in frame.flags:
                    break
        assert "GoAwayFrame" in kinds and "HeadersFrame" in kinds
        assert body == b'{"slept":1.0}'
    finally:
        h2.close()
    assert srv.wait_exit() == 0


def test_idle_connection_closes_after_the_keep_alive_timeout(server: ServerFactory, certs: Certs) -> None:
    # The keep-alive idle timeout covers HTTP/2 (GOAWAY, then close) and HTTP/1.1 over TLS.
    srv = server("protocols", "--threads", "1", "--http", "2", "--timeout-keep-alive", "1")
    h2 = RawH2(srv)
    try:
        h2.request(1, "/hello")
        kinds = []
        while "GoAwayFrame" not in kinds:
            kinds.append(type(h2.frame()).__name__)
        assert "HeadersFrame" in kinds and "DataFrame" in kinds
        while True:  # hyper's graceful close: GOAWAY, a PING (answered), the final GOAWAY, EOF
            try:
                h2.frame()
            except AssertionError as closed:
                assert "connection closed" in str(closed)
                break
    finally:
        h2.close()
    secure = server("protocols", "--threads", "1", "--timeout-keep-alive", "1", *certs.server_args())
    ctx = certs.trusting()
    with socket.create_connection((secure.host, secure.port), timeout=15) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
            conn.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while not data.endswith(b'{"message":"Hello, World!"}'):
                data += conn.recv(65536)
            assert data.startswith(b"HTTP/1.1 200 OK")
            try:
                assert conn.recv(65536) == b""  # closed once idle, not by the 15 s socket timeout
            except ssl.SSLEOFError:
                pass  # closed without close_notify: closed all the same

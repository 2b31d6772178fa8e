"""WebSockets (src/ws/, python/fastcore/websockets.py, websocket_endpoint.py, testclient.py), on a
real server with a real client library (`websockets`) and, for invalid frames, raw bytes on a
socket.

tests/apps/fa_websockets.py is written against FastAPI's imports; where FastAPI is installed the
same conversations run on FastAPI's TestClient and must give the same messages and close codes.
"""
from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import struct
import time
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from .compat import fastapi_client, ported
from .conftest import ServerProcess, fastcore_argv, serve_app, wait_until


@pytest.fixture(scope="module")
def ws_server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    from .conftest import ServerFactory

    factory = ServerFactory(tmp_path_factory.mktemp("fa_websockets"))
    srv = factory.launch(fastcore_argv(ported("fa_websockets"), "--threads", "2", "--ws-max-size", "1048576"))
    yield srv
    problems = factory.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    yield from serve_app(tmp_path_factory, "websockets_app", "--threads", "2")


def ws_url(srv: ServerProcess, path: str) -> str:
    return srv.base_url.replace("http://", "ws://") + path


def events(srv: ServerProcess, clear: bool = False) -> list[str]:
    with srv.client() as c:
        return c.get("/events", params={"clear": "true"} if clear else None).json()


def wait_event(srv: ServerProcess, event: str) -> None:
    wait_until(lambda: event in events(srv), 10, f"event {event!r}", lambda: str(events(srv)))


# -- messages ------------------------------------------------------------------------------------

def test_echo_text_and_binary(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/echo")) as ws:
        ws.send("héllo")
        assert ws.recv(timeout=10) == "héllo"
        ws.send(b"\x00\x01\xff")
        assert ws.recv(timeout=10) == b"\x00\x01\xff"
        ws.send("")
        assert ws.recv(timeout=10) == ""


def test_fragmented_and_large_messages(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/echo"), max_size=None) as ws:
        ws.send(["frag", "mented ", "text"])  # three frames: text, continuation, continuation
        assert ws.recv(timeout=10) == "fragmented text"
        ws.send([b"a" * 1000, b"b" * 1000])
        assert ws.recv(timeout=10) == b"a" * 1000 + b"b" * 1000
        big = os.urandom(1024 * 1024)  # exactly the limit this server runs with
        ws.send(big)
        assert ws.recv(timeout=30) == big


def test_message_over_the_limit_closes_with_1009(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/echo"), max_size=None) as ws:
        ws.send(b"x" * (1024 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    wait_event(ws_server, "echo disconnect 1009")


def test_json_and_iter_json(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/json")) as ws:
        ws.send('{"a": [1, 2]}')
        assert ws.recv(timeout=10) == '{"got":{"a":[1,2]}}'


def test_many_messages_keep_their_order(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/echo")) as ws:
        for i in range(500):
            ws.send(f"m{i}")
        assert [ws.recv(timeout=10) for _ in range(500)] == [f"m{i}" for i in range(500)]


# -- closing -------------------------------------------------------------------------------------

def test_server_close_code_and_reason_reach_the_client(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/server-close?code=4001&reason=bye")) as ws:
        assert ws.recv(timeout=10) == "closing"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "bye")


def test_client_close_code_reaches_the_handler(ws_server: ServerProcess) -> None:
    events(ws_server, clear=True)
    ws = connect(ws_url(ws_server, "/wait"), legacy=True)
    ws.close(code=4002, reason="client done")
    wait_event(ws_server, "wait disconnect 4002 client done")
    assert "wait finally" in events(ws_server)


def test_client_vanishing_mid_receive_runs_the_handlers_finally(ws_server: ServerProcess) -> None:
    events(ws_server, clear=True)
    ws = connect(ws_url(ws_server, "/wait"), legacy=True)
    ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the TCP connection just ends
    ws.socket.close()
    wait_event(ws_server, "wait disconnect 1006 ")
    assert "wait finally" in events(ws_server)


def test_websocket_exception_after_accept_closes_with_its_code(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/raises-after-accept")) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4003, "nope")


# -- the handshake -------------------------------------------------------------------------------

def test_close_before_accept_is_a_403(ws_server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(ws_server, "/reject"))
    assert refused.value.response.status_code == 403


def test_unknown_path_is_a_403_and_plain_http_on_a_websocket_route_a_404(ws_server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(ws_server, "/nowhere"))
    assert refused.value.response.status_code == 403
    with ws_server.client() as c:
        r = c.get("/echo")
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
        # An upgrade to a path only HTTP routes have is refused too (Starlette's router).
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(ws_server, "/events"))
        assert refused.value.response.status_code == 403


def test_bad_handshakes_get_400_and_426(ws_server: ServerProcess) -> None:
    upgrade = {"connection": "Upgrade", "upgrade": "websocket"}
    with ws_server.client() as c:
        r = c.get("/echo", headers={**upgrade, "sec-websocket-version": "13"})
        assert r.status_code == 400 and "Sec-WebSocket-Key" in r.json()["detail"]
        r = c.get("/echo", headers={**upgrade, "sec-websocket-version": "8", "sec-websocket-key": "x" * 24})
        assert r.status_code == 426 and r.headers["sec-websocket-version"] == "13"


def test_subprotocol_and_accept_headers(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/protocols"), subprotocols=["a", "b"]) as ws:
        assert ws.subprotocol == "b"
        assert ws.response.headers["x-room"] == "lobby"
        assert ws.recv(timeout=10) == '{"offered":"a, b","chosen":"b"}'
    with connect(ws_url(ws_server, "/protocols")) as ws:
        assert ws.subprotocol is None
        assert ws.recv(timeout=10) == '{"offered":"","chosen":null}'


def test_connection_details(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/info/r%201?a=1&b=2"),
                 additional_headers={"x-token": "t", "cookie": "session=abc"}) as ws:
        got = ws.recv(timeout=10)
    assert got == ('{"room":"r 1","path_params":{"room":"r 1"},"query":{"a":"1","b":"2"},"cookie":"abc",'
                   '"header":"t","scheme":"ws","path":"/info/r%201","client_is_tuple":true}')


# -- parameters and dependencies -----------------------------------------------------------------

def test_params_and_dependencies(ws_server: ServerProcess) -> None:
    events(ws_server, clear=True)
    with connect(ws_url(ws_server, "/items/7?q=3"),
                 additional_headers={"x-token": "secret", "cookie": "session=s1"}) as ws:
        assert ws.recv(timeout=10) == ('{"item_id":7,"q":3,"token":"secret","session":"s1",'
                                       '"resource":"resource","path":"/items/7"}')
    wait_event(ws_server, "dependency exit")
    assert events(ws_server)[:2] == ["dependency enter", "dependency exit"]


@pytest.mark.parametrize("path, headers", [
    ("/items/7?q=notanint", {"x-token": "secret"}),  # validation: 1008 before accept
    ("/items/7", {"x-token": "secret"}),  # a required query parameter missing
    ("/items/seven?q=1", {"x-token": "secret"}),  # a path parameter that is not an int
    ("/items/7?q=1", {"x-token": "wrong"}),  # WebSocketException(1008) from a dependency
    ("/items/7?q=1", {}),  # a required header missing
])
def test_rejected_parameters_refuse_the_handshake(ws_server: ServerProcess, path: str,
                                                  headers: dict[str, str]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(ws_server, path), additional_headers=headers)
    assert refused.value.response.status_code == 403


def test_router_prefixes(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/v1/router/echo/ann")) as ws:
        ws.send("hi")
        assert ws.recv(timeout=10) == "ann: hi"


# -- invalid frames, sent as raw bytes -----------------------------------------------------------

def raw_handshake(srv: ServerProcess, path: str) -> socket.socket:
    sock = socket.create_connection((srv.host, srv.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def frame(opcode: int, payload: bytes, *, masked: bool = True, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    else:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_close(sock: socket.socket) -> int:
    """Reads frames until the server's close frame; returns its code."""
    data = b""
    while True:
        chunk = sock.recv(4096)
        assert chunk, f"connection ended without a close frame: {data!r}"
        data += chunk
        while len(data) >= 2:
            opcode, n = data[0] & 0x0F, data[1] & 0x7F
            if len(data) < 2 + n:
                break
            payload, data = data[2:2 + n], data[2 + n:]
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0]


@pytest.mark.parametrize("bad, code", [
    (frame(0x1, b"hello", masked=False), 1002),  # clients must mask
    (frame(0x1, b"\xff\xfe bad utf-8"), 1007),
    (frame(0x9, b"p", fin=False), 1002),  # a fragmented control frame
    (frame(0x3, b"reserved opcode"), 1002),
    (frame(0x0, b"continuation of nothing"), 1002),
])
def test_invalid_frames_close_with_the_rfc_code_and_the_worker_survives(ws_server: ServerProcess, bad: bytes,
                                                                        code: int) -> None:
    sock = raw_handshake(ws_server, "/echo")
    try:
        sock.sendall(frame(0x1, b"fine"))
        sock.sendall(bad)
        assert read_close(sock) == code
    finally:
        sock.close()
    with ws_server.client() as c:
        assert c.get("/events").status_code == 200
    with connect(ws_url(ws_server, "/echo")) as ws:
        ws.send("still here")
        assert ws.recv(timeout=10) == "still here"


def test_ping_is_answered_with_pong(ws_server: ServerProcess) -> None:
    with connect(ws_url(ws_server, "/echo")) as ws:
        assert ws.ping(b"are you there").wait(10)


# -- many sockets, across workers ----------------------------------------------------------------

def test_a_thousand_concurrent_sockets(chat_server: ServerProcess) -> None:
    url = ws_url(chat_server, "/echo")

    async def one(i: int, opened: asyncio.Event, count: list[int]) -> bytes:
        from websockets.asyncio.client import connect as aconnect

        async with aconnect(url, open_timeout=60) as ws:
            count[0] += 1
            if count[0] == 1000:
                opened.set()
            await asyncio.wait_for(opened.wait(), 120)  # all 1,000 are open at once
            await ws.send(i.to_bytes(4, "big"))
            return await asyncio.wait_for(ws.recv(), 60)

    async def main() -> list[bytes]:
        opened, count = asyncio.Event(), [0]
        return await asyncio.gather(*(one(i, opened, count) for i in range(1000)))

    assert asyncio.run(main()) == [i.to_bytes(4, "big") for i in range(1000)]


def test_broadcast_reaches_sockets_on_every_worker(chat_server: ServerProcess) -> None:
    """A socket's worker is blocked (`/hold`), so the next connection can only be accepted by the
    other worker: the sockets are on both, and a broadcast reaches both."""
    sockets: list = []

    def join() -> int:
        ws = connect(ws_url(chat_server, "/chat"), legacy=True)
        sockets.append(ws)
        joined = ws.recv(timeout=10)
        assert joined.startswith("joined ")
        return int(joined.split()[1])

    try:
        first = join()
        for _ in range(3):
            sockets[0].send("/hold 3")
            time.sleep(0.5)  # the first socket's worker is now asleep in its handler
            if join() != first:
                break
        else:
            pytest.fail("every new socket was accepted by the blocked worker")
        sockets[-1].send("to everyone")
        for ws in sockets:
            assert ws.recv(timeout=20) == "to everyone"
    finally:
        for ws in sockets:
            ws.close()


# -- fastcore's TestClient, and FastAPI's for comparison -----------------------------------------

def conversations(client) -> list:
    """The same conversations on a TestClient (fastcore's or FastAPI's)."""
    from fastcore.websockets import WebSocketDisconnect as FcDisconnect

    disconnects: tuple[type[BaseException], ...] = (FcDisconnect,)
    try:
        from starlette.websockets import WebSocketDisconnect as StDisconnect
        disconnects += (StDisconnect,)
    except ImportError:
        pass
    out: list = []
    with client.websocket_connect("/echo") as ws:
        ws.send_text("hi")
        out.append(ws.receive_text())
        ws.send_bytes(b"\x01\x02")
        out.append(ws.receive_bytes())
    with client.websocket_connect("/json") as ws:
        ws.send_json({"x": 1})
        out.append(ws.receive_json())
    with client.websocket_connect("/protocols", subprotocols=["a", "b"]) as ws:
        out.append(ws.receive_json())
        out.append(ws.accepted_subprotocol)
    with client.websocket_connect("/items/3?q=4", headers={"x-token": "secret"}) as ws:
        out.append(ws.receive_json())
    with client.websocket_connect("/server-close") as ws:
        out.append(ws.receive_text())
        with pytest.raises(disconnects) as closed:
            ws.receive_text()
        out.append((closed.value.code, closed.value.reason))
    for refused in ("/reject", "/items/3?q=x"):
        with pytest.raises(disconnects):
            with client.websocket_connect(refused, headers={"x-token": "secret"}) as ws:
                ws.receive_text()
    with client.websocket_connect("/v1/router/echo/bo") as ws:
        ws.send_text("yo")
        out.append(ws.receive_text())
    with client.websocket_connect("/sub/echo/mo") as ws:
        ws.send_text("hey")
        out.append(ws.receive_json())
    for denied in ("/deny", "/deny-asgi"):
        with pytest.raises(disconnects) as refused:
            with client.websocket_connect(denied):
                pass
        response = refused.value
        out.append((response.status_code, response.content, response.headers.get("content-type"),
                    response.headers.get("x-reason"), response.headers.get("retry-after")))
    return out


def test_testclient_websocket_connect_matches_fastapi() -> None:
    from fastcore.testclient import TestClient

    ported("fa_websockets")
    from .apps._ported import fa_websockets

    with TestClient(fa_websockets.app) as client:
        ours = conversations(client)
    assert ours == ["hi", b"\x01\x02", {"got": {"x": 1}}, {"offered": "a, b", "chosen": "b"}, "b",
                    {"item_id": 3, "q": 4, "token": "secret", "session": None, "resource": "resource", "path": "/items/3"},
                    "closing", (4001, "bye"), "bo: yo", {"name": "mo", "text": "hey", "path": "/sub/echo/mo"},
                    (401, b'{"detail":"no entry"}', "application/json", "token", None),
                    (429, b"slow down", "text/plain", None, "3")]
    reference = fastapi_client("fa_websockets")
    if reference is not None:
        with reference:
            assert conversations(reference) == ours


def test_testclient_raises_the_handlers_exception() -> None:
    from fastcore import FastAPI
    from fastcore.testclient import TestClient

    app = FastAPI()

    @app.websocket_route("/boom")
    async def boom(websocket):
        raise ValueError("boom before accept")

    with TestClient(app) as client:
        with pytest.raises(ValueError, match="boom before accept"):
            client.websocket_connect("/boom")


def test_server_limits_are_validated() -> None:
    from fastcore import FastAPI
    from fastcore._core import Server

    app = FastAPI()
    for bad in ({"ws_max_message_size": 0}, {"ws_idle_timeout": -1.0}, {"ws_ping_interval": 0.0}):
        with pytest.raises(ValueError):
            Server(app.core, "127.0.0.1", 0, 1, **bad)


def test_idle_timeout_closes_silent_clients(server) -> None:
    srv = server("websockets_app", "--ws-idle-timeout", "0.5", "--ws-ping-interval", "0")
    with connect(ws_url(srv, "/echo"), ping_interval=None) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


def test_shutdown_closes_sockets_with_1012_and_their_handlers_finish(server, tmp_path, monkeypatch) -> None:
    """As uvicorn: SIGTERM sends every open socket a 1012 close (service restart), the handler
    gets `WebSocketDisconnect(1012)` and its `finally` runs before the process exits."""
    monkeypatch.setenv("FASTCORE_TEST_DIR", str(tmp_path))
    srv = server("websockets_app", "--threads", "2")
    sockets = [connect(ws_url(srv, "/until-shutdown"), legacy=True) for _ in range(3)]
    try:
        for ws in sockets:
            assert ws.recv(timeout=10) == "ready"
        srv.send_signal(signal.SIGTERM)
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    finally:
        for ws in sockets:
            ws.close()
    assert srv.wait_exit(15) == 0
    lines = (tmp_path / "ws-shutdown").read_text().splitlines()
    assert sorted(lines) == ["disconnect 1012"] * 3 + ["finally"] * 3


def test_server_pings_keep_a_live_client_open(server) -> None:
    srv = server("websockets_app", "--ws-idle-timeout", "1.5", "--ws-ping-interval", "0.3")
    with connect(ws_url(srv, "/echo"), ping_interval=None) as ws:
        # The client library answers the server's pings by itself while it waits here.
        with pytest.raises(TimeoutError):
            ws.recv(timeout=3)
        ws.send(b"alive")
        assert ws.recv(timeout=10) == b"alive"

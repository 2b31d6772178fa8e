"""`TestClient`, for users' own tests: httpx's client API over the real request path.

    def test_read_item():
        with TestClient(app) as client:          # runs the lifespan
            r = client.get("/items/1", headers={"x-token": "secret"})
            assert r.status_code == 200

Unlike FastAPI's, which calls the ASGI app in-process, this one starts the app's real server (the
Rust core, one worker thread) on a loopback port the kernel picks, and sends real HTTP to it:
what a test sees is what a deployed app does. Requests still name `http://testserver`; only the
connection goes to the loopback port. A handler exception nothing handled is raised in the test
(`raise_server_exceptions=False` gives the 500 response instead), as FastAPI's client does.

`client.websocket_connect(path)` opens a real WebSocket to the same server with the `websockets`
package's client, wrapped in Starlette's test-session API:

    with client.websocket_connect("/ws/room1?token=t") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "room1: hi"
"""
from __future__ import annotations

import json
import weakref
from types import TracebackType
from typing import Any, Mapping, Sequence

import httpx

from ._core import Server
from .websockets import WebSocketDisconnect


class _Served:
    """The app's server, started on first use; stopped by `close()` or when the client goes."""

    def __init__(self, app: Any, threads: int) -> None:
        self.app = app
        self.threads = threads
        self.server: Server | None = None
        self.address: tuple[str, int] | None = None

    def start(self) -> tuple[str, int]:
        if self.address is None:
            self.server = Server(self.app.core, "127.0.0.1", 0, self.threads, drain_timeout=5.0,
                                 middleware=self.app.middleware_plan())
            self.address = self.server.start()
        return self.address

    def stop(self) -> None:
        server, self.server, self.address = self.server, None, None
        if server is not None:
            server.stop()
            server.wait()


class _LoopbackTransport(httpx.BaseTransport):
    """Sends each request to the app's loopback server, leaving its URL and Host header as the
    test wrote them."""

    def __init__(self, served: _Served, sink: list[BaseException], raise_server_exceptions: bool) -> None:
        self.served = served
        self.sink = sink
        self.raise_server_exceptions = raise_server_exceptions
        self.http = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host, port = self.served.start()
        url = request.url
        request.url = url.copy_with(scheme="http", host=host, port=port)
        try:
            response = self.http.handle_request(request)
        finally:
            request.url = url  # cookies and redirects are about the URL the test named
        if self.sink:
            exc = self.sink.pop()
            self.sink.clear()
            if self.raise_server_exceptions:
                response.close()
                raise exc
        return response

    def close(self) -> None:
        self.http.close()


class TestClient(httpx.Client):
    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: Any,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: Any = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        threads: int = 1,
        **_unused: Any,
    ) -> None:
        self.app = app
        # Starlette's TestClient puts `root_path` in the scope and leaves the path as sent.
        app.set_server_root_path(root_path, in_path=False)
        self.served = _Served(app, threads)
        app.exception_sink = sink = []
        super().__init__(
            base_url=base_url,
            headers={"user-agent": "testclient", **(headers or {})},
            transport=_LoopbackTransport(self.served, sink, raise_server_exceptions),
            follow_redirects=follow_redirects,
            cookies=cookies,
        )
        self._lifespan_entered = False
        self._finalizer = weakref.finalize(self, _Served.stop, self.served)

    def websocket_connect(self, url: str, subprotocols: Sequence[str] | None = None,
                          headers: Mapping[str, str] | None = None, **_unused: Any) -> "WebSocketTestSession":
        """Opens a WebSocket to `url` (a path, with its query). A refused handshake (the handler
        closed before accepting, or no route: an empty 403) raises `WebSocketDisconnect`; any
        other HTTP answer (`send_denial_response`) raises `WebSocketDenialResponse`, which is
        both the response and a `WebSocketDisconnect`. A handler exception nothing handled is
        raised here instead, unless `raise_server_exceptions=False`."""
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect

        host, port = self.served.start()
        target = httpx.URL(url)
        path = target.raw_path.decode("ascii")
        sent = {k: v for k, v in self.headers.items() if k.lower() not in ("user-agent", "accept", "accept-encoding",
                                                                              "connection", "host")}
        sent.update(headers or {})
        if self.cookies and not any(k.lower() == "cookie" for k in sent):
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            ws = connect(f"ws://{host}:{port}{path}", subprotocols=list(subprotocols) if subprotocols else None,
                         additional_headers=sent, user_agent_header="testclient", max_size=None,
                         open_timeout=30, close_timeout=5, legacy=True)
        except InvalidStatus as exc:
            self._raise_server_exception()
            refused = exc.response
            if refused.status_code == 403 and not refused.body:
                raise WebSocketDisconnect(1000, "handshake refused with HTTP 403") from None
            denial = WebSocketDenialResponse(status_code=refused.status_code,
                                             headers=list(refused.headers.raw_items()), content=bytes(refused.body))
            raise denial from None
        return WebSocketTestSession(ws, self)

    def _raise_server_exception(self) -> None:
        transport = self._transport
        sink = transport.sink if isinstance(transport, _LoopbackTransport) else []
        if sink:
            exc = sink.pop()
            sink.clear()
            if transport.raise_server_exceptions:
                raise exc

    def __enter__(self) -> "TestClient":
        self.app.startup()
        self._lifespan_entered = True
        try:
            self.served.start()
        except BaseException:
            self.app.shutdown()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None = None, exc: BaseException | None = None,
                 tb: TracebackType | None = None) -> None:
        self.close()

    def close(self) -> None:
        self.served.stop()
        if self._lifespan_entered:
            self._lifespan_entered = False
            self.app.shutdown()
        super().close()


class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect):  # type: ignore[misc]
    """The HTTP response a handler sent with `send_denial_response` instead of accepting."""


class WebSocketTestSession:
    """Starlette's `WebSocketTestSession` API over a real client connection."""

    __test__ = False

    def __init__(self, ws: Any, client: TestClient) -> None:
        self.ws = ws
        self.client = client

    @property
    def accepted_subprotocol(self) -> str | None:
        return self.ws.subprotocol

    @property
    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        """The handshake response's headers."""
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.ws.response.headers.raw_items()]

    def __enter__(self) -> "WebSocketTestSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(1000)
        self.client._raise_server_exception()

    def send_text(self, data: str) -> None:
        self.ws.send(data)

    def send_bytes(self, data: bytes) -> None:
        self.ws.send(bytes(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        self.ws.send(text if mode == "text" else text.encode("utf-8"))

    def _receive(self) -> str | bytes:
        from websockets.exceptions import ConnectionClosed

        try:
            return self.ws.recv()
        except ConnectionClosed as closed:
            self.client._raise_server_exception()
            frame = closed.rcvd
            raise WebSocketDisconnect(frame.code if frame else 1006, frame.reason if frame else "") from None

    def receive(self) -> dict[str, Any]:
        """The next message, as Starlette's test session gives it."""
        from websockets.exceptions import ConnectionClosed

        try:
            message = self.ws.recv()
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return {"type": "websocket.close", "code": frame.code if frame else 1006,
                    "reason": frame.reason if frame else ""}
        key = "text" if isinstance(message, str) else "bytes"
        return {"type": "websocket.send", key: message}

    def receive_text(self) -> str:
        message = self._receive()
        if not isinstance(message, str):
            raise KeyError("text")
        return message

    def receive_bytes(self) -> bytes:
        message = self._receive()
        if not isinstance(message, bytes):
            raise KeyError("bytes")
        return message

    def receive_json(self, mode: str = "text") -> Any:
        message = self._receive()
        return json.loads(message if mode == "text" or isinstance(message, str) else message.decode("utf-8"))

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.ws.close(code, reason or "")

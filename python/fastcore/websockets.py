"""The WebSocket a handler receives: Starlette's `WebSocket` API over the Rust channel.

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str):
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(f"{room}: {text}")

The socket's frames, masking, pings and close handshake are Rust's (`src/ws/`); every
operation here is one awaitable of the channel's, driven on the worker like any other await.
Connection details (`url`, `headers`, `query_params`, `path_params`, `cookies`, `client`,
`state`) read the same request record as `Request`, lazily.
"""
from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from .datastructures import URL, Address, Headers, QueryParams, State
from .requests import Request
from .responses import Response


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocketDisconnect(Exception):
    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""


class WebSocketDisconnected(RuntimeError):
    """Raised when a disconnected WebSocket is used (Starlette's name)."""


_NOT_CONNECTED = 'WebSocket is not connected. Need to call "accept" first.'
_CONNECTED = WebSocketState.CONNECTED
_DISCONNECTED = WebSocketState.DISCONNECTED


class WebSocket:
    """One WebSocket connection; `client_state` and `application_state` follow Starlette's."""

    def __init__(self, raw: Any, channel: Any, app: Any = None) -> None:
        self._conn = Request(raw, app)
        self._channel = channel
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    # -- the connection ----------------------------------------------------------------------
    @property
    def app(self) -> Any:
        return self._conn.app

    @property
    def state(self) -> State:
        return self._conn.state

    @property
    def url(self) -> URL:
        url = self._conn.url
        return URL("wss" if url.scheme == "https" else "ws", url.netloc, url.path, url.query)

    @property
    def headers(self) -> Headers:
        return self._conn.headers

    @property
    def query_params(self) -> QueryParams:
        return self._conn.query_params

    @property
    def path_params(self) -> dict[str, Any]:
        return self._conn.path_params

    @property
    def cookies(self) -> dict[str, str]:
        return self._conn.cookies

    @property
    def client(self) -> Address:
        return self._conn.client

    @property
    def subprotocols(self) -> list[str]:
        """What the client offered in `Sec-WebSocket-Protocol`, in its order."""
        offered = ",".join(self.headers.getlist("sec-websocket-protocol"))
        return [p.strip() for p in offered.split(",") if p.strip()]

    @property
    def scope(self) -> dict[str, Any]:
        """The parts of an ASGI scope that code written for Starlette reads."""
        return {"type": "websocket", "path": self._conn.path, "path_params": self.path_params,
                "subprotocols": self.subprotocols, "app": self.app, "state": self.state,
                "extensions": {"websocket.http.response": {}}}

    # -- messages, ASGI style ------------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        if self.client_state == WebSocketState.CONNECTING:
            self.client_state = WebSocketState.CONNECTED
            return {"type": "websocket.connect"}
        if self.client_state == WebSocketState.DISCONNECTED:
            raise WebSocketDisconnected('Cannot call "receive" once a disconnect message has been received.')
        message = await self._channel.receive()
        if type(message) is str:
            return {"type": "websocket.receive", "text": message}
        if type(message) is bytes:
            return {"type": "websocket.receive", "bytes": message}
        self.client_state = WebSocketState.DISCONNECTED
        return {"type": "websocket.disconnect", "code": message[0], "reason": message[1]}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            await self.accept(message.get("subprotocol"), message.get("headers"))
        elif kind == "websocket.send":
            if message.get("bytes") is not None:
                await self.send_bytes(message["bytes"])
            else:
                await self.send_text(message["text"])
        elif kind == "websocket.close":
            await self.close(message.get("code", 1000), message.get("reason"))
        elif kind == "websocket.http.response.start" and self.application_state == WebSocketState.CONNECTING:
            self.application_state = WebSocketState.RESPONSE
            self._denial = (message["status"], list(message.get("headers", [])), [])
        elif kind == "websocket.http.response.body" and self.application_state == WebSocketState.RESPONSE:
            self._denial[2].append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                status, headers, body = self._denial
                response = Response(b"".join(body), status_code=status)
                response.raw_headers = [(_bytes(k), _bytes(v)) for k, v in headers]
                self._deny(response)
        else:
            raise RuntimeError(f'Expected ASGI message "websocket.accept", "websocket.send" or "websocket.close", '
                               f"but got {kind!r}")

    # -- the handshake -------------------------------------------------------------------------
    async def accept(self, subprotocol: str | None = None,
                     headers: Iterable[tuple[bytes, bytes]] | None = None) -> None:
        if self.application_state != WebSocketState.CONNECTING:
            raise RuntimeError('Expected ASGI message "websocket.send" or "websocket.close", '
                               "but got 'websocket.accept'")
        if self.client_state == WebSocketState.CONNECTING:
            self.client_state = WebSocketState.CONNECTED
        pairs = [(_bytes(k), _bytes(v)) for k, v in (headers or [])]
        self.application_state = WebSocketState.CONNECTED
        if await self._channel.accept(subprotocol, pairs) is not None:
            self.client_state = WebSocketState.DISCONNECTED  # gone during the handshake

    async def send_denial_response(self, response: Response) -> None:
        """Answers the handshake with `response` (an HTTP response, sent as a handler's would
        be) instead of accepting: the client sees that status, headers and body."""
        if self.application_state != WebSocketState.CONNECTING:
            raise RuntimeError('Expected ASGI message "websocket.send" or "websocket.close", '
                               "but got 'websocket.http.response.start'")
        self._deny(response)

    def _deny(self, response: Response) -> None:
        self._channel.deny(response)
        self.application_state = WebSocketState.DISCONNECTED
        self.client_state = WebSocketState.DISCONNECTED

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if self.application_state == WebSocketState.DISCONNECTED:
            raise RuntimeError('Unexpected ASGI message "websocket.close", after sending "websocket.close" '
                               "or response already completed.")
        if reason is not None and not isinstance(reason, str):
            reason = json.dumps(reason, separators=(",", ":"))
        self.application_state = WebSocketState.DISCONNECTED
        await self._channel.close(code, reason)

    # -- receiving -----------------------------------------------------------------------------
    def _check_receive(self) -> None:
        if self.application_state != WebSocketState.CONNECTED:
            raise WebSocketDisconnected(_NOT_CONNECTED)
        if self.client_state == WebSocketState.DISCONNECTED:
            raise WebSocketDisconnected('Cannot call "receive" once a disconnect message has been received.')

    def _ended(self, message: tuple[int, str]) -> WebSocketDisconnect:
        self.client_state = WebSocketState.DISCONNECTED
        return WebSocketDisconnect(message[0], message[1])

    # receive_text/receive_bytes/send_text/send_bytes are the per-message path: each is one
    # coroutine around one channel awaitable, with the state checks inlined.
    async def receive_text(self) -> str:
        if self.application_state is not _CONNECTED or self.client_state is _DISCONNECTED:
            self._check_receive()
        message = await self._channel.receive()
        if type(message) is str:
            return message
        if type(message) is tuple:
            raise self._ended(message)
        raise KeyError("text")

    async def receive_bytes(self) -> bytes:
        if self.application_state is not _CONNECTED or self.client_state is _DISCONNECTED:
            self._check_receive()
        message = await self._channel.receive()
        if type(message) is bytes:
            return message
        if type(message) is tuple:
            raise self._ended(message)
        raise KeyError("bytes")

    async def _next(self) -> str | bytes:
        self._check_receive()
        message = await self._channel.receive()
        if type(message) is tuple:
            raise self._ended(message)
        return message

    async def receive_json(self, mode: str = "text") -> Any:
        if mode not in {"text", "binary"}:
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        message = await self._next()
        if mode == "text":
            if type(message) is not str:
                raise KeyError("text")
            return json.loads(message)
        if type(message) is not bytes:
            raise KeyError("bytes")
        return json.loads(message.decode("utf-8"))

    async def iter_text(self) -> AsyncIterator[str]:
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    # -- sending -------------------------------------------------------------------------------
    def _check_send(self) -> None:
        if self.application_state == WebSocketState.CONNECTING:
            raise RuntimeError('Expected ASGI message "websocket.accept", "websocket.close" or '
                               "\"websocket.http.response.start\", but got 'websocket.send'")
        if self.application_state != WebSocketState.CONNECTED:
            raise WebSocketDisconnected('Cannot call "send" once a close message has been sent.')

    def _gone(self, code: int) -> WebSocketDisconnect:
        self.application_state = WebSocketState.DISCONNECTED
        return WebSocketDisconnect(code)

    async def send_text(self, data: str) -> None:
        if self.application_state is not _CONNECTED:
            self._check_send()
        if (code := await self._channel.send_text(data)) is not None:
            raise self._gone(code)

    async def send_bytes(self, data: bytes) -> None:
        if self.application_state is not _CONNECTED:
            self._check_send()
        if (code := await self._channel.send_bytes(data)) is not None:
            raise self._gone(code)

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode not in {"text", "binary"}:
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            await self.send_text(text)
        else:
            await self.send_bytes(text.encode("utf-8"))

    def __repr__(self) -> str:
        return f"<WebSocket {self._conn.path}>"


def _bytes(value: bytes | str) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else bytes(value)

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
"""
from __future__ import annotations

import weakref
from types import TracebackType
from typing import Any, Mapping

import httpx

from ._core import Server


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

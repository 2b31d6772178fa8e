"""TrustedHostMiddleware and HTTPSRedirectMiddleware (python/fastcore/middleware/trustedhost.py,
httpsredirect.py; src/middleware/hosts.rs) on tests/apps/fa_hosts.py, by fastcore and by
FastAPI (where installed), answers compared."""
from __future__ import annotations

import socket
from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("hosts")), "fa_hosts", "--threads", "1")


@pytest.fixture(scope="module")
def no_www(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("hosts_no_www")), "fa_hosts", "--threads", "1",
                          attr="app_no_www")


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("https")), "fa_hosts", "--threads", "1",
                          attr="app_https")


@pytest.mark.parametrize("host", ["example.com", "EXAMPLE.com:8080", "api.example.org", "a.b.example.org",
                                  "www.example.net"])
def test_allowed_hosts(trusted: Pair, host: str) -> None:
    r = trusted.get("/where", headers={"host": host})
    assert (r.status_code, r.json()) == (200, {"ok": True})


@pytest.mark.parametrize("host", ["evil.com", "example.com.evil.com", "example.org", "bad host", "example.com:"])
def test_refused_hosts(trusted: Pair, host: str) -> None:
    r = trusted.get("/where", headers={"host": host})
    assert (r.status_code, r.text, r.headers["content-type"]) == (400, "Invalid host header",
                                                                  "text/plain; charset=utf-8")


def test_www_redirect(trusted: Pair) -> None:
    r = trusted.get("/where?x=1", headers={"host": "example.net:8000"})
    assert (r.status_code, r.headers["location"]) == (307, "http://www.example.net:8000/where?x=1")
    r = trusted.get("/a b", headers={"host": "example.net"})
    assert (r.status_code, r.headers["location"]) == (307, "http://www.example.net/a%20b")


def test_www_redirect_off(no_www: Pair) -> None:
    r = no_www.get("/where", headers={"host": "example.net"})
    assert (r.status_code, r.text) == (400, "Invalid host header")


@pytest.mark.parametrize("host, location", [
    ("example.com", "https://example.com/where?q=1"),
    ("example.com:80", "https://example.com/where?q=1"),
    ("Example.COM:443", "https://example.com/where?q=1"),
    ("example.com:8080", "https://example.com:8080/where?q=1"),
])
def test_https_redirect(https: Pair, host: str, location: str) -> None:
    r = https.get("/where?q=1", headers={"host": host})
    assert (r.status_code, r.headers["location"], r.content) == (307, location, b"")


def test_websocket_upgrade_redirected_to_wss(https: Pair) -> None:
    """A WebSocket handshake over plain ws:// is sent to wss:// (Starlette's websocket scope)."""
    host, port = https.client.base_url.host, https.client.base_url.port
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = s.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 307")
    assert "location: wss://example.com/ws\r\n" in head.lower()


def test_https_behind_trusted_proxy_passes(tmp_path_factory: pytest.TempPathFactory) -> None:
    from .compat import ported
    from .conftest import fastcore_argv

    factory = ServerFactory(tmp_path_factory.mktemp("https_proxy"))
    srv = factory.launch(fastcore_argv(ported("fa_hosts", "app_https"), "--forwarded-allow-ips", "127.0.0.1"))
    try:
        with srv.client(follow_redirects=False) as client:
            r = client.get("/where", headers={"x-forwarded-proto": "https"})
            assert (r.status_code, r.json()) == (200, {"ok": True})
            assert client.get("/where").status_code == 307
    finally:
        assert not factory.close()

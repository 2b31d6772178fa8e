"""TLS (src/server/tls.rs, src/server/protocol.rs): `fastcore run --ssl-certfile --ssl-keyfile`
serves HTTPS with a certificate made at test time (tests/certs.py), the request's scheme is
https, bodies and streams cross it unchanged, and every unusable certificate or key is one
clear line at start-up, not a traceback. App: tests/apps/protocols.py."""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from fastcore import FastCore
from fastcore._core import Server
from tests.certs import PASSWORD, Certs
from tests.conftest import REPO, ServerFactory, ServerProcess, serve_app, wait_until


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, certs: Certs) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "protocols", "--threads", "2", "--timeout-header", "2", *certs.server_args())


def client(srv: ServerProcess, certs: Certs, **kwargs: object) -> httpx.Client:
    return srv.client(verify=certs.trusting(), **kwargs)


def test_https_request_has_https_scheme(srv: ServerProcess, certs: Certs) -> None:
    assert srv.base_url.startswith("https://")
    assert "fastcore serving https://127.0.0.1:" in srv.log()
    with client(srv, certs) as c:
        resp = c.get("/info?x=1")
    assert resp.status_code == 200
    assert resp.http_version == "HTTP/1.1"
    assert resp.json() == {"scheme": "https", "http_version": "1.1", "url": f"{srv.base_url}/info?x=1",
                           "host": f"127.0.0.1:{srv.port}", "client": "127.0.0.1",
                           "port": resp.json()["port"]}


def test_websocket_over_tls(srv: ServerProcess, certs: Certs) -> None:
    """wss://: the upgrade is handed over on a TLS connection as on a plain one."""
    url = srv.base_url.replace("https://", "wss://") + "/ws"
    with connect(url, ssl=certs.trusting()) as ws:
        assert ws.recv(timeout=10) == url
        for text in ("hello", "é" * 1000):
            ws.send(text)
            assert ws.recv(timeout=10) == text
    with client(srv, certs) as c:  # the worker serves on
        assert c.get("/hello").status_code == 200


def test_keep_alive_connection_serves_many_requests(srv: ServerProcess, certs: Certs) -> None:
    with client(srv, certs, limits=httpx.Limits(max_connections=1)) as c:
        assert [c.get("/hello").json() for _ in range(20)] == [{"message": "Hello, World!"}] * 20


@pytest.mark.parametrize("route", ["/upload", "/upload-sync"])
def test_upload_over_tls(srv: ServerProcess, certs: Certs, route: str) -> None:
    body = os.urandom(3 * 1024 * 1024 + 17)
    with client(srv, certs) as c:
        resp = c.post(route, content=body)
    assert resp.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def test_streaming_and_large_responses_over_tls(srv: ServerProcess, certs: Certs) -> None:
    with client(srv, certs) as c:
        with c.stream("GET", "/stream/50") as resp:
            lines = list(resp.iter_lines())
        assert lines == [f"chunk {i}" for i in range(50)]
        big = c.get("/big/5000000")
        assert big.content == b"x" * 5_000_000


def test_background_task_runs_after_a_tls_response(srv: ServerProcess, certs: Certs) -> None:
    with client(srv, certs) as c:
        assert c.get("/background/tls-task").json() == {"queued": "tls-task"}
        wait_until(lambda: "tls-task" in c.get("/ran").json()["ran"], 10, "the background task")


def test_the_certificate_is_verified_against_its_name(srv: ServerProcess, certs: Certs) -> None:
    # The served certificate is the one given, and a client trusting another one refuses it.
    with client(srv, certs) as c:
        assert c.get("/hello").status_code == 200
    with httpx.Client(verify=certs.trusting(certs.other_cert)) as c:
        with pytest.raises(httpx.ConnectError):
            c.get(f"{srv.base_url}/hello")


def test_cleartext_request_to_tls_port_is_closed_and_server_lives(srv: ServerProcess, certs: Certs) -> None:
    with srv.connect() as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        data = sock.recv(65536)
    # Nothing an HTTP client could take for a response (a TLS alert at most), and no traceback.
    assert not data.startswith(b"HTTP/")
    with client(srv, certs) as c:
        assert c.get("/hello").status_code == 200
    assert "Traceback" not in srv.log()


def test_stalled_handshake_is_closed_by_the_header_timeout(srv: ServerProcess, certs: Certs) -> None:
    # --timeout-header 2: a client that connects and never says hello is closed.
    with srv.connect() as sock:
        sock.settimeout(15)
        assert sock.recv(1) == b""
    with client(srv, certs) as c:
        assert c.get("/hello").status_code == 200


def test_encrypted_key_with_its_password(server: ServerFactory, certs: Certs) -> None:
    srv = server("protocols", "--threads", "1", "--ssl-certfile", str(certs.encrypted_cert),
                 "--ssl-keyfile", str(certs.encrypted_key), "--ssl-keyfile-password", PASSWORD)
    with srv.client(verify=certs.trusting(certs.encrypted_cert)) as c:
        assert c.get("/info").json()["scheme"] == "https"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fastcore", "run", "tests.apps.protocols:app", "--port", "0", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def bad_configs(certs: Certs, tmp: Path) -> list[tuple[list[str], str]]:
    garbage = tmp / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")
    missing = tmp / "missing.pem"
    return [
        (["--ssl-certfile", str(missing), "--ssl-keyfile", str(certs.key)],
         f"cannot read ssl_certfile {missing}: No such file or directory"),
        (["--ssl-certfile", str(certs.cert), "--ssl-keyfile", str(missing)],
         f"cannot read ssl_keyfile {missing}: No such file or directory"),
        (["--ssl-certfile", str(certs.key), "--ssl-keyfile", str(certs.key)],
         f"ssl_certfile {certs.key} holds no certificate"),
        (["--ssl-certfile", str(certs.cert), "--ssl-keyfile", str(certs.cert)],
         f"ssl_keyfile {certs.cert} holds no private key"),
        (["--ssl-certfile", str(garbage), "--ssl-keyfile", str(certs.key)],
         f"ssl_certfile {garbage} is not valid PEM"),
        (["--ssl-certfile", str(certs.cert), "--ssl-keyfile", str(certs.other_key)],
         f"ssl_keyfile {certs.other_key} does not match the certificate in ssl_certfile {certs.cert}"),
        (["--ssl-certfile", str(certs.encrypted_cert), "--ssl-keyfile", str(certs.encrypted_key)],
         f"ssl_keyfile {certs.encrypted_key} is encrypted: give its password (--ssl-keyfile-password)"),
        (["--ssl-certfile", str(certs.encrypted_cert), "--ssl-keyfile", str(certs.encrypted_key),
          "--ssl-keyfile-password", "wrong"], f"cannot decrypt ssl_keyfile {certs.encrypted_key}: wrong password"),
        (["--ssl-certfile", str(certs.cert)], "TLS needs both ssl_certfile and ssl_keyfile"),
        (["--ssl-keyfile", str(certs.key)], "TLS needs both ssl_certfile and ssl_keyfile"),
    ]


def test_unusable_certificate_or_key_is_one_clear_line(certs: Certs, tmp_path: Path) -> None:
    for args, message in bad_configs(certs, tmp_path):
        proc = run(*args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert f"error: {message}" in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and "panicked" not in proc.stderr, proc.stderr
        assert "fastcore serving" not in proc.stderr


def test_server_object_raises_before_binding(certs: Certs, tmp_path: Path) -> None:
    app = FastCore()
    with pytest.raises(OSError, match="cannot read ssl_certfile"):
        Server(app.core, "127.0.0.1", 0, 1, ssl_certfile=tmp_path / "missing.pem", ssl_keyfile=certs.key)
    with pytest.raises(ValueError, match="does not match the certificate"):
        Server(app.core, "127.0.0.1", 0, 1, ssl_certfile=certs.cert, ssl_keyfile=str(certs.other_key))
    with pytest.raises(ValueError, match='http must be "1", "2" or "auto"'):
        Server(app.core, "127.0.0.1", 0, 1, http="3")
    assert Server(app.core, "127.0.0.1", 0, 1, ssl_certfile=certs.cert, ssl_keyfile=certs.key).scheme == "https"
    assert Server(app.core, "127.0.0.1", 0, 1).scheme == "http"


def test_legacy_encrypted_pem_key_is_refused_with_the_fix(certs: Certs, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.pem"
    legacy.write_text("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\n"
                      "AAAA\n-----END RSA PRIVATE KEY-----\n")
    proc = run("--ssl-certfile", str(certs.cert), "--ssl-keyfile", str(legacy))
    assert proc.returncode == 1
    assert "legacy OpenSSL format" in proc.stderr and "openssl pkcs8 -topk8" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_tls_with_worker_processes(server: ServerFactory, certs: Certs) -> None:
    srv = server("protocols", "--threads", "1", "--workers", "2", *certs.server_args(), ready_lines=2)
    assert "starting 2 worker processes on https://" in srv.log()
    with client(srv, certs) as c:
        assert c.get("/info").json()["scheme"] == "https"


def test_client_certificate_is_not_asked_for(srv: ServerProcess, certs: Certs) -> None:
    # A plain TLS client (stdlib ssl) completes the handshake with no client certificate and
    # negotiates TLS 1.2 or 1.3 (rustls's safe defaults).
    ctx = certs.trusting()
    with socket.create_connection((srv.host, srv.port), timeout=15) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            tls.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b'{"message":"Hello, World!"}')

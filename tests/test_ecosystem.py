"""asyncio libraries run unchanged inside handlers, on the worker loop whose selector is Tokio
(python/fastcore/_loop.py, src/fdwatch.rs, src/task.rs): httpx (http and https), redis.asyncio,
psycopg 3 (connections, transactions, a pool, a server restart), aiosqlite, anyio and
asyncio.TaskGroup — against real servers started by the tests (tests/services.py).
"""
from __future__ import annotations

import http.server
import os
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from .conftest import ServerFactory, ServerProcess, clients_on_each_worker, wait_until
from .services import postgres_server, redis_server  # noqa: F401  (fixtures)

pytest.importorskip("redis")
pytest.importorskip("psycopg")


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/slow":
            time.sleep(2)
        body = self.path.rsplit("/", 1)[-1].encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(tls: Path | None) -> tuple[http.server.ThreadingHTTPServer, str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    scheme = "http"
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls / "cert.pem", tls / "key.pem")
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"{scheme}://127.0.0.1:{srv.server_address[1]}"


@pytest.fixture(scope="module")
def eco(tmp_path_factory: pytest.TempPathFactory, redis_server, postgres_server) -> Iterator[ServerProcess]:  # noqa: F811
    certs = tmp_path_factory.mktemp("certs")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(certs / "key.pem"), "-out", str(certs / "cert.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    plain, plain_url = _serve(None)
    secure, secure_url = _serve(certs)
    env = {"REDIS_URL": redis_server.url, "PG_DSN": postgres_server.dsn, "UPSTREAM": plain_url,
           "UPSTREAM_TLS": secure_url, "UPSTREAM_CA": str(certs / "cert.pem"),
           "SQLITE_PATH": str(tmp_path_factory.mktemp("sqlite") / "db.sqlite3")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    factory = ServerFactory(tmp_path_factory.mktemp("eco"))
    try:
        yield factory("ecosystem", "--threads", "2")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        problems = factory.close()
        plain.shutdown()
        secure.shutdown()
    assert not problems, "\n".join(problems)


@pytest.fixture
def client(eco: ServerProcess) -> Iterator[httpx.Client]:
    with eco.client(timeout=30) as c:
        yield c


def test_importing_the_libraries_keeps_the_gil_off_on_free_threaded_builds(client: httpx.Client) -> None:
    import sysconfig
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        assert client.get("/gil").json() == {"gil_enabled": False}


@pytest.mark.parametrize("tls", [False, True])
def test_httpx_async_client(client: httpx.Client, tls: bool) -> None:
    body = client.get("/httpx", params={"n": 3, "tls": tls}).json()
    assert body == {"bodies": ["0", "1", "2"], "fanned": ["f0", "f1", "f2"]}


def test_httpx_timeout(client: httpx.Client) -> None:
    assert client.get("/httpx/timeout").json() == {"error": "ReadTimeout"}


def test_redis_get_set_pipeline(client: httpx.Client) -> None:
    for i in range(4):  # new connections each time, on both workers
        assert client.get(f"/redis/basic/k{i}").json() == {"got": f"value-k{i}", "piped": [1, 2, "2"]}


def test_redis_pubsub(client: httpx.Client) -> None:
    assert client.get("/redis/pubsub/news").json() == {"messages": ["one", "two"]}


def test_asyncio_timeout_around_redis(client: httpx.Client) -> None:
    assert client.get("/redis/timeout").json() == {"timed_out": True}


def test_postgres_queries_and_transactions(client: httpx.Client) -> None:
    assert client.get("/pg/query").json() == {"row": [42, True], "names": ["one", "two"]}


def test_postgres_pool(client: httpx.Client) -> None:
    body = client.get("/pg/pool/8").json()
    assert body == {"doubled": [0, 2, 4, 6, 8, 10, 12, 14], "pool_max": 4}


def test_postgres_restart_gives_clean_errors_then_recovers(client: httpx.Client, postgres_server) -> None:  # noqa: F811
    for _ in range(2):  # warm both workers' pools
        assert client.get("/pg/pooled").json()["ok"] is True
    postgres_server.stop()
    try:
        down = client.get("/pg/fresh")
        assert down.status_code == 200 and down.json() == {"ok": False, "error": "OperationalError"}
    finally:
        postgres_server.start()
    assert client.get("/pg/fresh").json() == {"ok": True, "value": 7}
    # Pooled connections broken by the restart are replaced, within the pool's own retries.
    wait_until(lambda: client.get("/pg/pooled").json().get("ok"), 15, "the pool to recover")


def test_aiosqlite(client: httpx.Client) -> None:
    assert client.get("/sqlite").json() == {"rows": [["a", 1], ["b", 2]]}


def test_anyio_and_asyncio_task_groups(client: httpx.Client) -> None:
    assert client.get("/anyio").json() == {
        "task_group": [2, 1, 0],
        "move_on_after": True,
        "fail_after": "TimeoutError",
        "cancel_scope": True,
        "to_thread": True,
        "stream": [0, 1, 2, 3, 4],
        "asyncio_task_group": ["a", "b"],
        "task_group_error": ["KeyError('boom')"],
        "current_task_listed": True,
    }


def _redis_clients(url: str, name: str) -> int:
    import redis
    return sum(1 for c in redis.Redis.from_url(url).client_list() if c.get("name") == name)


def test_disconnect_cancels_a_redis_wait_without_leaking_the_connection(eco: ServerProcess, redis_server) -> None:  # noqa: F811
    with eco.connect() as sock:
        sock.sendall(b"GET /redis/block/blocker HTTP/1.1\r\nHost: t\r\n\r\n")
        wait_until(lambda: _redis_clients(redis_server.url, "blocker") == 1, 10, "the handler to block in BLPOP")
    wait_until(lambda: _redis_clients(redis_server.url, "blocker") == 0, 10, "the redis connection to close")


def test_disconnect_cancels_a_postgres_query_without_leaking_the_backend(eco: ServerProcess, postgres_server) -> None:  # noqa: F811
    import psycopg

    def backends(condition: str = "true") -> int:
        with psycopg.connect(postgres_server.dsn) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sleeper' "
                                f"AND {condition}").fetchone()[0]

    with eco.connect() as sock:
        sock.sendall(b"GET /pg/sleep/sleeper HTTP/1.1\r\nHost: t\r\n\r\n")
        # Running the query, not merely connected: a cancel request that reaches the server
        # before the query starts is ignored by PostgreSQL.
        wait_until(lambda: backends("state = 'active' AND query LIKE 'SELECT pg_sleep%'") == 1, 10,
                   "the handler to sleep in PostgreSQL")
    wait_until(lambda: backends() == 0, 10, "the PostgreSQL backend to go away")


def test_a_connection_opened_on_one_worker_fails_clearly_when_awaited_on_another(eco: ServerProcess) -> None:
    with clients_on_each_worker(eco, 1) as by_worker:
        (first, [a]), (second, [b]) = by_worker.items()
        assert a.get("/conn/open").json()["thread"] == first
        assert a.get("/conn/use").json() == {"thread": first, "reply": "*-1\r\n"}
        body = b.get("/conn/use").json()
    assert body["thread"] == second
    assert "attached to a different loop" in body["error"], body
    assert "belong to the fastcore worker that created them" in body["error"]


def test_sqlalchemy_async_over_psycopg(server: ServerFactory, postgres_server, monkeypatch) -> None:  # noqa: F811
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("greenlet")
    monkeypatch.setenv("PG_DSN", postgres_server.dsn)
    srv = server("sqlalchemy_async", "--threads", "2")
    with srv.client(timeout=30) as c:
        assert c.get("/items").json() == {"names": ["one", "two"]}
        # greenlet's cp313t wheel is not declared GIL-free: the GIL comes back in this process.
        assert c.get("/gil").json() == {"gil_enabled": True}

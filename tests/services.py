"""Real Redis and PostgreSQL servers for the tests, on private ports, started and stopped here.

They come from Debian's packages (`redis-server`, `postgresql`), which `ci/services.sh`
installs. When a binary is missing the tests that need it are skipped, unless
`FASTCORE_REQUIRE_SERVICES=1` (set by ci/test.sh), where a missing server fails them.

PostgreSQL refuses to run as root; as root, it runs as the `postgres` user the package creates.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REQUIRED = os.environ.get("FASTCORE_REQUIRE_SERVICES") == "1"


def _missing(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"{what} is not installed; run ci/services.sh")
    pytest.skip(f"{what} is not installed (ci/services.sh installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"{what} did not start listening on port {port} within {timeout:.0f}s")


class Redis:
    def __init__(self, root: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _missing("redis-server")
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(root), "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_port(self.port, 15, "redis-server")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


class Postgres:
    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            _missing("postgresql")
        self.bin = Path(bins[-1]).parent
        self.as_postgres = os.geteuid() == 0
        # Not under pytest's 0700 temp root: the postgres user must be able to reach it.
        root = self.root = Path(tempfile.mkdtemp(prefix="fastcore-pg-"))
        self.dir = root / "pgdata"
        self.sockets = root / "pgsock"
        self.sockets.mkdir()
        self.port = _free_port()
        if self.as_postgres:
            shutil.chown(root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run("initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync")
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        argv = [str(self.bin / tool), *args]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.fail(f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir), "-o", options, "-l", str(self.dir / "log"), "-w", "start")
        _wait_port(self.port, 30, "postgresql")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    server = Redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    server = Postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)

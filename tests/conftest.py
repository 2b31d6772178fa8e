"""Shared infrastructure: real fastcore server processes, driven over real sockets.

Every test talks HTTP to a subprocess started as

    sys.executable -m fastcore run tests.apps.<module>:app --host 127.0.0.1 --port 0 ...

with the repository root as working directory and stdout+stderr captured in a log file. The
server binds a port the kernel picks and names it in its start-up line ("fastcore serving
http://HOST:PORT"), which is where the tests learn it: no port is guessed, so none can be taken
by a client socket between the guess and the bind.

- `server(app, *args)`: function-scoped factory; every server it starts is stopped with SIGINT
  at teardown, which must end the process with exit code 0.
- `routing_server`, `values_server`, ...: one server per app module, shared by the session.
"""
from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from tests.browser import Browser, chromium
from tests.certs import Certs, make_certs
from tests.services import REQUIRED

REPO = Path(__file__).resolve().parent.parent
# Generous: on a busy machine a free-threaded 3.13.5 process can take 10-20 s just to import
# fastcore (its critical sections spin on sched_yield, and every yield hands the CPU away).
STARTUP_TIMEOUT = 60.0
EXIT_TIMEOUT = 15.0

FREE_THREADED_BUILD = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
needs_free_threading = pytest.mark.skipif(not FREE_THREADED_BUILD, reason="needs a free-threaded (3.13t) build")
needs_gil_build = pytest.mark.skipif(FREE_THREADED_BUILD, reason="needs a GIL build of CPython")


SERVING = re.compile(r"fastcore serving (?:http|https)://(\S+):(\d+) \(")


def _raise_open_files_limit() -> None:
    """Thousands of connections at once need a descriptor each, in the client and in the server
    (which inherits this limit): raise the soft limit to the hard one, as bench/run.sh does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


_raise_open_files_limit()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on, below Linux's ephemeral range (32768+) so that no client socket
    of these tests can be given it meanwhile. For the few tests that need a port number up front
    (a port nobody serves, or `--port N` itself); servers otherwise bind port 0."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_until(predicate: Callable[[], object], timeout: float, what: str, on_fail: Callable[[], str] = str) -> object:
    """Polls `predicate` until it returns something truthy; fails (not sleeps forever) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{on_fail()}")
        time.sleep(0.05)


class ServerProcess:
    """One fastcore server process, its address and its log.

    `port` may be None (the server was told `--port 0`): the address is then read from the
    server's start-up line. `ready_lines` is how many start-up lines to wait for (one per
    process); 0 for a server that logs none (`--log-level warning`), whose `port` must be given."""

    def __init__(self, argv: list[str], port: int | None, log_path: Path, ready_lines: int = 1) -> None:
        self.argv = argv
        self.port: int = port or 0
        self.host = "127.0.0.1"
        self.scheme = "https" if "--ssl-certfile" in argv else "http"
        self.log_path = log_path
        self.ready_lines = ready_lines
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "ServerProcess":
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        try:
            wait_until(self._ready, STARTUP_TIMEOUT, f"{' '.join(self.argv)} to accept connections",
                       self.describe)
        except BaseException:
            self.kill()
            raise
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"server exited with code {self.proc.returncode} before accepting connections\n"
                        f"{self.describe()}")
        serving = SERVING.findall(self.log())
        if len(serving) < self.ready_lines:
            return False
        if serving:
            host, port = serving[0]
            assert {p for _, p in serving} == {port}, f"processes serve different ports: {serving}"
            if self.port:
                assert int(port) == self.port, f"asked for port {self.port}, serving {port}"
            self.host, self.port = host, int(port)
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        assert self.proc is not None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"server did not exit within {timeout:.0f}s\n{self.describe()}")
        return self.returncode

    def stop(self, sig: int = signal.SIGINT, timeout: float = EXIT_TIMEOUT) -> int:
        """Sends `sig` and returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.send_signal(sig)
        return self.wait_exit(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    # -- log ---------------------------------------------------------------------------------
    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, needle: str, timeout: float = 10.0, count: int = 1) -> str:
        """Waits until `needle` occurs at least `count` times in the log; returns the log."""
        wait_until(lambda: self.log().count(needle) >= count, timeout, f"{needle!r} (x{count}) in the server log",
                   self.describe)
        return self.log()

    def describe(self) -> str:
        state = "running" if self.running else f"exited with {self.proc.returncode if self.proc else None}"
        return f"--- server {' '.join(self.argv[2:])} ({state}), log {self.log_path}:\n{self.log()}\n--- end of log"

    # -- clients -----------------------------------------------------------------------------
    def client(self, **kwargs: object) -> httpx.Client:
        kwargs.setdefault("timeout", 15.0)
        return httpx.Client(base_url=self.base_url, **kwargs)  # type: ignore[arg-type]

    def connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=15)
        return sock


@contextlib.contextmanager
def clients_on_each_worker(srv: ServerProcess, per_worker: int, workers: int = 2,
                           route: str = "/whoami") -> Iterator[dict[int, list[httpx.Client]]]:
    """Keep-alive connections pinned to worker threads: opens connections (an httpx.Client of one
    connection each) until each of `workers` worker threads serves `per_worker` of them, and
    yields them by worker thread id. A connection stays on the worker that accepted it, so a
    request on one of these clients runs on that worker; `route` must answer {"thread": id}."""
    by_worker: dict[int, list[httpx.Client]] = {}
    spare: list[httpx.Client] = []
    try:
        for _ in range(workers * per_worker + 64):
            if len(by_worker) == workers and all(len(cs) >= per_worker for cs in by_worker.values()):
                break
            c = srv.client(limits=httpx.Limits(max_connections=1))
            thread = c.get(route).json()["thread"]
            if len(by_worker.get(thread, [])) < per_worker and (thread in by_worker or len(by_worker) < workers):
                by_worker.setdefault(thread, []).append(c)
            else:
                spare.append(c)  # kept open until the end, so the next connection goes elsewhere
        else:
            pytest.fail(f"could not get {per_worker} connections on each of {workers} workers: "
                        f"{ {t: len(cs) for t, cs in by_worker.items()} }")
        for c in spare:
            c.close()
        yield by_worker
    finally:
        for c in spare + [c for cs in by_worker.values() for c in cs]:
            c.close()


def refused(host: str, port: int) -> bool:
    """True if a new connection to host:port is refused (nothing listens there)."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def fastcore_argv(target: str, *args: str, port: int = 0, host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "fastcore", "run", target, "--host", host, "--port", str(port), *args]


class ServerFactory:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[ServerProcess] = []

    def __call__(self, app: str, *args: str, ready_lines: int = 1) -> ServerProcess:
        """Starts `fastcore run tests.apps.<app>:app --port 0` with extra CLI `args`."""
        return self.launch(fastcore_argv(f"tests.apps.{app}:app", *args), ready_lines=ready_lines)

    def launch(self, argv: list[str], port: int | None = None, ready_lines: int = 1) -> ServerProcess:
        """Starts an arbitrary command that logs fastcore's start-up line (and, if given, must
        serve on `port`)."""
        assert port or ready_lines, "a server that logs no start-up line must be given its port"
        log = self.tmp_path / f"server-{len(self.started)}.log"
        srv = ServerProcess(argv, port, log, ready_lines=ready_lines)
        self.started.append(srv)
        return srv.start()

    def close(self) -> list[str]:
        problems = []
        for srv in self.started:
            if srv.proc is None:
                continue
            if srv.running:
                code = srv.stop(signal.SIGINT)
            else:
                code = srv.proc.returncode
            if code != 0:
                problems.append(f"server exited with code {code}\n{srv.describe()}")
        return problems


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        problems = factory.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless chromium (tests/browser.py), closed afterwards."""
    b = chromium()
    if b is None:
        why = "Debian's chromium is not installed (ci/services.sh installs it)"
        pytest.fail(why) if REQUIRED else pytest.skip(why)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """Throwaway TLS certificates (tests/certs.py), one set per test module."""
    return make_certs(tmp_path_factory.mktemp("certs"))


def serve_app(tmp_path_factory: pytest.TempPathFactory, app: str, *args: str) -> Iterator[ServerProcess]:
    """For session- and module-scoped fixtures: `yield from serve_app(tmp_path_factory, "forms", "--threads", "2")`
    starts tests.apps.<app>:app and checks at teardown that it stopped cleanly."""
    factory = ServerFactory(tmp_path_factory.mktemp(app))
    srv = factory(app, *args)
    try:
        yield srv
    finally:
        problems = factory.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="session")
def routing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "routing", "--threads", "2")


@pytest.fixture(scope="session")
def values_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "values", "--threads", "2")


@pytest.fixture(scope="session")
def params_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "params", "--threads", "2")


@pytest.fixture(scope="session")
def faults_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "faults", "--threads", "2")


@pytest.fixture
def routing(routing_server: ServerProcess) -> Iterator[httpx.Client]:
    with routing_server.client() as c:
        yield c


@pytest.fixture
def values(values_server: ServerProcess) -> Iterator[httpx.Client]:
    with values_server.client() as c:
        yield c


@pytest.fixture
def params(params_server: ServerProcess) -> Iterator[httpx.Client]:
    with params_server.client() as c:
        yield c


@pytest.fixture
def faults(faults_server: ServerProcess) -> Iterator[httpx.Client]:
    with faults_server.client() as c:
        yield c


# -- raw HTTP/1.1 over a socket, for what httpx hides (pipelining, HEAD framing, HTTP/1.0) ----

class RawResponse:
    def __init__(self, version: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.version, self.status, self.reason, self.headers, self.body = version, status, reason, headers, body

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"header {name} sent {len(values)} times: {values}"
        return values[0] if values else None

    def __repr__(self) -> str:
        return f"<RawResponse {self.status} {self.headers} {self.body[:80]!r}>"


def read_response(stream, *, head: bool = False) -> RawResponse:
    """Reads one response from a buffered socket file; the body is framed by content-length only."""
    status_line = stream.readline()
    assert status_line, "connection closed before a response arrived"
    version, status, reason = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        line = stream.readline()
        assert line, "connection closed inside the response head"
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    lengths = [v for k, v in headers if k == "content-length"]
    assert not any(k == "transfer-encoding" for k, _ in headers), f"unexpected chunked response: {headers}"
    body = b""
    if not head and lengths:
        n = int(lengths[0])
        body = stream.read(n)
        assert len(body) == n, f"body cut short: {len(body)} of {n} bytes"
    return RawResponse(version, int(status), reason, headers, body)


@pytest.fixture(scope="session")
def responses_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "responses", "--threads", "2")


@pytest.fixture(scope="session")
def files_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "files", "--threads", "2")


# -- apps written with FastAPI's imports, served by fastcore and compared with FastAPI ---------

@pytest.fixture(scope="session")
def fa_params(tmp_path_factory: pytest.TempPathFactory):
    """tests/apps/fa_params.py on fastcore (and FastAPI, where installed): a compat.Pair."""
    from .compat import serve_pair

    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_params")), "fa_params", "--threads", "2")


@pytest.fixture(scope="session")
def fa_deps(tmp_path_factory: pytest.TempPathFactory):
    """tests/apps/fa_deps.py (dependencies) on fastcore and FastAPI: a compat.Pair."""
    from .compat import serve_pair

    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_deps")), "fa_deps", "--threads", "2")


@pytest.fixture(scope="session")
def fa_forms(tmp_path_factory: pytest.TempPathFactory):
    """tests/apps/fa_forms.py (Form, File, UploadFile, OAuth2 forms) on fastcore and FastAPI."""
    from .compat import serve_pair

    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_forms")), "fa_forms", "--threads", "2")

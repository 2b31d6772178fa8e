"""The servers under test (ServerDef, SERVERS: raw hyper, fastcore, the peers), their commands,
and starting one on a free port until it answers."""
from __future__ import annotations

import http.client
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config import APPS, BASELINE, ROOT, SERVER_CPUS, VENVS
from .procs import Proc, free_port


@dataclass
class ServerDef:
    name: str
    label: str
    kind: str                               # "baseline" | "fastcore" | "peer"
    python: Path | None                     # interpreter (for versions), None for Rust
    argv: Callable[[int], list[str]]        # the command, given the port
    config: str                             # how it is configured, for the report
    env: dict[str, str] = field(default_factory=dict)
    venv: str | None = None                 # bench/.venvs/<venv>; a <venv>.failed file means not installable
    packages: tuple[str, ...] = ()          # versions to show in the report

    def unavailable(self) -> str | None:
        """Why this server cannot run here, or None."""
        if self.venv:
            failed = VENVS / f"{self.venv}.failed"
            if failed.exists():
                return f"could not be installed: {failed.read_text().strip()[-600:]}"
        exe = Path(self.argv(0)[0])
        if not exe.exists():
            return f"{exe} not found (provisioning did not run or failed)"
        return None


def fastcore_cmd(venv: str, target: str = "fastcore_app:app") -> Callable[[int], list[str]]:
    """`fastcore run TARGET` from ROOT/venv, one worker thread, on the given port (cwd: APPS)."""
    py = ROOT / venv / "bin" / "python"
    return lambda port: [str(py), "-m", "fastcore", "run", target, "--host", "127.0.0.1",
                         "--port", str(port), "--threads", "1", "--log-level", "warning"]


def uvicorn_cmd(venv: str, target: str) -> Callable[[int], list[str]]:
    """uvicorn from bench/.venvs/venv serving TARGET from APPS: uvloop, httptools, no access log."""
    return lambda port: [str(VENVS / venv / "bin/uvicorn"), target, "--app-dir", str(APPS), "--host", "127.0.0.1",
                         "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                         "--log-level", "warning"]


def _granian(venv: str, interface: str, target: str, loop: str) -> Callable[[int], list[str]]:
    exe = VENVS / venv / "bin" / "granian"
    return lambda port: [str(exe), "--interface", interface, "--host", "127.0.0.1", "--port", str(port),
                         "--workers", "1", "--runtime-threads", "1", "--runtime-mode", "st", "--loop", loop,
                         "--http", "1", "--no-ws", "--log-level", "warning", "--working-dir", str(APPS), target]


SERVERS: list[ServerDef] = [
    ServerDef("hyper", "raw hyper (Rust)", "baseline", None,
              lambda port: [str(BASELINE), "--port", str(port), "--upstream", UPSTREAM_URL],
              "bench/hyper_baseline: hyper 1.x http1, one current_thread Tokio runtime, no Python"),
    ServerDef("fastcore-313t", "fastcore 3.13t", "fastcore", ROOT / ".venv-313t/bin/python", fastcore_cmd(".venv-313t"),
              "fastcore run --threads 1, free-threaded CPython 3.13t", packages=("pydantic",)),
    ServerDef("fastcore-gil", "fastcore 3.11", "fastcore", ROOT / ".venv-gil/bin/python", fastcore_cmd(".venv-gil"),
              "fastcore run --threads 1, GIL CPython 3.11", packages=("pydantic",)),
    ServerDef("granian-rsgi", "Granian RSGI 3.13t", "peer", VENVS / "peers-313t/bin/python",
              _granian("peers-313t", "rsgi", "rsgi_app:app", "asyncio"),
              "granian --interface rsgi --workers 1 --runtime-threads 1 --runtime-mode st --http 1 --no-ws "
              "(loop asyncio: uvloop has no 3.13t wheels), bare RSGI app, 3.13t",
              venv="peers-313t", packages=("granian", "pydantic", "httpx")),
    ServerDef("granian-asgi", "Granian ASGI 3.13t", "peer", VENVS / "peers-313t/bin/python",
              _granian("peers-313t", "asgi", "asgi_app:app", "asyncio"),
              "granian --interface asgi, same settings, bare ASGI app, 3.13t",
              venv="peers-313t", packages=("granian", "pydantic", "httpx")),
    ServerDef("fastapi-uvicorn", "FastAPI + uvicorn", "peer", VENVS / "peers-311/bin/python",
              uvicorn_cmd("peers-311", "fastapi_app:app"),
              "uvicorn --loop uvloop --http httptools, one process, no access log, CPython 3.11",
              venv="peers-311", packages=("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic", "httpx")),
    ServerDef("fastapi-granian", "FastAPI + Granian", "peer", VENVS / "peers-311/bin/python",
              _granian("peers-311", "asgi", "fastapi_app:app", "uvloop"),
              "granian --interface asgi --loop uvloop --workers 1 --runtime-threads 1 --runtime-mode st "
              "--http 1 --no-ws, CPython 3.11",
              venv="peers-311", packages=("fastapi", "granian", "uvloop", "pydantic", "httpx")),
    ServerDef("robyn", "Robyn 3.11", "peer", VENVS / "robyn-311/bin/python",
              lambda port: [str(VENVS / "robyn-311/bin/python"), "robyn_app.py", "--processes", "1",
                            "--workers", "1", "--log-level", "WARN", "--disable-openapi"],
              "python robyn_app.py --processes 1 --workers 1, CPython 3.11",
              env={"ROBYN_HOST": "127.0.0.1"}, venv="robyn-311", packages=("robyn", "pydantic", "httpx")),
]
# BEFORE=dir (run.sh; --before here): also serve the `fastcore` package in `dir` (a python/ tree
# of another commit, its extension built or copied in) on both interpreters, first on the path,
# so one run compares two builds against the same baseline.
_BEFORE = os.environ.get("BENCH_BEFORE")
if _BEFORE:
    for _venv, _label, _tag in ((".venv-313t", "3.13t", "313t"), (".venv-gil", "3.11", "gil")):
        SERVERS.append(ServerDef(f"fastcore-{_tag}-before", f"fastcore {_label} (BEFORE)", "fastcore",
                                 ROOT / _venv / "bin/python", fastcore_cmd(_venv),
                                 f"the same, with the fastcore package from {_BEFORE}",
                                 env={"PYTHONPATH": _BEFORE}, packages=("pydantic",)))
SERVER_BY_NAME = {s.name: s for s in SERVERS}
UPSTREAM_URL = "http://127.0.0.1:9/delay"   # set once the upstream is running


def use_upstream(url: str) -> None:
    """Points raw hyper's /fanout and every server's BENCH_UPSTREAM at the running upstream."""
    global UPSTREAM_URL
    UPSTREAM_URL = url


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 10.0) -> tuple[int, dict[str, str], bytes, float]:
    """One request on a new connection: (status, headers, body, elapsed ms)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        t0 = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        ms = (time.perf_counter() - t0) * 1000
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, ms
    finally:
        conn.close()


class ServerFailed(Exception):
    pass


def start_server(sd: ServerDef, raw: Path, tag: str, cpus: str = SERVER_CPUS,
                 extra_argv: list[str] | None = None) -> tuple[Proc, int]:
    port = free_port()
    env = dict(sd.env, BENCH_UPSTREAM=UPSTREAM_URL)
    if sd.name == "robyn":
        env["ROBYN_PORT"] = str(port)
    proc = Proc(sd.argv(port) + (extra_argv or []), cpus, raw / f"{tag}.server.log", env=env)
    return proc, wait_ready(proc, port, sd.name)


def wait_ready(proc: Proc, port: int, name: str, timeout: float = 30.0) -> int:
    """Waits until the server answers GET /plaintext with 200; returns its port. Raises
    ServerFailed (and stops it) if it exits or does not answer within `timeout` seconds
    (Python start-up and imports can take a few)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            proc.stop()
            raise ServerFailed(f"{name} exited during start-up:\n{proc.log_tail()}")
        try:
            if request(port, "GET", "/plaintext", timeout=1)[0] == 200:
                return port
        except OSError:
            pass
        time.sleep(0.1)
    proc.stop()
    raise ServerFailed(f"{name} did not answer on port {port} within {timeout:g} s:\n{proc.log_tail()}")

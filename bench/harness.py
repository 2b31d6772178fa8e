#!/usr/bin/env python3
"""Runs the benchmark suite and writes results.json; bench/report.py turns that into REPORT.md.

    python bench/harness.py --out bench/results            full run (bench/run.sh calls this)
    python bench/harness.py --out DIR --quick              CI smoke run: correctness, no judging speed
    python bench/harness.py --out DIR --merge --parts matrix --scenarios fanout
                                                           re-measure a subset into DIR/results.json

Parts (each can be picked with --parts):
  checks   every server answers every scenario with the right status and body
  matrix   wrk against every server x scenario: REPS interleaved repetitions, median later
  sweep    fixed-rate load (bench/hyper_baseline loadgen) at rising rates: latency vs load
  scaling  fastcore on 3.13t with 1 vs 2 worker threads, CPU-heavy handler
  memory   RSS of 10,000 suspended requests, per request

Every server runs on CPU 0 (taskset -c 0) and every load generator on CPU 1, so client and
server never compete for a core. The fan-out upstream (raw hyper, /delay = 5 ms) also runs on
CPU 1, beside the load generator. Standard library only: runs on any Python 3.11+.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
APPS = BENCH / "apps"
VENVS = BENCH / ".venvs"
TOOLS = BENCH / "hyper_baseline" / "target" / "release"
BASELINE = TOOLS / "hyper-baseline"
LOADGEN = TOOLS / "loadgen"
HZ = os.sysconf("SC_CLK_TCK")
SERVER_CPUS = "0"
CLIENT_CPUS = "1"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --- servers ------------------------------------------------------------------------------------

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


# --- scenarios ----------------------------------------------------------------------------------

HELLO = b'{"message":"Hello, World!"}'


def _payload_bytes() -> bytes:
    rows = [{"id": i, "name": f"item-{i:04d}", "price": i + 0.5, "in_stock": i % 2 == 0, "tags": ["alpha", "beta"]}
            for i in range(124)]
    return json.dumps({"items": rows}, separators=(",", ":")).encode()


ITEM = b'{"name":"widget","price":9.5,"tags":["a","b"]}'
UPLOAD_SIZE = 1024 * 1024


@dataclass
class Scenario:
    name: str
    title: str
    method: str
    path: str
    expect: bytes                  # the reference body; JSON bodies may differ in bytes but not in value
    status: int = 200
    conns: int = 64
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    wrk_args: tuple[str, ...] = ()
    min_ms: float = 0.0            # a correct answer cannot be faster (proves the sleep/upstream wait)
    json: bool = True


SCENARIOS: list[Scenario] = [
    Scenario("plaintext", "Plain-text hello", "GET", "/plaintext", b"Hello, World!", json=False),
    Scenario("json", "JSON hello, sync handler", "GET", "/", HELLO),
    Scenario("json-async", "JSON hello, async handler", "GET", "/async", HELLO),
    Scenario("params", "Path + query parameters", "GET", "/users/42?q=hello", b'{"user_id":42,"q":"hello"}'),
    Scenario("pydantic", "POST pydantic body + response_model (201)", "POST", "/items", ITEM, status=201,
             body=ITEM, headers={"Content-Type": "application/json"},
             wrk_args=("-s", str(BENCH / "wrk/post_items.lua"))),
    Scenario("json10k", "10 KB JSON response", "GET", "/json10k", _payload_bytes()),
    Scenario("sleep", "async handler awaiting a 10 ms sleep, 1,000 connections", "GET", "/sleep", HELLO,
             conns=1000, min_ms=10),
    # 64 connections, not more: httpx costs over 1 ms of CPU per call (more while it opens a burst
    # of connections), so the httpx-based peers manage a few hundred calls/s; at 256 connections
    # their queueing pushed every request past wrk's 2 s timeout (httpx: ConnectTimeout).
    Scenario("fanout", "async handler, two concurrent upstream calls (5 ms each), 64 connections", "GET",
             "/fanout", b'{"upstream":[' + HELLO + b"," + HELLO + b"]}", conns=64, min_ms=5),
    Scenario("upload", "1 MB request body upload, 16 connections", "POST", "/upload",
             b'{"size":%d}' % UPLOAD_SIZE, conns=16, body=b"x" * UPLOAD_SIZE,
             headers={"Content-Type": "application/octet-stream"},
             wrk_args=("-s", str(BENCH / "wrk/upload_1mb.lua"))),
    Scenario("conn-close", "JSON hello, keep-alive off (new connection per request)", "GET", "/", HELLO,
             headers={"Connection": "close"}, wrk_args=("-H", "Connection: close")),
]
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}


# --- processes and /proc ------------------------------------------------------------------------

def free_port() -> int:
    """A free port below Linux's ephemeral range (32768+), so load generators' client sockets
    cannot collide with it."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def tree_pids(root: int) -> list[int]:
    """root and all its descendants (Granian and Robyn run workers in child processes)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_kb(root: int, key: str) -> int:
    """Sum of VmHWM (peak) or VmRSS over the process tree, in KiB."""
    return sum(status_kb(p, key) for p in tree_pids(root))


def tree_ticks(root: int) -> int:
    total = 0
    for p in tree_pids(root):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime + stime
        except OSError:
            pass
    return total


def thread_ticks(pid: int, name: str = "fastcore-worker") -> list[int]:
    """CPU ticks of each thread of `pid` called `name` (fastcore's worker threads), in thread order."""
    out = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda p: int(p.name)):
        try:
            if (task / "comm").read_text().strip() == name:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                out.append(int(fields[11]) + int(fields[12]))
        except OSError:
            pass
    return out


def cpu_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of all CPUs, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = f
    return user + nice + system, steal, sum(f)


def busy_pct(seconds: float = 1.0) -> float:
    """How busy the CPUs are with nothing of ours running (the pre-run load check)."""
    b0, s0, t0 = cpu_ticks()
    time.sleep(seconds)
    b1, s1, t1 = cpu_ticks()
    return 100.0 * ((b1 - b0) + (s1 - s0)) / max(1, t1 - t0)


class Proc:
    """A process we started in its own session, so stopping it stops its children too."""

    def __init__(self, argv: list[str], cpus: str, log_path: Path, cwd: Path = APPS,
                 env: dict[str, str] | None = None) -> None:
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.log_path = log_path
        self.logf = open(log_path, "wb")
        # taskset execs the command, so self.pid is the server itself.
        self.p = subprocess.Popen(["taskset", "-c", cpus, *argv], cwd=cwd, env=full_env, stdout=self.logf,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.p.pid

    def alive(self) -> bool:
        return self.p.poll() is None

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # Children (Granian/Robyn workers) may outlive a killed parent: end the whole group.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.logf.close()

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


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


# --- load generators ----------------------------------------------------------------------------

def to_ms(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    if not m:
        raise ValueError(f"bad wrk latency {v!r}")
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(text: str) -> dict:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not rps:
        raise ValueError(f"could not parse wrk output:\n{text}")
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    total = re.search(r"^\s+(\d+) requests in", text, re.M)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": to_ms(lat["50"]), "p99_ms": to_ms(lat["99"]),
        "requests": int(total.group(1)) if total else 0,
        "errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errs.groups()))) if errs else {},
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def run_pinned(argv: list[str], cpus: str = CLIENT_CPUS) -> tuple[str, float, int]:
    """Runs a command pinned to `cpus`, returns (output, CPU seconds it used, exit code). The CPU
    time comes from wait4's rusage, so it covers exactly this process."""
    p = subprocess.Popen(["taskset", "-c", cpus, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks = []
    while True:
        b = p.stdout.read(65536)
        if not b:
            break
        chunks.append(b)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return b"".join(chunks).decode(errors="replace"), ru.ru_utime + ru.ru_stime, p.returncode


def wrk_argv(port: int, sc: Scenario, seconds: float, conns: int | None = None, path: str | None = None,
             timeout: float = 2.0) -> list[str]:
    """wrk's command line. `timeout` is how long a request may wait before wrk counts it as failed
    (wrk's own default, 2 s, for measurements; the smoke run allows more, see `Bench.wrk_timeout`)."""
    return ["wrk", "-t1", f"-c{conns or sc.conns}", f"-d{seconds:g}s", f"--timeout={timeout:g}s", "--latency",
            *sc.wrk_args, f"http://127.0.0.1:{port}{path or sc.path}"]


# --- parts --------------------------------------------------------------------------------------

class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out)
        self.raw = self.out / "raw"
        self.raw.mkdir(parents=True, exist_ok=True)
        self.results_path = self.out / "results.json"
        self.results: dict = {"meta": {}, "servers": {}, "scenarios": {}, "checks": {}, "runs": [],
                              "sweep": {}, "scaling": {}, "memory": {}, "notes": [], "failures": []}
        self.servers = [SERVER_BY_NAME[n] for n in args.servers]
        self.scenarios = [SCENARIO_BY_NAME[n] for n in args.scenarios]
        self.upstream: Proc | None = None
        self.failed_now: list[str] = []
        # The smoke run judges answers, not speed, and may run on a loaded CI machine: an answer
        # that comes late there is not a failure. Measurements keep wrk's 2 s.
        self.wrk_timeout = 30.0 if args.quick else 2.0
        # --merge: read the previous results now, before anything saves over them.
        self.previous = json.loads(self.results_path.read_text()) \
            if args.merge and self.results_path.exists() else None

    # bookkeeping
    def save(self) -> None:
        tmp = self.results_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.results, indent=1))
        tmp.replace(self.results_path)

    def note(self, msg: str) -> None:
        log(msg)
        self.results["notes"].append(msg)

    def fail(self, msg: str) -> None:
        """A wrong answer: recorded, printed, and makes --quick exit non-zero."""
        log(f"FAIL: {msg}")
        self.results["failures"].append(msg)
        self.failed_now.append(msg)

    def load_errors(self, what: str, errors: dict[str, int] | int) -> None:
        """Socket errors or timeouts under load: requests that never got an answer. They fail the
        smoke run (--quick); a full run keeps its numbers and carries a warning in the report."""
        n = sum(errors.values()) if isinstance(errors, dict) else errors
        if not n:
            return
        msg = f"{what}: {n} requests failed under load (socket errors or timeouts: {errors})"
        if self.args.quick:
            self.fail(msg)
        else:
            self.note(f"WARNING: {msg}")

    def available(self) -> list[ServerDef]:
        return [s for s in self.servers if self.results["servers"][s.name]["available"]]

    def meta(self) -> None:
        def ver(py: Path | None, pkgs: tuple[str, ...]) -> dict:
            if py is None or not py.exists():
                return {}
            code = ("import json, platform, sys, importlib.metadata as m\n"
                    "v = {'python': platform.python_version() + ('t' if not getattr(sys, '_is_gil_enabled', lambda: True)() else '')}\n"
                    f"for p in {list(pkgs)!r}:\n"
                    "    try: v[p] = m.version(p)\n"
                    "    except Exception: pass\n"
                    "print(json.dumps(v))")
            try:
                return json.loads(subprocess.run([str(py), "-c", code], capture_output=True, text=True,
                                                 timeout=60).stdout)
            except (ValueError, subprocess.SubprocessError):
                return {}

        cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                    if l.startswith("model name")), "?")
        git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "python"],
                               capture_output=True, text=True).stdout.strip()
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip() \
            if shutil.which("rustc") else "?"
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        self.results["meta"] = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": (git.stdout.strip() or "none") + (" (src/ or python/ modified)" if dirty else ""),
            "cpus": os.cpu_count(), "cpu_model": cpu, "kernel": platform.release(),
            "quick": self.args.quick, "duration": self.args.duration, "warmup": self.args.warmup,
            "reps": self.args.reps, "rustc": rustc,
            "wrk": (wrk.stdout + wrk.stderr).splitlines()[0] if (wrk.stdout + wrk.stderr) else "?",
            "pinning": f"servers on CPU {SERVER_CPUS}, load generators and the fan-out upstream on CPU {CLIENT_CPUS}",
        }
        for sd in self.servers:
            why = sd.unavailable()
            self.results["servers"][sd.name] = {
                "label": sd.label, "kind": sd.kind, "config": sd.config, "available": why is None,
                "unavailable": why, "versions": ver(sd.python, sd.packages) if why is None else {},
            }
            if why:
                self.note(f"{sd.name} skipped: {why}")
        for sc in SCENARIOS:
            self.results["scenarios"][sc.name] = {"title": sc.title, "method": sc.method, "path": sc.path,
                                                  "conns": sc.conns, "expect_len": len(sc.expect),
                                                  "expect_status": sc.status,
                                                  "expect_sha256": hashlib.sha256(sc.expect).hexdigest()[:12]}
        self.save()

    def load_check(self) -> None:
        busy = busy_pct()
        self.results["meta"]["busy_before_pct"] = round(busy, 1)
        if busy > 10:
            self.note(f"WARNING: the CPUs were {busy:.0f}% busy before the run; other load makes these numbers "
                      "unreliable (ratios suffer less than absolute numbers, but trust neither).")

    def start_upstream(self) -> None:
        global UPSTREAM_URL
        port = free_port()
        self.upstream = Proc([str(BASELINE), "--port", str(port)], CLIENT_CPUS, self.raw / "upstream.log", cwd=ROOT)
        for _ in range(100):
            try:
                if request(port, "GET", "/delay", timeout=1)[0] == 200:
                    UPSTREAM_URL = f"http://127.0.0.1:{port}/delay"
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the upstream (hyper-baseline) did not start")

    # part: checks
    def check_one(self, port: int, sc: Scenario) -> dict:
        try:
            status, headers, body, ms = request(port, sc.method, sc.path, sc.body, sc.headers)
        except OSError as e:
            return {"ok": False, "why": f"request failed: {e}"}
        res = {"status": status, "len": len(body), "sha256": hashlib.sha256(body).hexdigest()[:12],
               "identical": body == sc.expect, "content_type": headers.get("content-type", ""),
               "ms": round(ms, 2)}
        why = []
        if status != sc.status:
            why.append(f"status {status}, expected {sc.status}")
        if not res["identical"]:
            try:
                same = sc.json and json.loads(body) == json.loads(sc.expect)
            except ValueError:
                same = False
            if not same:
                why.append(f"body {body[:120]!r}, expected {sc.expect[:120]!r}")
        if sc.json and not res["content_type"].startswith("application/json"):
            why.append(f"content-type {res['content_type']!r}")
        if not sc.json and not res["content_type"].startswith("text/plain"):
            why.append(f"content-type {res['content_type']!r}")
        if ms < sc.min_ms:
            why.append(f"answered in {ms:.1f} ms, faster than the {sc.min_ms:g} ms the handler must wait")
        if sc.headers.get("Connection") == "close" and headers.get("connection", "").lower() != "close":
            why.append("no 'connection: close' in the response to a 'Connection: close' request")
        res["ok"] = not why
        res["why"] = "; ".join(why)
        return res

    def part_checks(self) -> None:
        log("checks: every server x scenario, status and body")
        for sd in self.available():
            try:
                proc, port = start_server(sd, self.raw, f"check-{sd.name}")
            except ServerFailed as e:
                self.fail(str(e))
                self.results["checks"][sd.name] = {"_start": {"ok": False, "why": str(e)}}
                continue
            try:
                res = {sc.name: self.check_one(port, sc) for sc in SCENARIOS}
            finally:
                proc.stop()
            self.results["checks"][sd.name] = res
            for name, r in res.items():
                if not r["ok"]:
                    self.fail(f"{sd.name} {name}: {r['why']}")
            bad = [n for n, r in res.items() if not r["ok"]]
            diff = [n for n, r in res.items() if r["ok"] and not r["identical"]]
            log(f"  {sd.name}: {len(res) - len(bad)}/{len(res)} correct"
                + (f", WRONG: {', '.join(bad)}" if bad else "")
                + (f", same JSON value but other bytes: {', '.join(diff)}" if diff else ""))
        self.save()

    # part: matrix
    def measure(self, sd: ServerDef, sc: Scenario, rep: int) -> dict:
        tag = f"{sc.name}-{sd.name}-{rep}"
        rec: dict = {"server": sd.name, "scenario": sc.name, "rep": rep}
        try:
            proc, port = start_server(sd, self.raw, tag)
        except ServerFailed as e:
            rec["failed"] = str(e)
            return rec
        try:
            # Warm-up: lazy initialisation, allocator growth, caches, upstream pools. Thrown away.
            run_pinned(wrk_argv(port, sc, self.args.warmup, timeout=self.wrk_timeout))
            b0, s0, t0 = cpu_ticks()
            srv0, w0 = tree_ticks(proc.pid), time.monotonic()
            up0 = tree_ticks(self.upstream.pid) if self.upstream else 0
            text, wrk_cpu, rc = run_pinned(wrk_argv(port, sc, self.args.duration, timeout=self.wrk_timeout))
            b1, s1, t1 = cpu_ticks()
            srv1, w1 = tree_ticks(proc.pid), time.monotonic()
            up1 = tree_ticks(self.upstream.pid) if self.upstream else 0
            rec["rss_kb"] = tree_kb(proc.pid, "VmHWM")
            if not proc.alive():
                rec["failed"] = f"{sd.name} died during the run:\n{proc.log_tail()}"
                return rec
        finally:
            proc.stop()
        (self.raw / f"{tag}.wrk.txt").write_text(text)
        try:
            rec.update(parse_wrk(text))
        except ValueError as e:
            rec["failed"] = str(e)
            return rec
        if rec["requests"] == 0:
            rec["failed"] = f"no request completed in {self.args.duration:g} s (see {self.raw / tag}.wrk.txt)"
            return rec
        ours = (srv1 - srv0) + (up1 - up0) + wrk_cpu * HZ
        rec["other_load_pct"] = round(max(0.0, 100.0 * ((b1 - b0) + (s1 - s0) - ours) / max(1, t1 - t0)), 1)
        rec["server_cpu_pct"] = round(100.0 * (srv1 - srv0) / HZ / (w1 - w0), 1)
        # The server's own CPU time per request: steadier than req/s when other work shares the
        # machine (only the server's ticks count), so its ratio to raw hyper's is the one to trust
        # on a busy machine. Ticks are 10 ms: a 5 s run at 100% CPU is exact to 0.2%.
        rec["server_cpu_us"] = round((srv1 - srv0) / HZ / rec["requests"] * 1e6, 2)
        return rec

    def part_matrix(self) -> None:
        servers = self.available()
        quick_subset = self.args.quick
        jobs = []
        for rep in range(1, self.args.reps + 1):
            # Interleaved: each rep runs every scenario on every server, so slow drift (a noisy
            # neighbour, thermal) spreads over all of them instead of biasing one.
            for sc in self.scenarios:
                for sd in servers:
                    # Quick mode: every scenario on fastcore 3.13t, JSON + POST on everything else.
                    if quick_subset and sd.name != "fastcore-313t" and sc.name not in ("json", "pydantic"):
                        continue
                    jobs.append((rep, sc, sd))
        per_job = self.args.warmup + self.args.duration + 2.5
        log(f"matrix: {len(jobs)} runs, about {len(jobs) * per_job / 60:.0f} min")
        for i, (rep, sc, sd) in enumerate(jobs, 1):
            rec = self.measure(sd, sc, rep)
            self.results["runs"].append(rec)
            if "failed" in rec:
                self.fail(f"{sd.name} {sc.name} rep {rep}: {rec['failed']}")
                continue
            errs = sum(rec["errors"].values())
            log(f"  [{i}/{len(jobs)}] rep {rep} {sc.name:10} {sd.name:16} {rec['rps']:>9.0f} req/s  "
                f"p99 {rec['p99_ms']:7.2f} ms  rss {rec['rss_kb'] / 1024:6.1f} MiB  other load {rec['other_load_pct']:.0f}%"
                + (f"  socket errors {errs}" if errs else "") + (f"  NON-2xx {rec['non2xx']}" if rec["non2xx"] else ""))
            if rec["non2xx"]:
                self.fail(f"{sd.name} {sc.name} rep {rep}: {rec['non2xx']} non-2xx responses under load")
            self.load_errors(f"{sd.name} {sc.name} rep {rep}", rec["errors"])
            self.save()
        worst = max((r.get("other_load_pct", 0) for r in self.results["runs"]), default=0)
        self.results["meta"]["max_other_load_pct"] = worst
        if worst > 10:
            self.note(f"WARNING: other processes took up to {worst:.0f}% of the CPUs during a measured run; "
                      "treat these numbers as unreliable.")
        self.save()

    # part: sweep (latency vs offered load)
    def part_sweep(self) -> None:
        names = [n for n in ("fastcore-313t", "granian-rsgi", "fastapi-uvicorn") if n in [s.name for s in self.available()]]
        sc = SCENARIO_BY_NAME["json"]
        fractions = (0.25, 0.75) if self.args.quick else (0.1, 0.25, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25)
        dur = 1.0 if self.args.quick else max(3.0, self.args.duration)
        for name in names:
            sd = SERVER_BY_NAME[name]
            try:
                proc, port = start_server(sd, self.raw, f"sweep-{name}")
            except ServerFailed as e:
                self.fail(str(e))
                continue
            points = []
            try:
                # Capacity first (closed loop, wrk), then fixed rates as fractions of it.
                run_pinned(wrk_argv(port, sc, self.args.warmup, timeout=self.wrk_timeout))
                cap = parse_wrk(run_pinned(wrk_argv(port, sc, dur, timeout=self.wrk_timeout))[0])["rps"]
                log(f"sweep: {name} capacity {cap:.0f} req/s")
                for f in fractions:
                    rate = max(100.0, round(cap * f, -2))
                    text, _, rc = run_pinned([str(LOADGEN), "--url", f"http://127.0.0.1:{port}/", "--rate", f"{rate:g}",
                                              "--duration", f"{dur:g}", "--warmup", "1", "--connections", str(sc.conns)])
                    try:
                        pt = json.loads(text.strip().splitlines()[-1])
                    except (ValueError, IndexError):
                        self.fail(f"sweep {name} at {rate:g}/s: loadgen said {text[-300:]!r}")
                        continue
                    pt["fraction"] = f
                    points.append(pt)
                    log(f"  {name} offered {rate:>8.0f}/s achieved {pt['achieved_rps']:>8.0f}/s  "
                        f"p50 {pt['p50_ms']:.2f} ms  p99 {pt['p99_ms']:.2f} ms  errors {pt['errors']}")
                    if pt["non2xx"]:
                        self.fail(f"sweep {name} at {rate:g}/s: {pt['non2xx']} non-2xx responses")
                    self.load_errors(f"sweep {name} at {rate:g}/s", pt["errors"])
            finally:
                proc.stop()
            self.results["sweep"][name] = {"capacity_rps": cap, "points": points}
            self.save()

    # part: scaling (1 vs 2 worker threads on 3.13t)
    def part_scaling(self) -> None:
        """The server gets both CPUs for 2 threads, CPU 0 for 1 thread; wrk always stays on CPU 1.

        With a ~0.5 ms pure-Python handler the server needs ~2,000 req/s per thread to be
        saturated, which costs wrk a few percent of a CPU: so with 2 threads wrk takes only that
        small, measured share away from the server's second thread. A light handler (JSON hello)
        is measured the same way for reference, but there wrk needs most of CPU 1 and the two
        fight: that ratio says more about the machine than about fastcore."""
        sds = [s for s in self.available() if s.name in ("fastcore-313t", "fastcore-gil")]
        cases = [("cpu", "/cpu", 16), ("json", "/", 64)]
        reps = 1 if self.args.quick else self.args.reps
        runs = []
        for rep in range(1, reps + 1):
            for sd in sds:
                for case, path, conns in cases:
                    if sd.name == "fastcore-gil" and case != "cpu":
                        continue
                    for threads, cpus in ((1, SERVER_CPUS), (2, f"{SERVER_CPUS},{CLIENT_CPUS}")):
                        tag = f"scaling-{sd.name}-{case}-t{threads}-{rep}"
                        try:
                            # A second --threads overrides the server's default --threads 1 (argparse: last wins).
                            proc, port = start_server(sd, self.raw, tag, cpus=cpus,
                                                      extra_argv=["--threads", str(threads)])
                        except ServerFailed as e:
                            self.fail(str(e))
                            continue
                        try:
                            sc = Scenario(case, case, "GET", path, b"", conns=conns)
                            run_pinned(wrk_argv(port, sc, self.args.warmup, timeout=self.wrk_timeout))
                            srv0, (b0, s0, t0), w0 = tree_ticks(proc.pid), cpu_ticks(), time.monotonic()
                            per0 = thread_ticks(proc.pid)
                            text, wrk_cpu, _ = run_pinned(wrk_argv(port, sc, self.args.duration, timeout=self.wrk_timeout))
                            srv1, (b1, s1, t1), w1 = tree_ticks(proc.pid), cpu_ticks(), time.monotonic()
                            per1 = thread_ticks(proc.pid)
                        finally:
                            proc.stop()
                        (self.raw / f"{tag}.wrk.txt").write_text(text)
                        r = parse_wrk(text)
                        ours = (srv1 - srv0) + wrk_cpu * HZ
                        rec = {"server": sd.name, "case": case, "threads": threads, "rep": rep, "rps": r["rps"],
                               "p99_ms": r["p99_ms"], "non2xx": r["non2xx"],
                               "server_cpus_used": round((srv1 - srv0) / HZ / (w1 - w0), 2),
                               "wrk_cpus_used": round(wrk_cpu / (w1 - w0), 3),
                               # CPUs used by each worker thread: shows how the connections were spread.
                               "worker_cpus": [round((b - a) / HZ / (w1 - w0), 2) for a, b in zip(per0, per1)],
                               "other_load_pct": round(max(0.0, 100.0 * ((b1 - b0) + (s1 - s0) - ours) / max(1, t1 - t0)), 1)}
                        runs.append(rec)
                        log(f"  scaling {sd.name} {case} threads={threads}: {rec['rps']:.0f} req/s, server used "
                            f"{rec['server_cpus_used']:.2f} CPUs, wrk {rec['wrk_cpus_used']:.2f}, other load {rec['other_load_pct']:.0f}%")
                        if r["non2xx"]:
                            self.fail(f"scaling {sd.name} {case} t{threads}: {r['non2xx']} non-2xx responses")
                        self.load_errors(f"scaling {sd.name} {case} t{threads}", r["errors"])
        self.results["scaling"] = {"runs": runs, "handler": "common.cpu_work(): a 5,000-step pure-Python loop"}
        self.save()

    # part: memory per suspended request
    def part_memory(self) -> None:
        n = 1000 if self.args.quick else 10_000
        # Server and client each need a descriptor per connection (bench/run.sh raises the limit).
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if n > limit - 500:
            self.note(f"memory: the open-files limit is {limit}; parking {limit - 500} requests instead of {n}")
            n = limit - 500
        sds = [s for s in self.available() if s.name in ("fastcore-313t", "fastcore-gil", "fastapi-uvicorn")]
        tools_py = sys.executable
        for sd in sds:
            try:
                proc, port = start_server(sd, self.raw, f"memory-{sd.name}")
            except ServerFailed as e:
                self.fail(str(e))
                continue
            client = None
            try:
                # Warm the server up on ordinary requests first so the baseline includes its
                # steady-state heap, not start-up memory still to be touched.
                run_pinned(wrk_argv(port, SCENARIO_BY_NAME["json"], 1.0, timeout=self.wrk_timeout))
                time.sleep(0.5)
                before = tree_kb(proc.pid, "VmRSS")
                client = subprocess.Popen(["taskset", "-c", CLIENT_CPUS, tools_py, str(BENCH / "park_clients.py"),
                                           "--port", str(port), "--n", str(n)],
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                first = client.stdout.readline().strip()
                parked, deadline = 0, time.monotonic() + 120
                while time.monotonic() < deadline:
                    parked = json.loads(request(port, "GET", "/parked")[2])["parked"]
                    if parked >= n:
                        break
                    time.sleep(0.2)
                time.sleep(0.5)
                during = tree_kb(proc.pid, "VmRSS")
                request(port, "GET", "/release")
                out, _ = client.communicate(timeout=120)
                summary = json.loads(out.strip().splitlines()[-1])
                after = tree_kb(proc.pid, "VmRSS")
            except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as e:
                self.fail(f"memory {sd.name}: {e}")
                continue
            finally:
                if client and client.poll() is None:
                    client.kill()
                    client.wait()
                proc.stop()
            rec = {"n": n, "client_said": first, "parked": parked, "rss_before_kb": before, "rss_parked_kb": during,
                   "rss_after_release_kb": after, "per_request_bytes": round((during - before) * 1024 / max(1, parked)),
                   "responses_ok": summary.get("ok")}
            self.results["memory"][sd.name] = rec
            log(f"  memory {sd.name}: {parked} parked, RSS {before / 1024:.1f} -> {during / 1024:.1f} MiB, "
                f"{rec['per_request_bytes'] / 1024:.1f} KiB per suspended request; {summary.get('ok')} answered after release")
            if parked < n or summary.get("ok") != n:
                self.fail(f"memory {sd.name}: parked {parked}/{n}, answered {summary.get('ok')}/{n}")
            self.save()

    def merge_previous(self) -> None:
        """--merge: keep the previous results.json and replace only what this run measures (the
        matrix runs of the selected servers x scenarios, and the other selected parts)."""
        if self.previous is None:
            return
        old, new = self.previous, self.results
        servers, scenarios = {s.name for s in self.servers}, {s.name for s in self.scenarios}
        if "matrix" in self.args.parts:
            old["runs"] = [r for r in old["runs"] if not (r["server"] in servers and r["scenario"] in scenarios)]
        for name in servers:
            old["servers"][name] = new["servers"][name]
        old["scenarios"] = new["scenarios"]
        old.setdefault("merged", []).append({
            "date": new["meta"]["date"], "commit": new["meta"]["commit"], "parts": self.args.parts,
            "servers": sorted(servers), "scenarios": sorted(scenarios),
            "busy_before_pct": new["meta"].get("busy_before_pct")})
        old["notes"] += new["notes"]
        self.results = old

    def run(self) -> int:
        self.meta()
        self.load_check()
        if self.args.merge:
            self.merge_previous()
        self.start_upstream()
        try:
            for part in self.args.parts:
                getattr(self, f"part_{part}")()
        finally:
            if self.upstream:
                self.upstream.stop()
            self.save()
        if self.failed_now:
            log(f"{len(self.failed_now)} failure(s):")
            for f in self.failed_now:
                log(f"  - {f.splitlines()[0]}")
            return 1
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for results.json and raw/")
    ap.add_argument("--quick", action="store_true", help="CI smoke run: short, a subset, correctness only")
    ap.add_argument("--merge", action="store_true",
                    help="keep the previous results.json in --out and replace only what this run measures")
    ap.add_argument("--parts", nargs="+", default=["checks", "matrix", "sweep", "scaling", "memory"],
                    choices=["checks", "matrix", "sweep", "scaling", "memory"])
    ap.add_argument("--servers", nargs="+", default=[s.name for s in SERVERS], choices=[s.name for s in SERVERS])
    ap.add_argument("--scenarios", nargs="+", default=[s.name for s in SCENARIOS], choices=[s.name for s in SCENARIOS])
    ap.add_argument("--duration", type=float, help="seconds per measured run (default 5; quick 1)")
    ap.add_argument("--warmup", type=float, help="seconds of warm-up per run (default 2; quick 0.5)")
    ap.add_argument("--reps", type=int, help="repetitions, median reported (default 3; quick 1)")
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 1.0 if args.quick else 5.0
    if args.warmup is None:
        args.warmup = 0.5 if args.quick else 2.0
    if args.reps is None:
        args.reps = 1 if args.quick else 3
    if (os.cpu_count() or 1) < 2:
        log("WARNING: fewer than 2 CPUs: server and load generator share one (numbers will be noisy)")
        global CLIENT_CPUS
        CLIENT_CPUS = SERVER_CPUS

    suite = Suite(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return suite.run()
    except KeyboardInterrupt:
        log("interrupted; servers stopped, partial results kept in " + str(suite.results_path))
        return 130


if __name__ == "__main__":
    sys.exit(main())

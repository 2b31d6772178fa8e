#!/usr/bin/env python3
"""The ecosystem benchmark: asyncio libraries inside fastcore handlers (issue 8, item 4).

    python bench/ecosystem.py                   full run (bench/ecosystem.sh provisions and calls this)
    python bench/ecosystem.py --quick           2 s x 1: every route answers correctly, no speed judged

Four comparisons, each a ratio of medians measured in this run:

  sleep   asyncio.sleep(0.01) vs fastcore.sleep(0.01) in an async fastcore handler, 1,000
          connections, fastcore 3.13t --threads 1; raw hyper's 10 ms sleep for reference.
          Target: asyncio.sleep >= 0.9x fastcore.sleep.
  redis   one GET through redis.asyncio (one client per worker): fastcore 3.13t and fastcore 3.11
          vs the same handler on FastAPI + uvicorn (uvloop, httptools, one worker), 3.11. Target >= 3x.
  pg      one primary-key SELECT through psycopg async (an AsyncConnectionPool per worker,
          min_size = max_size = ECO_PG_POOL): the same comparison. Target >= 3x.
  fanout  4 concurrent GETs of a local upstream (raw hyper /delay, 5 ms) per request:
          httpx.AsyncClient + asyncio.gather vs fastcore.http + fastcore.gather, both in fastcore.

Every server runs on CPU 0 (taskset -c 0, one worker); wrk, Redis, PostgreSQL and the fan-out
upstream on CPU 1. Redis and PostgreSQL come from Debian's packages (ci/services.sh) and run on
private ports for this run only. Standard library only (imports bench/suite/'s helpers).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite.config import APPS, BASELINE, CLIENT_CPUS, HZ, ROOT, SERVER_CPUS, VENVS, log  # noqa: E402
from suite.load import parse_wrk, run_pinned  # noqa: E402
from suite.procs import Proc, busy_pct, cpu_ticks, free_port, tree_ticks  # noqa: E402
from suite.servers import ServerFailed, fastcore_cmd, request, uvicorn_cmd, wait_ready  # noqa: E402

sys.path.insert(0, str(APPS))
import ecosystem_common as C  # noqa: E402

HELLO = C.HELLO
REDIS_PATH = "/redis/eco-greeting"
PG_ID = 4242
PG_ROWS = C.PG_ROWS


# --- servers under test ---------------------------------------------------------------------------

SERVERS = {
    "hyper": ("raw hyper (Rust)", None, lambda port: [str(BASELINE), "--port", str(port)]),
    "fastcore-313t": ("fastcore 3.13t", ROOT / ".venv-313t/bin/python",
                      fastcore_cmd(".venv-313t", "ecosystem_fastcore:app")),
    "fastcore-gil": ("fastcore 3.11", ROOT / ".venv-gil/bin/python", fastcore_cmd(".venv-gil", "ecosystem_fastcore:app")),
    "fastapi-uvicorn": ("FastAPI + uvicorn 3.11", VENVS / "eco-311/bin/python",
                        uvicorn_cmd("eco-311", "ecosystem_fastapi:app")),
}
PACKAGES = {
    "fastcore-313t": ("fastcore", "redis", "psycopg", "psycopg-pool", "httpx"),
    "fastcore-gil": ("fastcore", "redis", "psycopg", "psycopg-pool", "httpx"),
    "fastapi-uvicorn": ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "redis", "psycopg",
                        "psycopg-pool"),
}


@dataclass
class Case:
    group: str          # sleep | redis | pg | fanout
    name: str           # unique, used in file names
    label: str          # what the table calls it
    server: str         # key of SERVERS
    path: str
    expect: object      # the JSON value of a correct body
    conns: int = 64
    min_ms: float = 0.0


FANOUT_BODY = {"upstream": [HELLO] * C.FANOUT}
# 16 connections x 4 calls = 64 upstream calls in flight: within httpx's default pool of 100
# connections. httpx needs milliseconds of CPU per call, and more per call the more calls are in
# flight (httpcore's pool scans every connection for every queued request), so at the suite's 64
# connections (256 calls in flight) it completed no request at all in a 2 s run here.
FANOUT_CONNS = 16
CASES = [
    Case("sleep", "sleep-hyper", "raw hyper, tokio::time::sleep(10 ms)", "hyper", "/sleep", HELLO, 1000, 10),
    Case("sleep", "sleep-fastcore", "fastcore 3.13t, fastcore.sleep(0.01)", "fastcore-313t", "/sleep/fastcore",
         HELLO, 1000, 10),
    Case("sleep", "sleep-asyncio", "fastcore 3.13t, asyncio.sleep(0.01)", "fastcore-313t", "/sleep/asyncio",
         HELLO, 1000, 10),
    Case("redis", "redis-fastapi", "FastAPI + uvicorn 3.11", "fastapi-uvicorn", REDIS_PATH,
         {"key": "eco-greeting", "value": C.REDIS_VALUE}),
    Case("redis", "redis-313t", "fastcore 3.13t", "fastcore-313t", REDIS_PATH,
         {"key": "eco-greeting", "value": C.REDIS_VALUE}),
    Case("redis", "redis-gil", "fastcore 3.11", "fastcore-gil", REDIS_PATH,
         {"key": "eco-greeting", "value": C.REDIS_VALUE}),
    Case("pg", "pg-fastapi", "FastAPI + uvicorn 3.11", "fastapi-uvicorn", f"/pg/{PG_ID}",
         {"id": PG_ID, "name": C.pg_name(PG_ID)}),
    Case("pg", "pg-313t", "fastcore 3.13t", "fastcore-313t", f"/pg/{PG_ID}", {"id": PG_ID, "name": C.pg_name(PG_ID)}),
    Case("pg", "pg-gil", "fastcore 3.11", "fastcore-gil", f"/pg/{PG_ID}", {"id": PG_ID, "name": C.pg_name(PG_ID)}),
    Case("fanout", "fanout-httpx-313t", "fastcore 3.13t, httpx.AsyncClient + asyncio.gather", "fastcore-313t",
         "/fanout/httpx", FANOUT_BODY, FANOUT_CONNS, 5),
    Case("fanout", "fanout-fastcore-313t", "fastcore 3.13t, fastcore.http + fastcore.gather", "fastcore-313t",
         "/fanout/fastcore", FANOUT_BODY, FANOUT_CONNS, 5),
    Case("fanout", "fanout-httpx-gil", "fastcore 3.11, httpx.AsyncClient + asyncio.gather", "fastcore-gil",
         "/fanout/httpx", FANOUT_BODY, FANOUT_CONNS, 5),
    Case("fanout", "fanout-fastcore-gil", "fastcore 3.11, fastcore.http + fastcore.gather", "fastcore-gil",
         "/fanout/fastcore", FANOUT_BODY, FANOUT_CONNS, 5),
]
CASE_BY_NAME = {c.name: c for c in CASES}

# (group, numerator, denominator, what, target or None)
RATIOS = [
    ("sleep", "sleep-asyncio", "sleep-fastcore", "asyncio.sleep ÷ fastcore.sleep (fastcore 3.13t)", 0.9),
    ("sleep", "sleep-fastcore", "sleep-hyper", "fastcore.sleep ÷ raw hyper sleep", None),
    ("sleep", "sleep-asyncio", "sleep-hyper", "asyncio.sleep ÷ raw hyper sleep", None),
    ("redis", "redis-313t", "redis-fastapi", "Redis GET: fastcore 3.13t ÷ FastAPI + uvicorn", 3.0),
    ("redis", "redis-gil", "redis-fastapi", "Redis GET: fastcore 3.11 ÷ FastAPI + uvicorn", 3.0),
    ("pg", "pg-313t", "pg-fastapi", "PostgreSQL PK SELECT: fastcore 3.13t ÷ FastAPI + uvicorn", 3.0),
    ("pg", "pg-gil", "pg-fastapi", "PostgreSQL PK SELECT: fastcore 3.11 ÷ FastAPI + uvicorn", 3.0),
    ("fanout", "fanout-fastcore-313t", "fanout-httpx-313t", "fan-out ×4: fastcore.http ÷ httpx (fastcore 3.13t)", None),
    ("fanout", "fanout-fastcore-gil", "fanout-httpx-gil", "fan-out ×4: fastcore.http ÷ httpx (fastcore 3.11)", None),
]


# --- services: Redis, PostgreSQL, the fan-out upstream (all on CPU 1) -------------------------------

def wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def resp(sock: socket.socket, *args: str) -> bytes:
    """One Redis command in RESP; returns the raw reply line(s)."""
    out = f"*{len(args)}\r\n".encode() + b"".join(f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
    sock.sendall(out)
    return sock.recv(65536)


class Services:
    def __init__(self, raw: Path) -> None:
        self.raw = raw
        self.root = Path(tempfile.mkdtemp(prefix="fastcore-eco-"))
        self.redis: subprocess.Popen | None = None
        self.pg_dir: Path | None = None
        self.pg_bin: Path | None = None
        self.upstream: Proc | None = None
        self.as_postgres = os.geteuid() == 0
        self.env: dict[str, str] = {}

    def start(self) -> None:
        self._redis()
        self._postgres()
        self._upstream()

    def _redis(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (bash ci/services.sh installs it)")
        port = free_port()
        d = self.root / "redis"
        d.mkdir()
        self.redis = subprocess.Popen(
            ["taskset", "-c", CLIENT_CPUS, exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(d), "--daemonize", "no", "--loglevel", "warning",
             "--maxclients", "10000"],
            stdout=open(self.raw / "redis.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.redis_pid = self.redis.pid
        wait_port(port, 15, "redis-server")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            reply = resp(s, "SET", "eco-greeting", C.REDIS_VALUE)
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"redis SET answered {reply!r}")
        self.env["ECO_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        log(f"redis-server on port {port} (CPU {CLIENT_CPUS})")

    def _pg(self, tool: str, *args: str, pin: bool = False) -> None:
        argv = [str(self.pg_bin / tool), *args]
        if pin:
            argv = ["taskset", "-c", CLIENT_CPUS, *argv]
        if self.as_postgres:   # PostgreSQL refuses to run as root
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def _postgres(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise RuntimeError("PostgreSQL is not installed (bash ci/services.sh installs it)")
        self.pg_bin = Path(bins[-1]).parent
        pg_root = self.root / "pg"
        pg_root.mkdir()
        sockets = pg_root / "sock"
        sockets.mkdir()
        if self.as_postgres:
            for p in (self.root, pg_root, sockets):
                shutil.chown(p, "postgres")
        self.pg_dir = pg_root / "data"
        port = free_port()
        self._pg("initdb", "-D", str(self.pg_dir), "-A", "trust", "-U", "postgres", "--no-sync")
        opts = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 "
                "-c synchronous_commit=off")
        # taskset on pg_ctl: the postmaster and every backend it forks inherit CPU 1.
        self._pg("pg_ctl", "-D", str(self.pg_dir), "-o", opts, "-l", str(pg_root / "log"), "-w", "start", pin=True)
        wait_port(port, 30, "postgresql")
        self.pg_pid = int((self.pg_dir / "postmaster.pid").read_text().split()[0])
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        sql = ("CREATE TABLE eco_items (id int PRIMARY KEY, name text NOT NULL);"
               f"INSERT INTO eco_items SELECT i, 'item-' || lpad(i::text, 5, '0') FROM generate_series(1, {PG_ROWS}) i;"
               "VACUUM ANALYZE eco_items;")
        psql = [str(self.pg_bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn]
        for stmt in sql.split(";"):
            if stmt.strip():
                done = subprocess.run(psql + ["-c", stmt], capture_output=True, text=True, timeout=120)
                if done.returncode != 0:
                    raise RuntimeError(f"psql failed: {done.stderr}")
        got = subprocess.run(psql + ["-At", "-c", f"SELECT name FROM eco_items WHERE id = {PG_ID}"],
                             capture_output=True, text=True, timeout=60).stdout.strip()
        if got != C.pg_name(PG_ID):
            raise RuntimeError(f"PostgreSQL seed check: row {PG_ID} is {got!r}, expected {C.pg_name(PG_ID)!r}")
        self.env["ECO_PG_DSN"] = dsn
        log(f"PostgreSQL {self.pg_bin.parent.name} on port {port} (CPU {CLIENT_CPUS}), {PG_ROWS} rows")

    def _upstream(self) -> None:
        port = free_port()
        self.upstream = Proc([str(BASELINE), "--port", str(port)], CLIENT_CPUS, self.raw / "upstream.log", cwd=ROOT)
        for _ in range(100):
            try:
                if request(port, "GET", "/delay", timeout=1)[0] == 200:
                    self.env["ECO_UPSTREAM"] = f"http://127.0.0.1:{port}/delay"
                    log(f"fan-out upstream (raw hyper /delay, 5 ms) on port {port} (CPU {CLIENT_CPUS})")
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the upstream (hyper-baseline) did not start")

    def ticks(self) -> int:
        """CPU ticks used so far by Redis, PostgreSQL (postmaster and live backends) and the upstream."""
        t = 0
        if self.redis:
            t += tree_ticks(self.redis_pid)
        if self.pg_dir:
            t += tree_ticks(self.pg_pid)
        if self.upstream:
            t += tree_ticks(self.upstream.pid)
        return t

    def versions(self) -> dict[str, str]:
        out = {}
        try:
            out["redis-server"] = subprocess.run(["redis-server", "--version"], capture_output=True,
                                                 text=True).stdout.split()[2].removeprefix("v=")
        except (OSError, IndexError):
            pass
        if self.pg_bin:
            out["postgresql"] = subprocess.run([str(self.pg_bin / "postgres"), "--version"], capture_output=True,
                                               text=True).stdout.split()[2]
        return out

    def stop(self) -> None:
        if self.upstream:
            self.upstream.stop()
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            try:
                self.redis.wait(15)
            except subprocess.TimeoutExpired:
                self.redis.kill()
                self.redis.wait()
        if self.pg_dir and (self.pg_dir / "postmaster.pid").exists():
            try:
                self._pg("pg_ctl", "-D", str(self.pg_dir), "-m", "fast", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                log(f"WARNING: could not stop PostgreSQL: {e}")
        shutil.rmtree(self.root, ignore_errors=True)


# --- one run ----------------------------------------------------------------------------------------

class Failed(Exception):
    pass


def check(port: int, case: Case) -> str | None:
    """None if the route answers 200 with the expected JSON value (and not faster than it must)."""
    try:
        status, headers, body, ms = request(port, "GET", case.path)
    except OSError as e:
        return f"request failed: {e}"
    why = []
    if status != 200:
        why.append(f"status {status}")
    try:
        if json.loads(body) != case.expect:
            why.append(f"body {body[:200]!r}, expected {json.dumps(case.expect, separators=(',', ':'))[:200]}")
    except ValueError:
        why.append(f"body is not JSON: {body[:200]!r}")
    if not headers.get("content-type", "").startswith("application/json"):
        why.append(f"content-type {headers.get('content-type')!r}")
    if ms < case.min_ms:
        why.append(f"answered in {ms:.1f} ms, faster than the {case.min_ms:g} ms it must wait")
    return "; ".join(why) or None


def start(server: str, raw: Path, tag: str, env: dict[str, str]) -> tuple[Proc, int]:
    port = free_port()
    proc = Proc(SERVERS[server][2](port), SERVER_CPUS, raw / f"{tag}.server.log", env=env)
    try:
        return proc, wait_ready(proc, port, server)
    except ServerFailed as e:
        raise Failed(str(e)) from None


def check_all(cases: list[Case], raw: Path, services: Services) -> None:
    """Every route of every server answers correctly, before any load (fails fast)."""
    for server in dict.fromkeys(c.server for c in cases):
        proc, port = start(server, raw, f"check-{server}", services.env)
        try:
            for c in (c for c in cases if c.server == server):
                why = check(port, c)
                if why:
                    raise Failed(f"{server} GET {c.path}: {why}\n{proc.log_tail()}")
        finally:
            proc.stop()
        log(f"  {server}: " + ", ".join(c.path for c in cases if c.server == server) + " correct")


def wrk(port: int, case: Case, seconds: float) -> list[str]:
    return ["wrk", "-t1", f"-c{case.conns}", f"-d{seconds:g}s", "--timeout", "5s", "--latency",
            f"http://127.0.0.1:{port}{case.path}"]


def settle(proc: Proc, timeout: float = 10.0) -> None:
    """Waits until the server is idle after the warm-up: work that outlived the warm-up's
    connections (fastcore does not cancel the children of a handler cancelled by a disconnect)
    must not be counted in the measured run."""
    deadline = time.monotonic() + timeout
    last = tree_ticks(proc.pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = tree_ticks(proc.pid)
        if now - last <= 0.2 * HZ * 0.05:   # under 5% of a CPU
            return
        last = now
    log(f"  WARNING: the server was still busy {timeout:g} s after the warm-up")


def measure(case: Case, rep: int, args, raw: Path, services: Services) -> dict:
    tag = f"{case.name}-{rep}"
    proc, port = start(case.server, raw, tag, services.env)
    try:
        # The body check runs first, one request at a time: a route that errors fails the run here,
        # instead of producing fast 500s under load.
        why = check(port, case)
        if why:
            raise Failed(f"{case.name}: wrong answer before the run: {why}\n{proc.log_tail()}")
        run_pinned(wrk(port, case, args.warmup))
        settle(proc)
        b0, s0, t0 = cpu_ticks()
        srv0, svc0, w0 = tree_ticks(proc.pid), services.ticks(), time.monotonic()
        text, wrk_cpu, _ = run_pinned(wrk(port, case, args.duration))
        b1, s1, t1 = cpu_ticks()
        srv1, svc1, w1 = tree_ticks(proc.pid), services.ticks(), time.monotonic()
        if not proc.alive():
            raise Failed(f"{case.name}: {case.server} died during the run:\n{proc.log_tail()}")
        why = check(port, case)
        if why:
            raise Failed(f"{case.name}: wrong answer after the run: {why}\n{proc.log_tail()}")
    finally:
        proc.stop()
    (raw / f"{tag}.wrk.txt").write_text(text)
    rec = {"case": case.name, "rep": rep, **parse_wrk(text)}
    if rec["requests"] == 0:
        raise Failed(f"{case.name}: no request completed (see {raw / tag}.wrk.txt)")
    if rec["non2xx"]:
        raise Failed(f"{case.name}: {rec['non2xx']} non-2xx responses under load (see {raw / tag}.server.log)")
    ours = (srv1 - srv0) + (svc1 - svc0) + wrk_cpu * HZ
    rec["other_load_pct"] = round(max(0.0, 100.0 * ((b1 - b0) + (s1 - s0) - ours) / max(1, t1 - t0)), 1)
    rec["server_cpu_pct"] = round(100.0 * (srv1 - srv0) / HZ / (w1 - w0), 1)
    rec["services_cpu_pct"] = round(100.0 * (svc1 - svc0) / HZ / (w1 - w0), 1)
    rec["wrk_cpu_pct"] = round(100.0 * wrk_cpu / (w1 - w0), 1)
    return rec


# --- report -----------------------------------------------------------------------------------------

def versions() -> dict[str, dict[str, str]]:
    out = {}
    for name, (_, py, _) in SERVERS.items():
        if py is None or not Path(py).exists():
            continue
        code = ("import json, platform, sys, importlib.metadata as m\n"
                "v = {'python': platform.python_version() + ('t' if not getattr(sys, '_is_gil_enabled', lambda: True)() else '')}\n"
                f"for p in {list(PACKAGES.get(name, ()))!r}:\n"
                "    try: v[p] = m.version(p)\n"
                "    except Exception: pass\n"
                "print(json.dumps(v))")
        try:
            out[name] = json.loads(subprocess.run([str(py), "-c", code], capture_output=True, text=True,
                                                  timeout=60).stdout)
        except (ValueError, subprocess.SubprocessError):
            out[name] = {}
    return out


def report(results: dict, args) -> str:
    meta, runs = results["meta"], results["runs"]
    by: dict[str, list[dict]] = {}
    for r in runs:
        by.setdefault(r["case"], []).append(r)
    med = {name: statistics.median(r["rps"] for r in rs) for name, rs in by.items()}
    eff = {name: statistics.median(r["rps"] / max(r["server_cpu_pct"], 0.1) * 100 for r in rs)
           for name, rs in by.items()}
    lines = [
        "# Ecosystem benchmark: asyncio libraries in fastcore handlers",
        "",
        f"{meta['date']}, commit {meta['commit']}, {meta['cpus']} CPUs ({meta['cpu_model']}), kernel {meta['kernel']}.",
        f"{meta['pinning']}. wrk -t1, {meta['warmup']:g} s warm-up + {meta['duration']:g} s per run, "
        f"median of {meta['reps']} interleaved rep(s), a fresh server per run"
        + (f", everything at niceness {meta['nice']}" if meta.get("nice") else "")
        + ". Generated by `bash bench/ecosystem.sh`"
        + (" with QUICK=1: a correctness check, **the numbers below are not results**." if meta["quick"] else "."),
        "",
    ]
    for n in results["notes"]:
        lines += [f"**{n}**", ""]
    lines += ["## Ratios (medians of this run)", "",
              "| comparison | req/s ratio | target | | req per server CPU-second ratio |",
              "|---|---:|---:|---|---:|"]
    for group, num, den, what, target in RATIOS:
        if num not in med or den not in med:
            continue
        ratio = med[num] / med[den]
        if target is None:
            verdict, tgt = "", "–"
        else:
            tgt = f"≥ {target:g}x"
            verdict = "(quick run: not judged)" if meta["quick"] else ("met" if ratio >= target else "**missed**")
        fmt = lambda x: f"{x:.1f}x" if x >= 10 else f"{x:.3f}x"  # noqa: E731  (3 decimals near a target)
        lines.append(f"| {what} | {fmt(ratio)} | {tgt} | {verdict} | {fmt(eff[num] / eff[den])} |")
    lines += ["", "Targets are judged on req/s. The CPU-second ratio divides each side's req/s by the share of "
              "CPU 0 its server actually got: on a machine where other processes take CPU time it is the steadier "
              "figure, and where a server waits on an upstream instead of computing (fastcore.http's fan-out) it "
              "is the one that compares costs."]
    lines += ["", "## Runs", "",
              "| scenario | server, handler | conns | req/s (median) | p50 ms | p99 ms | server CPU | req per server "
              "CPU-s | services CPU | other load | socket errors | req/s per rep |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    titles = {"sleep": "10 ms sleep", "redis": "Redis GET", "pg": "PG PK SELECT", "fanout": "fan-out ×4 (5 ms)"}
    for case in CASES:
        rs = by.get(case.name)
        if not rs:
            continue
        errs = sum(sum(r["errors"].values()) for r in rs)
        per_rep = ", ".join(format(r["rps"], ",.0f") for r in sorted(rs, key=lambda r: r["rep"]))
        lines.append(
            f"| {titles[case.group]} | {case.label} | {case.conns:,} | {med[case.name]:,.0f} "
            f"| {statistics.median(r['p50_ms'] for r in rs):.2f} | {statistics.median(r['p99_ms'] for r in rs):.2f} "
            f"| {statistics.median(r['server_cpu_pct'] for r in rs):.0f}% "
            f"| {statistics.median(r['rps'] / max(r['server_cpu_pct'], 0.1) * 100 for r in rs):,.0f} "
            f"| {statistics.median(r['services_cpu_pct'] for r in rs):.0f}% "
            f"| {max(r['other_load_pct'] for r in rs):.0f}% | {errs} "
            f"| {per_rep} |")
    lines += ["",
              "server CPU: the server process's CPU use (100% = all of CPU 0); req per server CPU-s: req/s ÷ that, "
              "the cost of one request whether or not the server was saturated (a run that waits on an upstream, "
              "like fastcore.http's fan-out, leaves CPU 0 partly idle). services CPU: Redis, PostgreSQL "
              "(postmaster and backends) and the fan-out upstream, all on CPU 1 with wrk. other load: the share "
              "of both CPUs that went to none of these (other processes, hypervisor steal), worst rep; over 10% "
              "makes a run unreliable. Socket errors: wrk's connect/read/write/timeout counts over all reps.",
              "", "## Versions", ""]
    for name, v in meta["versions"].items():
        lines.append(f"- {SERVERS[name][0]}: " + ", ".join(f"{k} {x}" for k, x in v.items()))
    lines.append("- services: " + ", ".join(f"{k} {x}" for k, x in meta["service_versions"].items())
                 + f"; psycopg pool size per worker {meta['pg_pool']}")
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 s x 1 rep: every route answers correctly, no judging")
    ap.add_argument("--duration", type=float)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--reps", type=int)
    ap.add_argument("--cases", nargs="+", choices=list(CASE_BY_NAME), default=list(CASE_BY_NAME))
    ap.add_argument("--nice", type=int, default=0,
                    help="run everything this run starts (servers, wrk, Redis, PostgreSQL, upstream) at this "
                         "niceness, e.g. -10 as root: on a shared machine they then get their CPUs ahead of "
                         "other work at the default niceness")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the markdown report from the last run's raw results, measuring nothing")
    ap.add_argument("--out", type=Path, help="the markdown report (default bench/results/ecosystem.md; "
                                             "bench/results/raw/ecosystem-quick.md with --quick)")
    args = ap.parse_args()
    args.duration = args.duration or (2.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.reps = args.reps or (1 if args.quick else 3)
    out = args.out or (ROOT / "bench/results" / ("raw/ecosystem-quick.md" if args.quick else "ecosystem.md"))
    raw = ROOT / "bench/results/raw/ecosystem"
    raw.mkdir(parents=True, exist_ok=True)
    results_json = raw / ("results-quick.json" if args.quick else "results.json")
    if args.report_only:
        text = report(json.loads(results_json.read_text()), args)
        out.write_text(text)
        print(text)
        return 0
    cases = [c for c in CASES if c.name in args.cases]
    for c in cases:
        exe = Path(SERVERS[c.server][2](0)[0])
        if not exe.exists():
            log(f"FAIL: {exe} not found (bench/ecosystem.sh provisions it)")
            return 1

    def on_signal(signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)   # inherited by every process started below
    busy = busy_pct()
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "python", "bench/apps",
                            "bench/ecosystem.py"], capture_output=True, text=True).stdout.strip()
    results: dict = {"meta": {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": (git.stdout.strip() or "none") + (" (modified)" if dirty else ""),
        "cpus": os.cpu_count(), "cpu_model": cpu, "kernel": platform.release(), "quick": args.quick,
        "duration": args.duration, "warmup": args.warmup, "reps": args.reps, "busy_before_pct": round(busy, 1),
        "pg_pool": C.PG_POOL, "nice": args.nice,
        "pinning": f"Servers on CPU {SERVER_CPUS} (one worker); wrk, Redis, PostgreSQL and the fan-out upstream "
                   f"on CPU {CLIENT_CPUS}",
    }, "runs": [], "notes": []}
    if busy > 10:
        results["notes"].append(f"WARNING: the CPUs were {busy:.0f}% busy before the run; other load makes these "
                                "numbers unreliable.")
        log(results["notes"][-1])

    services = Services(raw)
    status = 0
    try:
        services.start()
        results["meta"]["service_versions"] = services.versions()
        results["meta"]["versions"] = versions()
        log("checks: every route answers 200 with the expected body")
        check_all(cases, raw, services)
        jobs = [(rep, c) for rep in range(1, args.reps + 1) for c in cases]
        log(f"{len(jobs)} runs, about {len(jobs) * (args.warmup + args.duration + 3) / 60:.0f} min")
        for i, (rep, case) in enumerate(jobs, 1):
            rec = measure(case, rep, args, raw, services)
            results["runs"].append(rec)
            errs = sum(rec["errors"].values())
            log(f"  [{i}/{len(jobs)}] rep {rep} {case.name:22} {rec['rps']:>9.0f} req/s  p99 {rec['p99_ms']:7.2f} ms  "
                f"server {rec['server_cpu_pct']:3.0f}%  services {rec['services_cpu_pct']:3.0f}%  "
                f"other load {rec['other_load_pct']:.0f}%" + (f"  socket errors {rec['errors']}" if errs else ""))
    except Failed as e:
        log(f"FAIL: {e}")
        status = 1
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        services.stop()
    if status:
        return status
    worst = max((r["other_load_pct"] for r in results["runs"]), default=0)
    if worst > 10:
        results["notes"].append(f"WARNING: other processes took up to {worst:.0f}% of the CPUs during a measured run; "
                                "these numbers are unreliable (ratios suffer less than absolute numbers).")
    results_json.write_text(json.dumps(results, indent=1))
    text = report(results, args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

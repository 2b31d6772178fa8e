"""WebSocket echo benchmark: small text messages over 64 sockets, one core, fastcore against
FastAPI on uvicorn (uvloop, httptools, websockets) and on Granian, and Robyn, in one run.

The app (bench/apps/ws_common.py, one `build()` for both frameworks) echoes each text message.
The load generator (bench/ws_loadgen, Rust: tokio-tungstenite on one current-thread runtime)
keeps one message in flight per socket and checks every echo.

    python bench/ws.py [--quick] [--duration S] [--warmup S] [--reps N] [--size BYTES] [--baseline DIR]

`--baseline DIR` adds "fastcore-313t-base" and "fastcore-gil-base": the same venvs importing the
`fastcore` package found in DIR first (a copy of python/fastcore, with its built `_core*.so`, of an
earlier commit), so a change is measured against the code before it in the same run.

Run it through bench/ws.sh, which provisions the servers and the load generator. Servers on
CPU 0, the load generator on CPU 1, a fresh server per run, repetitions interleaved; writes
bench/results/ws.md (or bench/results/raw/ws-quick.md with --quick).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite.config import APPS, BENCH, ROOT, SERVER_CPUS, VENVS, log  # noqa: E402
from suite.load import run_pinned  # noqa: E402
from suite.procs import Proc, free_port  # noqa: E402
from suite.servers import ServerFailed, fastcore_cmd, wait_ready  # noqa: E402

LOADGEN = BENCH / "ws_loadgen" / "target" / "release" / "ws_loadgen"
CONNECTIONS = 64


def granian_ws(port: int) -> list[str]:
    """Granian as bench/harness.py runs it (one worker, one runtime thread), WebSockets on."""
    # `python -m`, not the venv's scripts: their #! line breaks when a venv is moved or linked.
    return [str(VENVS / "ws-311/bin/python"), "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--runtime-threads", "1", "--runtime-mode", "st", "--loop", "uvloop",
            "--http", "1", "--log-level", "warning", "--working-dir", str(APPS), "ws_fastapi:app"]


def uvicorn_ws(port: int) -> list[str]:
    return [str(VENVS / "ws-311/bin/python"), "-m", "uvicorn", "ws_fastapi:app", "--app-dir", str(APPS), "--host", "127.0.0.1",
            "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--ws", "websockets",
            "--no-access-log", "--log-level", "warning"]


def robyn_ws(port: int) -> list[str]:
    return [str(VENVS / "robyn-311/bin/python"), "ws_robyn.py", "--processes", "1", "--workers", "1",
            "--log-level", "WARN", "--disable-openapi"]


SERVERS = {
    "fastcore-313t": ("fastcore 3.13t (--threads 1)", fastcore_cmd(".venv-313t", "ws_fastcore:app")),
    "fastcore-gil": ("fastcore 3.11 (--threads 1)", fastcore_cmd(".venv-gil", "ws_fastcore:app")),
    "fastapi-uvicorn": ("FastAPI + uvicorn (uvloop, httptools, websockets) 3.11", uvicorn_ws),
    "fastapi-granian": ("FastAPI + Granian ASGI (1 worker, 1 runtime thread, uvloop) 3.11", granian_ws),
    "robyn": ("Robyn 0.88 (1 process, 1 worker) 3.11", robyn_ws),
}
PEERS = ("fastapi-uvicorn", "fastapi-granian", "robyn")


class Failed(Exception):
    pass


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the live processes of process group `pgid` (the server and its
    workers: Granian serves from a child process)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # pgrp; then utime, stime are fields[11], fields[12]
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def add_baseline(directory: Path) -> None:
    """Servers running the `fastcore` package in `directory` (PYTHONPATH wins over the venv's own)."""
    if not (directory / "fastcore" / "__init__.py").exists():
        raise Failed(f"--baseline {directory}: no fastcore package there")
    for venv, name in ((".venv-313t", "fastcore-313t"), (".venv-gil", "fastcore-gil")):
        label, cmd = SERVERS[name]
        SERVERS[f"{name}-base"] = (f"{label}, baseline {directory}", cmd)
        BASE_ENV[f"{name}-base"] = {"PYTHONPATH": str(directory)}


BASE_ENV: dict[str, dict[str, str]] = {}


def measure(server: str, rep: int, args: argparse.Namespace, raw: Path) -> dict:
    tag = f"ws-{server}-{rep}"
    port = free_port()
    env = {"ROBYN_HOST": "127.0.0.1", "ROBYN_PORT": str(port)} if server == "robyn" else BASE_ENV.get(server)
    proc = Proc(SERVERS[server][1](port), SERVER_CPUS, raw / f"{tag}.server.log", env=env)
    try:
        try:
            wait_ready(proc, port, server, timeout=60)
        except ServerFailed as e:
            raise Failed(str(e)) from None
        argv = [str(LOADGEN), "--url", f"ws://127.0.0.1:{port}/echo", "--connections", str(CONNECTIONS),
                "--duration", str(args.duration), "--warmup", str(args.warmup), "--size", str(args.size)]
        cpu0 = group_cpu(proc.pid)
        out, cpu, code = run_pinned(argv)
        server_cpu = group_cpu(proc.pid) - cpu0
        if not proc.alive():
            raise Failed(f"{server} died during the run\n{proc.log_tail()}")
    finally:
        proc.stop()
    (raw / f"{tag}.loadgen.txt").write_text(out)
    try:
        rec = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Failed(f"{server}: load generator failed (exit {code}): {out[-500:]}") from None
    if rec["errors"] or not rec["messages"]:
        raise Failed(f"{server}: {rec['messages']} echoes, {rec['errors']} sockets failed (wrong echo or closed)")
    # Server CPU per echoed message, over warm-up and run alike (the rate is the run's): it counts
    # only the time the server actually got, so it is far less sensitive to a loaded machine.
    window = args.duration + args.warmup
    rec.update(server=server, rep=rep, loadgen_cpu_pct=round(100.0 * cpu / window, 1),
               server_cpu_pct=round(100.0 * server_cpu / window, 1),
               server_us_per_msg=round(1e6 * server_cpu / (rec["rate"] * window), 2))
    return rec


def report(runs: list[dict], args: argparse.Namespace) -> str:
    by: dict[str, list[float]] = {}
    for r in runs:
        by.setdefault(r["server"], []).append(r["rate"])
    med = {s: statistics.median(v) for s, v in by.items()}
    us: dict[str, float] = {}
    lines = [
        "# WebSocket echo: messages per second, 64 sockets, one core",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.node()}; "
        f"{args.reps} interleaved rep(s) of {args.warmup:g} s warm-up + {args.duration:g} s; "
        f"{args.size}-byte text messages, one in flight per socket; server on CPU 0, "
        f"bench/ws_loadgen (Rust, tokio-tungstenite) on CPU 1. Command: `bash bench/ws.sh`. "
        f"Load average before/after: {args.load_before} / {load()}.",
        "",
        "| server | messages/s (median) | runs | server CPU µs per message: median (runs) | server CPU | "
        "load generator CPU |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for s, (label, _) in SERVERS.items():
        if s in med:
            mine = [r for r in runs if r["server"] == s]
            cpu = statistics.median(r["loadgen_cpu_pct"] for r in mine)
            us[s] = statistics.median(r["server_us_per_msg"] for r in mine)
            scpu = statistics.median(r["server_cpu_pct"] for r in mine)
            each = ", ".join(f"{r['server_us_per_msg']:.2f}" for r in mine)
            lines.append(f"| {label} | {med[s]:,.0f} | {', '.join(f'{v:,.0f}' for v in by[s])} | {us[s]:.2f} "
                         f"({each}) | {scpu:.0f}% | {cpu:.0f}% |")
    peers = [p for p in PEERS if p in med]
    if peers:
        best = max(peers, key=lambda p: med[p])
        lines += ["", f"Best peer: {SERVERS[best][0]}.", ""]
        for ours in ("fastcore-313t", "fastcore-gil", "fastcore-313t-base", "fastcore-gil-base"):
            if ours in med:
                lines.append(f"- {SERVERS[ours][0]} ÷ best peer: **{med[ours] / med[best]:.2f}x** (target ≥ 2x)")
        cheapest = min(peers, key=lambda p: us[p])
        for ours in ("fastcore-313t", "fastcore-gil", "fastcore-313t-base", "fastcore-gil-base"):
            if ours in us:
                lines.append(f"- {SERVERS[ours][0]}: server CPU per message of {SERVERS[cheapest][0]} ÷ its own: "
                             f"**{us[cheapest] / us[ours]:.2f}x**")
    for ours in ("fastcore-313t", "fastcore-gil"):
        if ours in med and f"{ours}-base" in med:
            lines.append(f"- {SERVERS[ours][0]} ÷ its baseline: {med[ours] / med[f'{ours}-base']:.2f}x")
    # Per-run ratios: each rep's servers ran back to back, so these are the least load-sensitive.
    for ours in ("fastcore-313t", "fastcore-gil"):
        for peer in peers:
            rs = [a["rate"] / b["rate"] for a in runs for b in runs
                  if a["server"] == ours and b["server"] == peer and a["rep"] == b["rep"]]
            if rs:
                lines.append(f"- {ours} ÷ {peer}, per rep: {', '.join(f'{r:.2f}' for r in rs)} "
                             f"(median {statistics.median(rs):.2f}x)")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1 s runs, 1 rep: correctness, not speed")
    ap.add_argument("--duration", type=float, default=None)
    ap.add_argument("--warmup", type=float, default=None)
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--servers", default=None)
    ap.add_argument("--baseline", type=Path, default=None, help="a python/fastcore copy of an earlier build")
    args = ap.parse_args()
    if args.baseline:
        add_baseline(args.baseline.resolve())
    args.servers = args.servers or ",".join(SERVERS)
    args.duration = args.duration or (1.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 2.0)
    args.reps = args.reps or (1 if args.quick else 3)
    out = ROOT / "bench/results" / ("raw" if args.quick else "")
    raw = ROOT / "bench/results/raw/ws"
    raw.mkdir(parents=True, exist_ok=True)
    servers = [s for s in args.servers.split(",") if s]
    if "robyn" in servers and not (VENVS / "robyn-311/bin/python").exists():
        log("skipping robyn: bench/.venvs/robyn-311 is missing (bench/run.sh provisions it)")
        servers.remove("robyn")
    args.load_before = load()
    runs = []
    for rep in range(args.reps):
        for server in servers:
            log(f"{server} rep {rep + 1}/{args.reps}")
            rec = measure(server, rep, args, raw)
            log(f"  {rec['rate']:,.0f} messages/s")
            runs.append(rec)
    text = report(runs, args)
    path = out / ("ws-quick.md" if args.quick else "ws.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(text)
    log(f"wrote {path}")


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        log(f"FAIL: {e}")
        sys.exit(1)

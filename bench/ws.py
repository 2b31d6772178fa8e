"""WebSocket echo benchmark: small text messages over 64 sockets, one core, fastcore against
FastAPI on uvicorn (uvloop, httptools, websockets) and on Granian, and Robyn, in one run.

The app (bench/apps/ws_common.py, one `build()` for both frameworks) echoes each text message.
The load generator (bench/ws_loadgen, Rust: tokio-tungstenite on one current-thread runtime)
keeps one message in flight per socket and checks every echo.

    python bench/ws.py [--quick] [--duration S] [--warmup S] [--reps N] [--size BYTES]

Run it through bench/ws.sh, which provisions the servers and the load generator. Servers on
CPU 0, the load generator on CPU 1, a fresh server per run, repetitions interleaved; writes
bench/results/ws.md (or bench/results/raw/ws-quick.md with --quick).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import (APPS, BENCH, ROOT, SERVER_CPUS, VENVS, Proc, ServerFailed, fastcore_cmd, free_port,  # noqa: E402
                     run_pinned, wait_ready)

log = harness.log
LOADGEN = BENCH / "ws_loadgen" / "target" / "release" / "ws_loadgen"
CONNECTIONS = 64


def granian_ws(port: int) -> list[str]:
    """Granian as bench/harness.py runs it (one worker, one runtime thread), WebSockets on."""
    return [str(VENVS / "ws-311/bin/granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--runtime-threads", "1", "--runtime-mode", "st", "--loop", "uvloop",
            "--http", "1", "--log-level", "warning", "--working-dir", str(APPS), "ws_fastapi:app"]


def uvicorn_ws(port: int) -> list[str]:
    return [str(VENVS / "ws-311/bin/uvicorn"), "ws_fastapi:app", "--app-dir", str(APPS), "--host", "127.0.0.1",
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


def measure(server: str, rep: int, args: argparse.Namespace, raw: Path) -> dict:
    tag = f"ws-{server}-{rep}"
    port = free_port()
    env = {"ROBYN_HOST": "127.0.0.1", "ROBYN_PORT": str(port)} if server == "robyn" else None
    proc = Proc(SERVERS[server][1](port), SERVER_CPUS, raw / f"{tag}.server.log", env=env)
    try:
        try:
            wait_ready(proc, port, server, timeout=60)
        except ServerFailed as e:
            raise Failed(str(e)) from None
        argv = [str(LOADGEN), "--url", f"ws://127.0.0.1:{port}/echo", "--connections", str(CONNECTIONS),
                "--duration", str(args.duration), "--warmup", str(args.warmup), "--size", str(args.size)]
        out, cpu, code = run_pinned(argv)
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
    rec.update(server=server, rep=rep, loadgen_cpu_pct=round(100.0 * cpu / (args.duration + args.warmup), 1))
    return rec


def report(runs: list[dict], args: argparse.Namespace) -> str:
    by: dict[str, list[float]] = {}
    for r in runs:
        by.setdefault(r["server"], []).append(r["rate"])
    med = {s: statistics.median(v) for s, v in by.items()}
    lines = [
        "# WebSocket echo: messages per second, 64 sockets, one core",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.node()}; "
        f"{args.reps} interleaved rep(s) of {args.warmup:g} s warm-up + {args.duration:g} s; "
        f"{args.size}-byte text messages, one in flight per socket; server on CPU 0, "
        f"bench/ws_loadgen (Rust, tokio-tungstenite) on CPU 1. Command: `bash bench/ws.sh`.",
        "",
        "| server | messages/s (median) | runs | load generator CPU |",
        "|---|---:|---|---:|",
    ]
    for s, (label, _) in SERVERS.items():
        if s in med:
            cpu = statistics.median(r["loadgen_cpu_pct"] for r in runs if r["server"] == s)
            lines.append(f"| {label} | {med[s]:,.0f} | {', '.join(f'{v:,.0f}' for v in by[s])} | {cpu:.0f}% |")
    peers = [p for p in PEERS if p in med]
    if peers:
        best = max(peers, key=lambda p: med[p])
        lines += ["", f"Best peer: {SERVERS[best][0]}.", ""]
        for ours in ("fastcore-313t", "fastcore-gil"):
            if ours in med:
                lines.append(f"- {SERVERS[ours][0]} ÷ best peer: **{med[ours] / med[best]:.2f}x** (target ≥ 2x)")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1 s runs, 1 rep: correctness, not speed")
    ap.add_argument("--duration", type=float, default=None)
    ap.add_argument("--warmup", type=float, default=None)
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--servers", default=",".join(SERVERS))
    args = ap.parse_args()
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

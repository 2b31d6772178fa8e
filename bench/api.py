"""API benchmark (issue 9, item 14): a realistic FastAPI route on fastcore against the same app on
FastAPI + uvicorn, and the JSON hello against raw hyper, in one run on one core.

The route (bench/apps/api_common.py, one `build()` for both frameworks): POST /items/{item_id}
with a query string, a Depends chain (an APIKeyHeader scheme behind an owner check, a Pager class
dependency reading two constrained query parameters), a Pydantic body and a response_model that
filters a field, answered with 201.

    python bench/api.py [--quick] [--duration S] [--warmup S] [--reps N]

Run it through bench/api.sh, which provisions the servers. Servers on CPU 0, wrk on CPU 1, a fresh
server per run, repetitions interleaved; writes bench/results/api.md (or raw/api-quick.md).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite.config import APPS, BASELINE, BENCH, CLIENT_CPUS, HZ, ROOT, SERVER_CPUS, log  # noqa: E402
from suite.load import parse_wrk, run_pinned  # noqa: E402
from suite.procs import Proc, cpu_ticks, free_port, tree_ticks  # noqa: E402
from suite.servers import ServerFailed, fastcore_cmd, request, uvicorn_cmd, wait_ready  # noqa: E402

sys.path.insert(0, str(APPS))
import api_common as A  # noqa: E402



SERVERS = {
    "hyper": ("raw hyper (Rust)", lambda port: [str(BASELINE), "--port", str(port)]),
    "fastcore-313t": ("fastcore 3.13t", fastcore_cmd(".venv-313t", "api_fastcore:app")),
    "fastcore-gil": ("fastcore 3.11", fastcore_cmd(".venv-gil", "api_fastcore:app")),
    "fastapi-uvicorn": ("FastAPI + uvicorn (uvloop, httptools) 3.11",
                        uvicorn_cmd("eco-311", "api_fastapi:app")),
}


@dataclass
class Case:
    name: str
    server: str
    method: str
    path: str
    status: int
    expect: object
    lua: str | None = None


ITEM_BODY = json.dumps(A.ITEM, separators=(",", ":")).encode()
CASES = [
    Case("api-fastapi", "fastapi-uvicorn", "POST", A.PATH, 201, A.EXPECT, "api_item.lua"),
    Case("api-313t", "fastcore-313t", "POST", A.PATH, 201, A.EXPECT, "api_item.lua"),
    Case("api-gil", "fastcore-gil", "POST", A.PATH, 201, A.EXPECT, "api_item.lua"),
    Case("hello-hyper", "hyper", "GET", "/", 200, A.HELLO),
    Case("hello-313t", "fastcore-313t", "GET", "/", 200, A.HELLO),
]
# (numerator, denominator, what, target ratio or None)
RATIOS = [
    ("api-313t", "api-fastapi", "API route: fastcore 3.13t ÷ FastAPI + uvicorn", 10.0),
    ("api-gil", "api-fastapi", "API route: fastcore 3.11 ÷ FastAPI + uvicorn", None),
    ("hello-313t", "hello-hyper", "JSON hello: fastcore 3.13t ÷ raw hyper", None),
]


class Failed(Exception):
    pass


def check(port: int, case: Case) -> str | None:
    headers = {"Content-Type": "application/json", "X-API-Key": A.API_KEY} if case.method == "POST" else {}
    body = ITEM_BODY if case.method == "POST" else None
    try:
        status, _, got, _ = request(port, case.method, case.path, body=body, headers=headers)
    except OSError as e:
        return f"request failed: {e}"
    if status != case.status:
        return f"status {status}, expected {case.status}: {got[:300]!r}"
    try:
        value = json.loads(got)
    except ValueError:
        return f"body is not JSON: {got[:200]!r}"
    return None if value == case.expect else f"body {value!r}, expected {case.expect!r}"


def start(server: str, raw: Path, tag: str) -> tuple[Proc, int]:
    port = free_port()
    proc = Proc(SERVERS[server][1](port), SERVER_CPUS, raw / f"{tag}.server.log")
    try:  # a free-threaded 3.13 start-up can be slow on a busy machine
        return proc, wait_ready(proc, port, server, timeout=60)
    except ServerFailed as e:
        raise Failed(str(e)) from None


def wrk(port: int, case: Case, seconds: float) -> list[str]:
    script = ["-s", str(BENCH / "wrk" / case.lua)] if case.lua else []
    return ["wrk", "-t1", "-c64", f"-d{seconds:g}s", "--latency", *script, f"http://127.0.0.1:{port}{case.path}"]


def measure(case: Case, rep: int, args: argparse.Namespace, raw: Path) -> dict:
    tag = f"{case.name}-{rep}"
    proc, port = start(case.server, raw, tag)
    try:
        why = check(port, case)
        if why:
            raise Failed(f"{case.name}: wrong answer: {why}\n{proc.log_tail()}")
        run_pinned(wrk(port, case, args.warmup))
        b0, s0, t0 = cpu_ticks()
        srv0, w0 = tree_ticks(proc.pid), time.monotonic()
        text, wrk_cpu, _ = run_pinned(wrk(port, case, args.duration))
        b1, s1, t1 = cpu_ticks()
        srv1, w1 = tree_ticks(proc.pid), time.monotonic()
        why = check(port, case) if proc.alive() else f"{case.server} died during the run"
        if why:
            raise Failed(f"{case.name}: after the run: {why}\n{proc.log_tail()}")
    finally:
        proc.stop()
    (raw / f"{tag}.wrk.txt").write_text(text)
    rec = {"case": case.name, "rep": rep, **parse_wrk(text)}
    if rec["requests"] == 0 or rec["non2xx"]:
        raise Failed(f"{case.name}: {rec['requests']} requests, {rec['non2xx']} non-2xx (see {raw / tag}.wrk.txt)")
    ours = (srv1 - srv0) + wrk_cpu * HZ
    rec["other_load_pct"] = round(max(0.0, 100.0 * ((b1 - b0) + (s1 - s0) - ours) / max(1, t1 - t0)), 1)
    rec["server_cpu_pct"] = round(100.0 * (srv1 - srv0) / HZ / (w1 - w0), 1)
    return rec


def report(runs: list[dict], args: argparse.Namespace) -> str:
    by: dict[str, list[dict]] = {}
    for r in runs:
        by.setdefault(r["case"], []).append(r)
    med = {name: statistics.median(r["rps"] for r in rs) for name, rs in by.items()}
    # Requests per CPU-second of the server: steadier than req/s where other work shares the CPUs.
    eff = {name: statistics.median(r["rps"] / max(r["server_cpu_pct"], 0.1) * 100 for r in rs)
           for name, rs in by.items()}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    lines = ["# API benchmark: a realistic FastAPI route, fastcore vs FastAPI + uvicorn", "",
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, {platform.machine()}. "
             f"Servers on CPU {SERVER_CPUS}, wrk (-t1 -c64) on CPU {CLIENT_CPUS}; {args.warmup:g} s warm-up + "
             f"{args.duration:g} s per run, median of {args.reps} interleaved rep(s), a fresh server per run. "
             "Generated by `bash bench/api.sh`"
             + (" with QUICK=1: a correctness check, **the numbers are not results**." if args.quick else "."),
             "", "Route: `POST /items/42?q=search&skip=5&limit=20`, `X-API-Key` through `APIKeyHeader` and an "
             "owner dependency, a `Pager` class dependency (two constrained query parameters), a Pydantic body, "
             "a `response_model` filtering one field, 201 (bench/apps/api_common.py, the same code on both).",
             "", "| comparison | req/s ratio | target | | req per server CPU-second ratio |",
             "|---|---:|---:|---|---:|"]
    for num, den, what, target in RATIOS:
        if num in med and den in med:
            ratio = med[num] / med[den]
            verdict = "" if target is None else ("(quick: not judged)" if args.quick
                                                 else ("met" if ratio >= target else "**missed**"))
            lines.append(f"| {what} | {ratio:.2f}x | {'–' if target is None else f'≥ {target:g}x'} | {verdict} "
                         f"| {eff[num] / eff[den]:.2f}x |")
    lines += ["", "Targets are judged on req/s. The CPU-second ratio divides each side's req/s by the share of CPU "
              f"{SERVER_CPUS} its server got: on a machine where other processes take CPU time it is the steadier "
              "figure.",
              "", "| case | server | req/s (median) | p50 ms | p99 ms | server CPU | req per server CPU-s | other load "
              "| req/s per rep |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for case in CASES:
        rs = by.get(case.name)
        if rs:
            lines.append(f"| {case.name} | {SERVERS[case.server][0]} | {med[case.name]:,.0f} "
                         f"| {statistics.median(r['p50_ms'] for r in rs):.2f} "
                         f"| {statistics.median(r['p99_ms'] for r in rs):.2f} "
                         f"| {statistics.median(r['server_cpu_pct'] for r in rs):.0f}% "
                         f"| {eff[case.name]:,.0f} "
                         f"| {max(r['other_load_pct'] for r in rs):.0f}% "
                         f"| {', '.join(format(r['rps'], ',.0f') for r in sorted(rs, key=lambda r: r['rep']))} |")
    lines += ["", "other load: the share of both CPUs that went to neither the server nor wrk (worst rep); over "
              "10% makes a run unreliable.", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 s x 1 rep: every server answers correctly, no judging")
    ap.add_argument("--duration", type=float)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--reps", type=int)
    args = ap.parse_args()
    args.duration = args.duration or (2.0 if args.quick else 10.0)
    args.warmup = args.warmup or (1.0 if args.quick else 3.0)
    args.reps = args.reps or (1 if args.quick else 3)
    out = BENCH / "results"
    raw = out / "raw" / "api"
    raw.mkdir(parents=True, exist_ok=True)
    runs = []
    try:
        for rep in range(1, args.reps + 1):
            for case in CASES:
                rec = measure(case, rep, args, raw)
                log(f"  rep {rep} {case.name:12} {rec['rps']:>9,.0f} req/s  p99 {rec['p99_ms']:.2f} ms  "
                    f"other load {rec['other_load_pct']:.0f}%")
                runs.append(rec)
    except Failed as e:
        log(f"FAIL: {e}")
        return 1
    path = out / ("raw/api-quick.md" if args.quick else "api.md")
    path.write_text(report(runs, args))
    log(f"wrote {path.relative_to(ROOT)}")
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

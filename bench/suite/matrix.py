"""Part `matrix`: wrk against every server x scenario, REPS interleaved repetitions (median in the
report), with the server's CPU time per request and the other load on the machine."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .config import HZ, log
from .load import parse_wrk, run_pinned, wrk_argv
from .procs import cpu_ticks, tree_kb, tree_ticks
from .scenarios import Scenario
from .servers import ServerDef, ServerFailed, start_server

if TYPE_CHECKING:
    from .run import Suite


def measure(suite: Suite, sd: ServerDef, sc: Scenario, rep: int) -> dict:
    tag = f"{sc.name}-{sd.name}-{rep}"
    rec: dict = {"server": sd.name, "scenario": sc.name, "rep": rep}
    try:
        proc, port = start_server(sd, suite.raw, tag)
    except ServerFailed as e:
        rec["failed"] = str(e)
        return rec
    try:
        # Warm-up: lazy initialisation, allocator growth, caches, upstream pools. Thrown away.
        run_pinned(wrk_argv(port, sc, suite.args.warmup, timeout=suite.wrk_timeout))
        b0, s0, t0 = cpu_ticks()
        srv0, w0 = tree_ticks(proc.pid), time.monotonic()
        up0 = tree_ticks(suite.upstream.pid) if suite.upstream else 0
        text, wrk_cpu, rc = run_pinned(wrk_argv(port, sc, suite.args.duration, timeout=suite.wrk_timeout))
        b1, s1, t1 = cpu_ticks()
        srv1, w1 = tree_ticks(proc.pid), time.monotonic()
        up1 = tree_ticks(suite.upstream.pid) if suite.upstream else 0
        rec["rss_kb"] = tree_kb(proc.pid, "VmHWM")
        if not proc.alive():
            rec["failed"] = f"{sd.name} died during the run:\n{proc.log_tail()}"
            return rec
    finally:
        proc.stop()
    (suite.raw / f"{tag}.wrk.txt").write_text(text)
    try:
        rec.update(parse_wrk(text))
    except ValueError as e:
        rec["failed"] = str(e)
        return rec
    if rec["requests"] == 0:
        rec["failed"] = f"no request completed in {suite.args.duration:g} s (see {suite.raw / tag}.wrk.txt)"
        return rec
    ours = (srv1 - srv0) + (up1 - up0) + wrk_cpu * HZ
    rec["other_load_pct"] = round(max(0.0, 100.0 * ((b1 - b0) + (s1 - s0) - ours) / max(1, t1 - t0)), 1)
    rec["server_cpu_pct"] = round(100.0 * (srv1 - srv0) / HZ / (w1 - w0), 1)
    # The server's own CPU time per request: steadier than req/s when other work shares the
    # machine (only the server's ticks count), so its ratio to raw hyper's is the one to trust
    # on a busy machine. Ticks are 10 ms: a 5 s run at 100% CPU is exact to 0.2%.
    rec["server_cpu_us"] = round((srv1 - srv0) / HZ / rec["requests"] * 1e6, 2)
    return rec



def run(suite: Suite) -> None:
    servers = suite.available()
    quick_subset = suite.args.quick
    jobs = []
    for rep in range(1, suite.args.reps + 1):
        # Interleaved: each rep runs every scenario on every server, so slow drift (a noisy
        # neighbour, thermal) spreads over all of them instead of biasing one.
        for sc in suite.scenarios:
            for sd in servers:
                # Quick mode: every scenario on fastcore 3.13t, JSON + POST on everything else.
                if quick_subset and sd.name != "fastcore-313t" and sc.name not in ("json", "pydantic"):
                    continue
                jobs.append((rep, sc, sd))
    per_job = suite.args.warmup + suite.args.duration + 2.5
    log(f"matrix: {len(jobs)} runs, about {len(jobs) * per_job / 60:.0f} min")
    for i, (rep, sc, sd) in enumerate(jobs, 1):
        rec = measure(suite, sd, sc, rep)
        suite.results["runs"].append(rec)
        if "failed" in rec:
            suite.fail(f"{sd.name} {sc.name} rep {rep}: {rec['failed']}")
            continue
        errs = sum(rec["errors"].values())
        log(f"  [{i}/{len(jobs)}] rep {rep} {sc.name:10} {sd.name:16} {rec['rps']:>9.0f} req/s  "
            f"p99 {rec['p99_ms']:7.2f} ms  rss {rec['rss_kb'] / 1024:6.1f} MiB  other load {rec['other_load_pct']:.0f}%"
            + (f"  socket errors {errs}" if errs else "") + (f"  NON-2xx {rec['non2xx']}" if rec["non2xx"] else ""))
        if rec["non2xx"]:
            suite.fail(f"{sd.name} {sc.name} rep {rep}: {rec['non2xx']} non-2xx responses under load")
        suite.load_errors(f"{sd.name} {sc.name} rep {rep}", rec["errors"])
        suite.save()
    worst = max((r.get("other_load_pct", 0) for r in suite.results["runs"]), default=0)
    suite.results["meta"]["max_other_load_pct"] = worst
    if worst > 10:
        suite.note(f"WARNING: other processes took up to {worst:.0f}% of the CPUs during a measured run; "
                  "treat these numbers as unreliable.")
    suite.save()

"""Part `scaling`: fastcore with 1 vs 2 worker threads, a CPU-heavy handler (and JSON hello for
reference)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .config import CLIENT_CPUS, HZ, SERVER_CPUS, log
from .load import parse_wrk, run_pinned, wrk_argv
from .procs import cpu_ticks, thread_ticks, tree_ticks
from .scenarios import Scenario
from .servers import ServerFailed, start_server

if TYPE_CHECKING:
    from .run import Suite


def run(suite: Suite) -> None:
    """The server gets both CPUs for 2 threads, CPU 0 for 1 thread; wrk always stays on CPU 1.

    With a ~0.5 ms pure-Python handler the server needs ~2,000 req/s per thread to be
    saturated, which costs wrk a few percent of a CPU: so with 2 threads wrk takes only that
    small, measured share away from the server's second thread. A light handler (JSON hello)
    is measured the same way for reference, but there wrk needs most of CPU 1 and the two
    fight: that ratio says more about the machine than about fastcore."""
    sds = [s for s in suite.available() if s.name in ("fastcore-313t", "fastcore-gil")]
    cases = [("cpu", "/cpu", 16), ("json", "/", 64)]
    reps = 1 if suite.args.quick else suite.args.reps
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
                        proc, port = start_server(sd, suite.raw, tag, cpus=cpus,
                                                  extra_argv=["--threads", str(threads)])
                    except ServerFailed as e:
                        suite.fail(str(e))
                        continue
                    try:
                        sc = Scenario(case, case, "GET", path, b"", conns=conns)
                        run_pinned(wrk_argv(port, sc, suite.args.warmup, timeout=suite.wrk_timeout))
                        srv0, (b0, s0, t0), w0 = tree_ticks(proc.pid), cpu_ticks(), time.monotonic()
                        per0 = thread_ticks(proc.pid)
                        text, wrk_cpu, _ = run_pinned(wrk_argv(port, sc, suite.args.duration, timeout=suite.wrk_timeout))
                        srv1, (b1, s1, t1), w1 = tree_ticks(proc.pid), cpu_ticks(), time.monotonic()
                        per1 = thread_ticks(proc.pid)
                    finally:
                        proc.stop()
                    (suite.raw / f"{tag}.wrk.txt").write_text(text)
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
                        suite.fail(f"scaling {sd.name} {case} t{threads}: {r['non2xx']} non-2xx responses")
                    suite.load_errors(f"scaling {sd.name} {case} t{threads}", r["errors"])
    suite.results["scaling"] = {"runs": runs, "handler": "common.cpu_work(): a 5,000-step pure-Python loop"}
    suite.save()

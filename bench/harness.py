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
CPU 1, beside the load generator. Standard library only: runs on any Python 3.11+. The pieces
live in bench/suite/ (servers, scenarios, load generation, the parts, results.json).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from suite import checks, matrix, memory, scaling, sweep
from suite.config import log
from suite.run import Suite
from suite.scenarios import SCENARIOS
from suite.servers import SERVERS

PARTS = {"checks": checks.run, "matrix": matrix.run, "sweep": sweep.run, "scaling": scaling.run, "memory": memory.run}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for results.json and raw/")
    ap.add_argument("--quick", action="store_true", help="CI smoke run: short, a subset, correctness only")
    ap.add_argument("--merge", action="store_true",
                    help="keep the previous results.json in --out and replace only what this run measures")
    ap.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
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
        # suite.config then gives the load generators the servers' CPU.
        log("WARNING: fewer than 2 CPUs: server and load generator share one (numbers will be noisy)")

    suite = Suite(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return suite.run(PARTS)
    except KeyboardInterrupt:
        log("interrupted; servers stopped, partial results kept in " + str(suite.results_path))
        return 130


if __name__ == "__main__":
    sys.exit(main())

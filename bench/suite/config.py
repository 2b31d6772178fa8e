"""Where the suite's files and tools are, which CPUs servers and load generators run on, and
its log line."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / "bench"
APPS = BENCH / "apps"
VENVS = BENCH / ".venvs"
TOOLS = BENCH / "hyper_baseline" / "target" / "release"
BASELINE = TOOLS / "hyper-baseline"
LOADGEN = TOOLS / "loadgen"
HZ = os.sysconf("SC_CLK_TCK")
SERVER_CPUS = "0"
# Load generators on CPU 1, beside the servers' CPU 0; on one CPU they share it.
CLIENT_CPUS = "1" if (os.cpu_count() or 1) >= 2 else SERVER_CPUS


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


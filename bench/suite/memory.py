"""Part `memory`: the RSS of 10,000 suspended requests (bench/park_clients.py), per request."""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from .config import BENCH, CLIENT_CPUS, log
from .load import run_pinned, wrk_argv
from .procs import tree_kb
from .scenarios import SCENARIO_BY_NAME
from .servers import ServerFailed, request, start_server

if TYPE_CHECKING:
    from .run import Suite


def run(suite: Suite) -> None:
    n = 1000 if suite.args.quick else 10_000
    # Server and client each need a descriptor per connection (bench/run.sh raises the limit).
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if n > limit - 500:
        suite.note(f"memory: the open-files limit is {limit}; parking {limit - 500} requests instead of {n}")
        n = limit - 500
    sds = [s for s in suite.available() if s.name in ("fastcore-313t", "fastcore-gil", "fastapi-uvicorn")]
    tools_py = sys.executable
    for sd in sds:
        try:
            proc, port = start_server(sd, suite.raw, f"memory-{sd.name}")
        except ServerFailed as e:
            suite.fail(str(e))
            continue
        client = None
        try:
            # Warm the server up on ordinary requests first so the baseline includes its
            # steady-state heap, not start-up memory still to be touched.
            run_pinned(wrk_argv(port, SCENARIO_BY_NAME["json"], 1.0, timeout=suite.wrk_timeout))
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
            suite.fail(f"memory {sd.name}: {e}")
            continue
        finally:
            if client and client.poll() is None:
                client.kill()
                client.wait()
            proc.stop()
        rec = {"n": n, "client_said": first, "parked": parked, "rss_before_kb": before, "rss_parked_kb": during,
               "rss_after_release_kb": after, "per_request_bytes": round((during - before) * 1024 / max(1, parked)),
               "responses_ok": summary.get("ok")}
        suite.results["memory"][sd.name] = rec
        log(f"  memory {sd.name}: {parked} parked, RSS {before / 1024:.1f} -> {during / 1024:.1f} MiB, "
            f"{rec['per_request_bytes'] / 1024:.1f} KiB per suspended request; {summary.get('ok')} answered after release")
        if parked < n or summary.get("ok") != n:
            suite.fail(f"memory {sd.name}: parked {parked}/{n}, answered {summary.get('ok')}/{n}")
        suite.save()

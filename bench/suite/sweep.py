"""Part `sweep`: latency against offered load: capacity with wrk, then fixed rates as fractions of
it (bench/hyper_baseline's loadgen)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .config import LOADGEN, log
from .load import parse_wrk, run_pinned, wrk_argv
from .scenarios import SCENARIO_BY_NAME
from .servers import SERVER_BY_NAME, ServerFailed, start_server

if TYPE_CHECKING:
    from .run import Suite


def run(suite: Suite) -> None:
    names = [n for n in ("fastcore-313t", "granian-rsgi", "fastapi-uvicorn") if n in [s.name for s in suite.available()]]
    sc = SCENARIO_BY_NAME["json"]
    fractions = (0.25, 0.75) if suite.args.quick else (0.1, 0.25, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25)
    dur = 1.0 if suite.args.quick else max(3.0, suite.args.duration)
    for name in names:
        sd = SERVER_BY_NAME[name]
        try:
            proc, port = start_server(sd, suite.raw, f"sweep-{name}")
        except ServerFailed as e:
            suite.fail(str(e))
            continue
        points = []
        try:
            # Capacity first (closed loop, wrk), then fixed rates as fractions of it.
            run_pinned(wrk_argv(port, sc, suite.args.warmup, timeout=suite.wrk_timeout))
            cap = parse_wrk(run_pinned(wrk_argv(port, sc, dur, timeout=suite.wrk_timeout))[0])["rps"]
            log(f"sweep: {name} capacity {cap:.0f} req/s")
            for f in fractions:
                rate = max(100.0, round(cap * f, -2))
                text, _, rc = run_pinned([str(LOADGEN), "--url", f"http://127.0.0.1:{port}/", "--rate", f"{rate:g}",
                                          "--duration", f"{dur:g}", "--warmup", "1", "--connections", str(sc.conns)])
                try:
                    pt = json.loads(text.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    suite.fail(f"sweep {name} at {rate:g}/s: loadgen said {text[-300:]!r}")
                    continue
                pt["fraction"] = f
                points.append(pt)
                log(f"  {name} offered {rate:>8.0f}/s achieved {pt['achieved_rps']:>8.0f}/s  "
                    f"p50 {pt['p50_ms']:.2f} ms  p99 {pt['p99_ms']:.2f} ms  errors {pt['errors']}")
                if pt["non2xx"]:
                    suite.fail(f"sweep {name} at {rate:g}/s: {pt['non2xx']} non-2xx responses")
                suite.load_errors(f"sweep {name} at {rate:g}/s", pt["errors"])
        finally:
            proc.stop()
        suite.results["sweep"][name] = {"capacity_rps": cap, "points": points}
        suite.save()

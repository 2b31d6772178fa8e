"""What the Python half of the API bench route costs: its compiled endpoint (solve, call, finish),
called in-process on a stand-in for the core's RawRequest, without HTTP.

    .venv-313t/bin/python bench/endpoint_cost.py            # µs per call
    .venv-gil/bin/python bench/endpoint_cost.py --profile   # and where the time goes (cProfile)

Same-interpreter comparisons only (3.13t against 3.11 is the point); run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))
import fastcore  # noqa: E402
from api_common import API_KEY, ITEM, build  # noqa: E402

BODY = json.dumps(ITEM).encode()


class StandIn:
    """The attributes of `fastcore._core.RawRequest` the route reads, for POST /items/42?q=...."""

    method = "POST"
    raw_path = "/items/42"
    query_string = "q=search&skip=5&limit=20"
    http_version = "1.1"
    client = ("127.0.0.1", 50000)
    route = "/items/{item_id:int}"

    def __init__(self) -> None:
        self.body = BODY
        self.path_params = {"item_id": 42}
        self.headers = [("host", "bench"), ("content-type", "application/json"), ("x-api-key", API_KEY),
                        ("content-length", str(len(BODY)))]
        self.query_pairs = [("q", "search"), ("skip", "5"), ("limit", "20")]

    # What the core builds in Rust, here from the lists above.
    def query_lists(self) -> dict[str, list[str]]:
        return _lists(self.query_pairs)

    def header_lists(self) -> dict[str, list[str]]:
        return _lists(self.headers)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


def _lists(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    app = build(fastcore)
    endpoint = next(r for r in app.routes if r.path == "/items/{item_id}").compiled.endpoint
    response = endpoint(StandIn())
    assert response.status_code == 201, response.body
    for _ in range(1000):  # warm-up
        endpoint(StandIn())
    # The best of several rounds: on a shared machine, other processes only ever add time.
    rounds = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for _ in range(args.calls):
            endpoint(StandIn())
        rounds.append((time.perf_counter() - t0) / args.calls * 1e6)
    print(f"{sys.version.split()[0]} ({'free-threaded' if not getattr(sys, '_is_gil_enabled', lambda: True)() else 'GIL'}):"
          f" {min(rounds):.1f} µs per call (best of {args.rounds} rounds of {args.calls:,} calls;"
          f" median {sorted(rounds)[len(rounds) // 2]:.1f})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [endpoint(StandIn()) for _ in range(5000)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()

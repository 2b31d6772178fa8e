"""JSON encoding microbenchmark (issue 13): `fastcore._core.encode_json` against orjson and msgspec
(GIL CPython; neither has cp313t wheels) and against the standard library encoder with FastAPI's
settings, on five documents. Run through bench/json_encode.sh, which provisions orjson and msgspec
in bench/.venvs/json-311 and runs this on 3.11 and on 3.13t.

    python bench/json_encode.py [--extra-site DIR] [--baseline SO] [--number N] [--repeat R]

`--baseline` loads another build of fastcore's extension (`_core.*.so`, for example one built
from an earlier commit) as "before", so a change is measured in the same run as its baseline.

Each figure is the median of R rounds of N encodings, the encoders taking turns in each round,
timed in the thread's CPU time (`time.thread_time`), so time the machine gives to other
processes (it is shared) does not count;
the ratios divide the other encoder's time by fastcore's, so ≥ 1.00x means fastcore is at least
as fast. Every fastcore output is checked byte for byte against `json.dumps(value,
ensure_ascii=False, allow_nan=False, separators=(",", ":"))`, what Starlette's JSONResponse sends.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import site
import statistics
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))


def documents() -> dict[str, object]:
    from common import PAYLOAD  # the 10 KB scenario's document (bench/apps/common.py)

    rng = random.Random(13)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    nested = {"users": [{"id": i, "name": f"user {i}", "active": i % 3 == 0, "score": rng.random() * 100,
                         "profile": {"email": f"user{i}@example.com", "bio": " ".join(rng.choices(words, k=12)),
                                     "langs": rng.sample(words, 3), "address": {"city": "Berlin", "zip": f"{i:05d}"}},
                         "history": [{"t": 1700000000 + j, "v": j * 0.25} for j in range(4)]} for i in range(230)]}
    escapes = [f'line {i}\n\t"quoted" \\ back\\slash {i}\r' for i in range(600)]
    floats = [rng.uniform(-1e6, 1e6) for _ in range(2000)] + [rng.random() * 1e-7 for _ in range(500)]
    text = ["Grüße aus Köln – naïve café", "東京は晴れです。", "Приветствие", "🙂 emoji ✓ ünïcödé"] * 250
    return {"10 KB list of dicts": PAYLOAD, "100 KB nested document": nested,
            "short strings with escapes": escapes, "floats": floats, "non-ASCII text": text}


def fastapi_dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra-site", help="a site-packages directory with orjson and msgspec")
    ap.add_argument("--baseline", help="another build's _core extension, measured as 'before'")
    ap.add_argument("--times-out", help="write fastcore's µs per document here (JSON)")
    ap.add_argument("--compare", help="a --times-out file from another interpreter: print this one's time against it")
    ap.add_argument("--number", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    if args.extra_site:
        site.addsitedir(args.extra_site)
    from fastcore._core import encode_json

    encoders = {"fastcore": encode_json, "json.dumps": fastapi_dumps}
    if args.baseline:
        import importlib.machinery
        import importlib.util

        # The init function is named after the last component (`PyInit__core`).
        loader = importlib.machinery.ExtensionFileLoader("fastcore_before._core", args.baseline)
        spec = importlib.util.spec_from_file_location("fastcore_before._core", args.baseline, loader=loader)
        before = importlib.util.module_from_spec(spec)
        loader.exec_module(before)
        encoders["before"] = before.encode_json
    try:
        import orjson

        encoders["orjson"] = orjson.dumps
    except ImportError:
        pass
    try:
        import msgspec

        encoders["msgspec"] = msgspec.json.Encoder().encode
    except ImportError:
        pass
    free = not getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"Python {sys.version.split()[0]}{' (free-threaded)' if free else ''}; median of {args.repeat} rounds x "
          f"{args.number} encodings, µs per document; load average {os.getloadavg()[0]:.2f} at the start\n")
    others = [name for name in encoders if name != "fastcore"]
    print("| document | bytes | fastcore µs | " + " | ".join(f"{n} µs" for n in others) + " | "
          + " | ".join(f"vs {n}" for n in others) + " |")
    print("|---|---:|---:|" + "---:|" * (2 * len(others)))
    own_times = {}
    for name, value in documents().items():
        out = encode_json(value)
        assert out == fastapi_dumps(value), f"{name}: fastcore's output differs from json.dumps"
        if "before" in encoders:
            assert encoders["before"](value) == out, f"{name}: the baseline's output differs"
        # The encoders take turns within each round, so load from other processes falls on all
        # of them alike; each figure is the median of its rounds.
        rounds: dict[str, list[float]] = {n: [] for n in encoders}
        for _ in range(args.repeat):
            for enc_name, enc in encoders.items():
                t = timeit.timeit(lambda: enc(value), number=args.number, timer=time.thread_time)
                rounds[enc_name].append(t / args.number * 1e6)
        times = {n: statistics.median(r) for n, r in rounds.items()}
        own = own_times[name] = times["fastcore"]
        print(f"| {name} | {len(out):,} | {own:.1f} | " + " | ".join(f"{times[n]:.1f}" for n in others) + " | "
              + " | ".join(f"{times[n] / own:.2f}x" for n in others) + " |")

    if args.times_out:
        Path(args.times_out).write_text(json.dumps(own_times))
    if args.compare:
        theirs = json.loads(Path(args.compare).read_text())
        print("\nfastcore here against fastcore in the other run (its time ÷ this one's, ≥ 1.00x: faster here):\n")
        print("| document | here µs | other µs | ratio |\n|---|---:|---:|---:|")
        for name, own in own_times.items():
            print(f"| {name} | {own:.1f} | {theirs[name]:.1f} | {theirs[name] / own:.2f}x |")


if __name__ == "__main__":
    main()

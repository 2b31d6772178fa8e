"""JSON encoding microbenchmark (issue 13): `fastcore._core.encode_json` against orjson and msgspec
(GIL CPython; neither has cp313t wheels) and against the standard library encoder with FastAPI's
settings, on five documents. Run through bench/json_encode.sh, which provisions orjson and msgspec
in bench/.venvs/json-311 and runs this on 3.11 and on 3.13t.

    python bench/json_encode.py [--extra-site DIR] [--number N] [--repeat R]

Each figure is the best of R repetitions of N encodings (other processes only ever add time);
the ratios divide the other encoder's time by fastcore's, so ≥ 1.00x means fastcore is at least
as fast. Every fastcore output is checked byte for byte against `json.dumps(value,
ensure_ascii=False, allow_nan=False, separators=(",", ":"))`, what Starlette's JSONResponse sends.
"""
from __future__ import annotations

import argparse
import json
import random
import site
import sys
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
    ap.add_argument("--number", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    if args.extra_site:
        site.addsitedir(args.extra_site)
    from fastcore._core import encode_json

    encoders = {"fastcore": encode_json, "json.dumps": fastapi_dumps}
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
    print(f"Python {sys.version.split()[0]}{' (free-threaded)' if free else ''}; best of {args.repeat} x "
          f"{args.number} encodings, µs per document\n")
    others = [name for name in encoders if name != "fastcore"]
    print("| document | bytes | fastcore µs | " + " | ".join(f"{n} µs" for n in others) + " | "
          + " | ".join(f"vs {n}" for n in others) + " |")
    print("|---|---:|---:|" + "---:|" * (2 * len(others)))
    for name, value in documents().items():
        out = encode_json(value)
        assert out == fastapi_dumps(value), f"{name}: fastcore's output differs from json.dumps"
        times = {}
        for enc_name, enc in encoders.items():
            best = min(timeit.repeat(lambda: enc(value), number=args.number, repeat=args.repeat))
            times[enc_name] = best / args.number * 1e6
        own = times["fastcore"]
        print(f"| {name} | {len(out):,} | {own:.1f} | " + " | ".join(f"{times[n]:.1f}" for n in others) + " | "
              + " | ".join(f"{times[n] / own:.2f}x" for n in others) + " |")


if __name__ == "__main__":
    main()

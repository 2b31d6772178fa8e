"""What the Python half of a bench route costs: its compiled endpoint (solve, call, finish),
called in-process on a stand-in for the core's RawRequest, without HTTP.

    .venv-313t/bin/python bench/endpoint_cost.py            # µs per call, the API route (bench/api.sh)
    .venv-gil/bin/python bench/endpoint_cost.py --profile   # and where the time goes (cProfile)
    .venv-313t/bin/python bench/endpoint_cost.py --route params     # the suite's GET /users/42?q=hello
    .venv-313t/bin/python bench/endpoint_cost.py --route pydantic   # the suite's POST /items
    .venv-gil/bin/python bench/endpoint_cost.py --stages --extra-site bench/.venvs/json-311/lib/python3.11/site-packages

`--stages` times the request stages of the pydantic POST one by one: decoding and validating
the body (pydantic-core's `validate_json` from the bytes, which fastcore uses; FastAPI's
`json.loads` then `validate_python`; and, where importable, orjson's `loads` then
`validate_python`, and msgspec decoding into an equivalent `Struct`), encoding the answer
(pydantic-core's `to_json`, which fastcore uses; FastAPI's `jsonable_encoder` + `json.dumps`;
orjson and msgspec), and building the `Response`. orjson and msgspec have no cp313t wheels:
`--extra-site` points 3.11 at the venv `bench/json_encode.sh` provisions.

Same-interpreter comparisons only (3.13t against 3.11 is the point); run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import site
import sys
import time
from pathlib import Path
from typing import Any

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


class SuiteStandIn(StandIn):
    """The same for the suite's routes (bench/apps/fastcore_app.py): GET /users/42?q=hello and
    POST /items with the Item body."""

    def __init__(self) -> None:
        super().__init__()
        self.body = SUITE_BODY
        self.path_params = {"user_id": "42"}
        self.headers = [("host", "bench"), ("content-type", "application/json")]
        self.query_pairs = [("q", "hello")]


SUITE_BODY = b'{"name":"widget","price":9.5,"tags":["a","b"]}'


def best_of(fn: Any, calls: int, rounds: int) -> tuple[float, float]:
    """(best, median) µs per call over `rounds` rounds: on a shared machine, other processes
    only ever add time, so the best round is the figure."""
    for _ in range(min(calls, 1000)):  # warm-up
        fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls * 1e6)
    return min(times), sorted(times)[len(times) // 2]


def interpreter() -> str:
    free = not getattr(sys, "_is_gil_enabled", lambda: True)()
    return f"{sys.version.split()[0]} ({'free-threaded' if free else 'GIL'})"


def stages(calls: int, rounds: int) -> None:
    """The pydantic POST's stages, each against what FastAPI and the fast JSON libraries do."""
    from common import Item
    from fastcore.encoders import jsonable_encoder
    from fastcore.responses import json_response

    validator, serializer = Item.__pydantic_validator__, Item.__pydantic_serializer__
    item = validator.validate_json(SUITE_BODY)
    encoded = serializer.to_json(item)
    rows: list[tuple[str, Any]] = [
        ("decode: validate_json(bytes) (fastcore)", lambda: validator.validate_json(SUITE_BODY)),
        ("decode: json.loads + validate_python (FastAPI)", lambda: validator.validate_python(json.loads(SUITE_BODY))),
        ("encode: to_json (fastcore, response_model)", lambda: serializer.to_json(item)),
        ("encode: jsonable_encoder + json.dumps (FastAPI)",
         lambda: json.dumps(jsonable_encoder(item), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()),
        ("encode: the core's encoder on model_dump()", lambda: fastcore._core.encode_json(item.model_dump())),
        ("respond: json_response(bytes, 201)", lambda: json_response(encoded, 201)),
    ]
    try:
        import orjson
    except ImportError:
        print("orjson: not importable here (no cp313t wheels; see --extra-site)")
    else:
        rows.insert(2, ("decode: orjson.loads + validate_python", lambda: validator.validate_python(orjson.loads(SUITE_BODY))))
        rows.append(("encode: orjson.dumps(model_dump())", lambda: orjson.dumps(item.model_dump())))
    try:
        import msgspec
    except ImportError:
        print("msgspec: not importable here (no cp313t wheels; see --extra-site)")
    else:
        class ItemStruct(msgspec.Struct):
            name: str
            price: float
            tags: list[str] = []

        decoder, encoder = msgspec.json.Decoder(ItemStruct), msgspec.json.Encoder()
        value = decoder.decode(SUITE_BODY)
        rows.insert(2, ("decode: msgspec into a Struct (no pydantic)", lambda: decoder.decode(SUITE_BODY)))
        rows.append(("encode: msgspec a Struct (no pydantic)", lambda: encoder.encode(value)))
    print(f"{interpreter()}: the pydantic POST's stages, µs per call (best of {rounds} rounds of {calls:,})")
    for name, fn in rows:
        best, median = best_of(fn, calls, rounds)
        print(f"  {name:<52} {best:6.2f}  (median {median:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--route", choices=("api", "params", "pydantic"), default="api")
    ap.add_argument("--stages", action="store_true", help="time the pydantic POST's stages (see above)")
    ap.add_argument("--extra-site", help="a site-packages directory with orjson and msgspec")
    args = ap.parse_args()
    if args.extra_site:
        site.addsitedir(args.extra_site)
    if args.stages:
        stages(args.calls, args.rounds)
        return
    if args.route == "api":
        app, path, stand_in, status = build(fastcore), "/items/{item_id}", StandIn, 201
    else:
        import fastcore_app

        app, stand_in = fastcore_app.app, SuiteStandIn
        path, status = ("/users/{user_id}", 200) if args.route == "params" else ("/items", 201)
    endpoint = next(r for r in app.routes if r.path == path).compiled.endpoint
    response = endpoint(stand_in())
    assert getattr(response, "status_code", 200) == status, response

    best, median = best_of(lambda: endpoint(stand_in()), args.calls, args.rounds)
    print(f"{interpreter()}, {args.route}: {best:.1f} µs per call (best of {args.rounds} rounds of {args.calls:,} calls;"
          f" median {median:.1f})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [endpoint(stand_in()) for _ in range(5000)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()

"""Parse cost of a 1 MB multipart form: fastcore's Rust parser against python-multipart (through
Starlette's MultiPartParser, what FastAPI uses), in one process, same body, same run.

    .venv-gil/bin/python bench/forms_parse.py [ROUNDS]

The body: ten short text fields and one 1,000,000-byte file part. fastcore's figure is
`parse_multipart` plus building the FormData (`formparsers._build`: UploadFiles over
SpooledTemporaryFiles); Starlette's is `MultiPartParser.parse()` over the body in 64 KiB chunks
(the size its ASGI servers hand over), run to completion on an asyncio loop. Both keep the file
in memory (it is under the 1 MiB spool size). Prints the median per parse and the ratio.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

from fastcore._core import parse_multipart
from fastcore.formparsers import SPOOL_MAX_SIZE, _build

BOUNDARY = "----fastcorebench7MA4YWxkTrZu0gW"


def body() -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="field{i}"\r\n\r\nvalue {i}\r\n'.encode()
             for i in range(10)]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n'
                 f'Content-Type: application/octet-stream\r\n\r\n'.encode() + os.urandom(1_000_000) + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def time_it(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    data = body()

    def fastcore_parse() -> None:
        form = _build(parse_multipart(data, BOUNDARY.encode(), "utf-8", 1000, 1000, 1 << 20, SPOOL_MAX_SIZE), "utf-8")
        assert len(form.getlist("file")) == 1

    from starlette.datastructures import Headers
    from starlette.formparsers import MultiPartParser

    loop = asyncio.new_event_loop()

    async def chunks():
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]

    def starlette_parse() -> None:
        headers = Headers({"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
        form = loop.run_until_complete(MultiPartParser(headers, chunks()).parse())
        assert len(form.getlist("file")) == 1

    for fn in (fastcore_parse, starlette_parse):  # warm-up
        time_it(fn, 10)
    results = {"fastcore": [], "starlette": []}
    for _ in range(3):  # interleaved
        results["fastcore"].append(time_it(fastcore_parse, rounds))
        results["starlette"].append(time_it(starlette_parse, rounds))
    fc, st = statistics.median(results["fastcore"]), statistics.median(results["starlette"])
    print(f"1 MB multipart, median of 3 x {rounds} parses, {sys.implementation.name} {sys.version.split()[0]}")
    print(f"fastcore (Rust parser + FormData): {fc * 1e6:9.1f} us")
    print(f"Starlette + python-multipart:      {st * 1e6:9.1f} us")
    print(f"python-multipart / fastcore:       {st / fc:9.1f}x")


if __name__ == "__main__":
    main()

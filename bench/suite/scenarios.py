"""The scenarios every server is measured on: the request, the expected answer, the number of
connections and any wrk script."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .config import BENCH


HELLO = b'{"message":"Hello, World!"}'


def _payload_bytes() -> bytes:
    rows = [{"id": i, "name": f"item-{i:04d}", "price": i + 0.5, "in_stock": i % 2 == 0, "tags": ["alpha", "beta"]}
            for i in range(124)]
    return json.dumps({"items": rows}, separators=(",", ":")).encode()


ITEM = b'{"name":"widget","price":9.5,"tags":["a","b"]}'
UPLOAD_SIZE = 1024 * 1024


@dataclass
class Scenario:
    name: str
    title: str
    method: str
    path: str
    expect: bytes                  # the reference body; JSON bodies may differ in bytes but not in value
    status: int = 200
    conns: int = 64
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    wrk_args: tuple[str, ...] = ()
    min_ms: float = 0.0            # a correct answer cannot be faster (proves the sleep/upstream wait)
    json: bool = True


SCENARIOS: list[Scenario] = [
    Scenario("plaintext", "Plain-text hello", "GET", "/plaintext", b"Hello, World!", json=False),
    Scenario("json", "JSON hello, sync handler", "GET", "/", HELLO),
    Scenario("json-async", "JSON hello, async handler", "GET", "/async", HELLO),
    Scenario("params", "Path + query parameters", "GET", "/users/42?q=hello", b'{"user_id":42,"q":"hello"}'),
    Scenario("pydantic", "POST pydantic body + response_model (201)", "POST", "/items", ITEM, status=201,
             body=ITEM, headers={"Content-Type": "application/json"},
             wrk_args=("-s", str(BENCH / "wrk/post_items.lua"))),
    Scenario("json10k", "10 KB JSON response", "GET", "/json10k", _payload_bytes()),
    Scenario("sleep", "async handler awaiting a 10 ms sleep, 1,000 connections", "GET", "/sleep", HELLO,
             conns=1000, min_ms=10),
    # 64 connections, not more: httpx costs over 1 ms of CPU per call (more while it opens a burst
    # of connections), so the httpx-based peers manage a few hundred calls/s; at 256 connections
    # their queueing pushed every request past wrk's 2 s timeout (httpx: ConnectTimeout).
    Scenario("fanout", "async handler, two concurrent upstream calls (5 ms each), 64 connections", "GET",
             "/fanout", b'{"upstream":[' + HELLO + b"," + HELLO + b"]}", conns=64, min_ms=5),
    Scenario("upload", "1 MB request body upload, 16 connections", "POST", "/upload",
             b'{"size":%d}' % UPLOAD_SIZE, conns=16, body=b"x" * UPLOAD_SIZE,
             headers={"Content-Type": "application/octet-stream"},
             wrk_args=("-s", str(BENCH / "wrk/upload_1mb.lua"))),
    Scenario("conn-close", "JSON hello, keep-alive off (new connection per request)", "GET", "/", HELLO,
             headers={"Connection": "close"}, wrk_args=("-H", "Connection: close")),
]
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}

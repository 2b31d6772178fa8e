"""Stop-the-world pauses under a flood of requests answered without Python (src/runtime/attach.rs
`safe_point`, src/dispatch/serve.rs `rust_only`).

On 3.13t a worker stays attached while it runs, and a 404 never reaches an eval-breaker check:
without safe points, `gc.collect()` on any thread waited for the flood to stop. The bound
asserted here is generous, so machine load cannot trip it: pauses measured idle are a few ms,
and the stall lasted as long as the flood (seconds).
"""
from __future__ import annotations

import socket
import threading
import time

from .conftest import ServerFactory, needs_free_threading

FLOOD_SECONDS = 3.0
BATCH = b"GET /no/such/route HTTP/1.1\r\nHost: t\r\n\r\n" * 200


def _flood(host: str, port: int, until: float, sent: list[int]) -> None:
    with socket.create_connection((host, port)) as sock:
        sock.settimeout(5)
        drained = threading.Thread(target=_drain, args=(sock,), daemon=True)
        drained.start()
        n = 0
        while time.monotonic() < until:
            sock.sendall(BATCH)
            n += 200
        sent.append(n)
        sock.shutdown(socket.SHUT_WR)
        drained.join(10)


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(1 << 16):
            pass
    except OSError:
        pass


@needs_free_threading
def test_gc_pauses_stay_short_under_a_404_flood(server: ServerFactory) -> None:
    srv = server("hazards", "--threads", "1")
    with srv.client() as c:
        assert c.get(f"/gc/start/{FLOOD_SECONDS}").json() == {"started": True}
        until = time.monotonic() + FLOOD_SECONDS
        sent: list[int] = []
        floods = [threading.Thread(target=_flood, args=(srv.host, srv.port, until, sent)) for _ in range(8)]
        for t in floods:
            t.start()
        for t in floods:
            t.join(30)
        time.sleep(0.3)
        pauses = c.get("/gc/pauses").json()
    assert sum(sent) > 10_000, f"the flood was too small to prove anything: {sent}"
    assert pauses["count"] >= 20, pauses
    assert pauses["max"] < FLOOD_SECONDS / 2, f"gc.collect() stalled behind Rust-only requests: {pauses}"

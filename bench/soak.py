"""Soak: many mixed requests against one fastcore server process; its memory and descriptors
must come back.

    python bench/soak.py --python .venv-313t/bin/python --requests 1000000
    python bench/soak.py --python .venv-gil/bin/python --requests 20000      # CI's short run

The server (`fastcore run bench.apps.soak_app:app`) gets rounds of wrk load with
bench/wrk/soak_mix.lua (sync and async JSON, uploads, streams, background tasks, 404/418/422
and a logged 500 in every 20 requests) and, between rounds, raw-socket clients that leave
mid-response (a 4 MiB stream read 64 KiB then closed, half of them with a reset), mid-upload
and right after sending. After a warm-up (`--warmup` requests) the server's RSS and open
descriptors (/proc/PID/status, /proc/PID/fd) are sampled with no client connected; at the end,
again. It fails (exit 1) if RSS grew by 10% or more, if the descriptors do not come back to
the baseline, if any status outside the mix's came back, or if wrk saw socket errors.
Standard library only; needs wrk.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LUA = REPO / "bench" / "wrk" / "soak_mix.lua"
EXPECTED = {200, 404, 418, 422, 500}
SERVING = re.compile(r"fastcore serving http://(\S+):(\d+) ")


def describe(python: str) -> str:
    code = ("import sys; gil = getattr(sys, '_is_gil_enabled', lambda: True)(); "
            "print(sys.version.split()[0], 'GIL' if gil else 'free-threaded')")
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def settle(pid: int, at_most: int | None = None, timeout: float = 20.0) -> int:
    """The descriptor count once it stops changing (or drops to `at_most`)."""
    deadline = time.monotonic() + timeout
    last, stable_since = fds(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = fds(pid)
        if at_most is not None and now <= at_most:
            return now
        if now != last:
            last, stable_since = now, time.monotonic()
        elif at_most is None and time.monotonic() - stable_since >= 1.5:
            return now
    return fds(pid)


def start_server(python: str, threads: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    argv = [python, "-m", "fastcore", "run", "bench.apps.soak_app:app", "--host", "127.0.0.1", "--port", "0",
            "--threads", str(threads), "--log-level", "info"]
    log = open(log_path, "wb")
    proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
        m = SERVING.search(log_path.read_text(errors="replace"))
        if m:
            return proc, m.group(1), int(m.group(2))
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def wrk_round(host: str, port: int, seconds: int, connections: int, threads: int) -> tuple[int, dict[int, int], list[int]]:
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
                          "-s", str(LUA), f"http://{host}:{port}"], capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    statuses = {int(s): int(n) for s, n in re.findall(r"soak-status (\d+) (\d+)", out)}
    errors = [int(x) for x in re.search(r"soak-errors (\d+) (\d+) (\d+) (\d+) (\d+)", out).groups()]
    return total, statuses, errors


def rude_clients(host: str, port: int, n: int) -> int:
    """Clients that leave mid-response, mid-upload, or right after asking. Returns how many."""
    for i in range(n):
        sock = socket.create_connection((host, port), timeout=10)
        try:
            kind = i % 4
            if kind in (0, 1):  # a 4 MiB stream, 64 KiB of it read
                sock.sendall(b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n")
                got = 0
                while got < 65536:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    got += len(chunk)
                if kind == 1:  # leave with a reset, not a FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            elif kind == 2:  # half an upload
                sock.sendall(b"POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n" + b"u" * 30000)
            else:  # asks for a stream and goes at once
                sock.sendall(b"GET /stream/1000 HTTP/1.1\r\nHost: soak\r\n\r\n")
        finally:
            sock.close()
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="the interpreter that serves (default: this one)")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=None, help="requests before the baseline (default: 10%%, at most 50k)")
    parser.add_argument("--threads", type=int, default=2, help="server worker threads")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--round", type=int, default=10, help="seconds per wrk round")
    parser.add_argument("--max-growth", type=float, default=0.10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("soak: wrk not found (bench/provision.sh installs it)")
    warmup = args.warmup if args.warmup is not None else min(args.requests // 10, 50_000)

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        log_path = Path(tmp) / "server.log"
        proc, host, port = start_server(args.python, args.threads, log_path)
        failures: list[str] = []
        statuses: dict[int, int] = {}
        errors = [0, 0, 0, 0, 0]
        done = 0
        started = time.monotonic()
        baseline = None
        trail: list[int] = []  # RSS after each measured round (under load), to tell a plateau from a leak
        try:
            # Short rounds until the warm-up count, then the measured rounds.
            measured_from = 0
            while baseline is None or done - measured_from < args.requests - warmup:
                if baseline is None and done >= warmup:
                    base_fds = settle(proc.pid)
                    baseline = (rss_kib(proc.pid), base_fds)
                    measured_from = done
                    print(f"soak: baseline after {done} requests: RSS {baseline[0] / 1024:.1f} MiB, {base_fds} fds",
                          flush=True)
                left = args.requests - warmup - (done - measured_from)
                # Rounds sized from the rate so far, so the run ends near the count asked for.
                rate = done / (time.monotonic() - started) if done else 5000
                target = warmup - done if baseline is None else left
                seconds = 1 if not done else max(1, min(args.round, int(target / max(rate, 1)) + 1))
                n, st, err = wrk_round(host, port, seconds, args.connections, 2)
                done += n + rude_clients(host, port, 40)
                if baseline is not None:
                    trail.append(rss_kib(proc.pid))
                for s, k in st.items():
                    statuses[s] = statuses.get(s, 0) + k
                errors = [a + b for a, b in zip(errors, err)]
            elapsed = time.monotonic() - started
            end_fds = settle(proc.pid, at_most=baseline[1])
            end_rss = rss_kib(proc.pid)
            growth = (end_rss - baseline[0]) / baseline[0]
            print(f"soak: {done} requests (warm-up included) in {elapsed:.0f} s ({done / elapsed:.0f}/s) on {describe(args.python)}, "
                  f"{args.threads} worker threads")
            print(f"soak: statuses {dict(sorted(statuses.items()))}; wrk socket errors "
                  f"connect/read/write/timeout {errors[0]}/{errors[1]}/{errors[2]}/{errors[4]}")
            print(f"soak: RSS {baseline[0] / 1024:.1f} -> {end_rss / 1024:.1f} MiB ({growth:+.1%}); "
                  f"fds {baseline[1]} -> {end_fds}")
            print("soak: RSS after each round under load (MiB): " + " ".join(f"{k / 1024:.1f}" for k in trail))
            if unexpected := set(statuses) - EXPECTED:
                failures.append(f"unexpected statuses {sorted(unexpected)}")
            if errors[0] or errors[1] or errors[2] or errors[4]:
                failures.append(f"wrk saw socket errors {errors}")
            if growth >= args.max_growth:
                failures.append(f"RSS grew {growth:.1%} (limit {args.max_growth:.0%})")
            if end_fds > baseline[1]:
                failures.append(f"{end_fds - baseline[1]} descriptors not given back")
            if proc.poll() is not None:
                failures.append(f"the server died with {proc.returncode}")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    code = proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = -9
                if code != 0:
                    failures.append(f"the server exited with {code} after SIGTERM")
            log = log_path.read_text(errors="replace")
        for line in log.splitlines():
            if "panicked" in line or "Fatal" in line:
                failures.append(f"server log: {line}")
        print(f"soak: server log {len(log) // 1024} KiB, {log.count('RuntimeError: soak: an expected failure')} logged 500s")
    for f in failures:
        print(f"soak: FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

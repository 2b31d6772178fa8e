"""Load generation: wrk's command line, running a load generator pinned to the client CPU with
the CPU time it used, and parsing wrk's output."""
from __future__ import annotations

import os
import re
import subprocess

from .config import CLIENT_CPUS
from .scenarios import Scenario


def to_ms(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    if not m:
        raise ValueError(f"bad wrk latency {v!r}")
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(text: str) -> dict:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not rps:
        raise ValueError(f"could not parse wrk output:\n{text}")
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    total = re.search(r"^\s+(\d+) requests in", text, re.M)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": to_ms(lat["50"]), "p99_ms": to_ms(lat["99"]),
        "requests": int(total.group(1)) if total else 0,
        "errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errs.groups()))) if errs else {},
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def run_pinned(argv: list[str], cpus: str = CLIENT_CPUS) -> tuple[str, float, int]:
    """Runs a command pinned to `cpus`, returns (output, CPU seconds it used, exit code). The CPU
    time comes from wait4's rusage, so it covers exactly this process."""
    p = subprocess.Popen(["taskset", "-c", cpus, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks = []
    while True:
        b = p.stdout.read(65536)
        if not b:
            break
        chunks.append(b)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return b"".join(chunks).decode(errors="replace"), ru.ru_utime + ru.ru_stime, p.returncode


def wrk_argv(port: int, sc: Scenario, seconds: float, conns: int | None = None, path: str | None = None,
             timeout: float = 2.0) -> list[str]:
    """wrk's command line. `timeout` is how long a request may wait before wrk counts it as failed
    (wrk's own default, 2 s, for measurements; the smoke run allows more, see `Suite.wrk_timeout`)."""
    return ["wrk", "-t1", f"-c{conns or sc.conns}", f"-d{seconds:g}s", f"--timeout={timeout:g}s", "--latency",
            *sc.wrk_args, f"http://127.0.0.1:{port}{path or sc.path}"]

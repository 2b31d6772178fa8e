"""Processes the suite starts (Proc: its own session, pinned, logged) and what /proc says about
them and about the CPUs: free ports, process trees, RSS, CPU ticks."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

from .config import APPS


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768+), so load generators' client sockets
    cannot collide with it."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def tree_pids(root: int) -> list[int]:
    """root and all its descendants (Granian and Robyn run workers in child processes)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_kb(root: int, key: str) -> int:
    """Sum of VmHWM (peak) or VmRSS over the process tree, in KiB."""
    return sum(status_kb(p, key) for p in tree_pids(root))


def tree_ticks(root: int) -> int:
    total = 0
    for p in tree_pids(root):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime + stime
        except OSError:
            pass
    return total


def thread_ticks(pid: int, name: str = "fastcore-worker") -> list[int]:
    """CPU ticks of each thread of `pid` called `name` (fastcore's worker threads), in thread order."""
    out = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda p: int(p.name)):
        try:
            if (task / "comm").read_text().strip() == name:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                out.append(int(fields[11]) + int(fields[12]))
        except OSError:
            pass
    return out


def cpu_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of all CPUs, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = f
    return user + nice + system, steal, sum(f)


def busy_pct(seconds: float = 1.0) -> float:
    """How busy the CPUs are with nothing of ours running (the pre-run load check)."""
    b0, s0, t0 = cpu_ticks()
    time.sleep(seconds)
    b1, s1, t1 = cpu_ticks()
    return 100.0 * ((b1 - b0) + (s1 - s0)) / max(1, t1 - t0)


class Proc:
    """A process we started in its own session, so stopping it stops its children too."""

    def __init__(self, argv: list[str], cpus: str, log_path: Path, cwd: Path = APPS,
                 env: dict[str, str] | None = None) -> None:
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.log_path = log_path
        self.logf = open(log_path, "wb")
        # taskset execs the command, so self.pid is the server itself.
        self.p = subprocess.Popen(["taskset", "-c", cpus, *argv], cwd=cwd, env=full_env, stdout=self.logf,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.p.pid

    def alive(self) -> bool:
        return self.p.poll() is None

    def stop(self) -> None:
        # SIGTERM if it still runs, then SIGKILL in any case: children (Granian/Robyn workers) may
        # outlive a killed parent, so the whole group ends.
        for sig in (signal.SIGTERM, signal.SIGKILL) if self.alive() else (signal.SIGKILL,):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.logf.close()

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

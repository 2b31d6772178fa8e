"""One run of the suite (Suite): the results.json document and its bookkeeping (save, notes,
failures, --merge), the machine's and the servers' metadata, and the fan-out upstream."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

from .config import BASELINE, CLIENT_CPUS, ROOT, SERVER_CPUS, log
from .procs import Proc, busy_pct, free_port
from .scenarios import SCENARIO_BY_NAME, SCENARIOS
from .servers import SERVER_BY_NAME, ServerDef, request, use_upstream


class Suite:
    """One run: the arguments, the results document (saved after every step), the upstream."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out)
        self.raw = self.out / "raw"
        self.raw.mkdir(parents=True, exist_ok=True)
        self.results_path = self.out / "results.json"
        self.results: dict = {"meta": {}, "servers": {}, "scenarios": {}, "checks": {}, "runs": [],
                              "sweep": {}, "scaling": {}, "memory": {}, "notes": [], "failures": []}
        self.servers = [SERVER_BY_NAME[n] for n in args.servers]
        self.scenarios = [SCENARIO_BY_NAME[n] for n in args.scenarios]
        self.upstream: Proc | None = None
        self.failed_now: list[str] = []
        # The smoke run judges answers, not speed, and may run on a loaded CI machine: an answer
        # that comes late there is not a failure. Measurements keep wrk's 2 s.
        self.wrk_timeout = 30.0 if args.quick else 2.0
        # --merge: read the previous results now, before anything saves over them.
        self.previous = json.loads(self.results_path.read_text()) \
            if args.merge and self.results_path.exists() else None

    # bookkeeping
    def save(self) -> None:
        tmp = self.results_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.results, indent=1))
        tmp.replace(self.results_path)

    def note(self, msg: str) -> None:
        log(msg)
        self.results["notes"].append(msg)

    def fail(self, msg: str) -> None:
        """A wrong answer: recorded, printed, and makes --quick exit non-zero."""
        log(f"FAIL: {msg}")
        self.results["failures"].append(msg)
        self.failed_now.append(msg)

    def load_errors(self, what: str, errors: dict[str, int] | int) -> None:
        """Socket errors or timeouts under load: requests that never got an answer. They fail the
        smoke run (--quick); a full run keeps its numbers and carries a warning in the report."""
        n = sum(errors.values()) if isinstance(errors, dict) else errors
        if not n:
            return
        msg = f"{what}: {n} requests failed under load (socket errors or timeouts: {errors})"
        if self.args.quick:
            self.fail(msg)
        else:
            self.note(f"WARNING: {msg}")

    def available(self) -> list[ServerDef]:
        return [s for s in self.servers if self.results["servers"][s.name]["available"]]

    def meta(self) -> None:
        def ver(py: Path | None, pkgs: tuple[str, ...]) -> dict:
            if py is None or not py.exists():
                return {}
            code = ("import json, platform, sys, importlib.metadata as m\n"
                    "v = {'python': platform.python_version() + ('t' if not getattr(sys, '_is_gil_enabled', lambda: True)() else '')}\n"
                    f"for p in {list(pkgs)!r}:\n"
                    "    try: v[p] = m.version(p)\n"
                    "    except Exception: pass\n"
                    "print(json.dumps(v))")
            try:
                return json.loads(subprocess.run([str(py), "-c", code], capture_output=True, text=True,
                                                 timeout=60).stdout)
            except (ValueError, subprocess.SubprocessError):
                return {}

        cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                    if l.startswith("model name")), "?")
        git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "python"],
                               capture_output=True, text=True).stdout.strip()
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip() \
            if shutil.which("rustc") else "?"
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        self.results["meta"] = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": (git.stdout.strip() or "none") + (" (src/ or python/ modified)" if dirty else ""),
            "cpus": os.cpu_count(), "cpu_model": cpu, "kernel": platform.release(),
            "quick": self.args.quick, "duration": self.args.duration, "warmup": self.args.warmup,
            "reps": self.args.reps, "rustc": rustc,
            "wrk": (wrk.stdout + wrk.stderr).splitlines()[0] if (wrk.stdout + wrk.stderr) else "?",
            "pinning": f"servers on CPU {SERVER_CPUS}, load generators and the fan-out upstream on CPU {CLIENT_CPUS}",
        }
        for sd in self.servers:
            why = sd.unavailable()
            self.results["servers"][sd.name] = {
                "label": sd.label, "kind": sd.kind, "config": sd.config, "available": why is None,
                "unavailable": why, "versions": ver(sd.python, sd.packages) if why is None else {},
            }
            if why:
                self.note(f"{sd.name} skipped: {why}")
        for sc in SCENARIOS:
            self.results["scenarios"][sc.name] = {"title": sc.title, "method": sc.method, "path": sc.path,
                                                  "conns": sc.conns, "expect_len": len(sc.expect),
                                                  "expect_status": sc.status,
                                                  "expect_sha256": hashlib.sha256(sc.expect).hexdigest()[:12]}
        self.save()

    def load_check(self) -> None:
        busy = busy_pct()
        self.results["meta"]["busy_before_pct"] = round(busy, 1)
        if busy > 10:
            self.note(f"WARNING: the CPUs were {busy:.0f}% busy before the run; other load makes these numbers "
                      "unreliable (ratios suffer less than absolute numbers, but trust neither).")

    def start_upstream(self) -> None:
        port = free_port()
        self.upstream = Proc([str(BASELINE), "--port", str(port)], CLIENT_CPUS, self.raw / "upstream.log", cwd=ROOT)
        for _ in range(100):
            try:
                if request(port, "GET", "/delay", timeout=1)[0] == 200:
                    use_upstream(f"http://127.0.0.1:{port}/delay")
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the upstream (hyper-baseline) did not start")

    def merge_previous(self) -> None:
        """--merge: keep the previous results.json and replace only what this run measures (the
        matrix runs of the selected servers x scenarios, and the other selected parts)."""
        if self.previous is None:
            return
        old, new = self.previous, self.results
        servers, scenarios = {s.name for s in self.servers}, {s.name for s in self.scenarios}
        if "matrix" in self.args.parts:
            old["runs"] = [r for r in old["runs"] if not (r["server"] in servers and r["scenario"] in scenarios)]
        for name in servers:
            old["servers"][name] = new["servers"][name]
        old["scenarios"] = new["scenarios"]
        old.setdefault("merged", []).append({
            "date": new["meta"]["date"], "commit": new["meta"]["commit"], "parts": self.args.parts,
            "servers": sorted(servers), "scenarios": sorted(scenarios),
            "busy_before_pct": new["meta"].get("busy_before_pct")})
        old["notes"] += new["notes"]
        self.results = old

    def run(self, parts: dict[str, Callable[[Suite], None]]) -> int:
        self.meta()
        self.load_check()
        if self.args.merge:
            self.merge_previous()
        self.start_upstream()
        try:
            for part in self.args.parts:
                parts[part](self)
        finally:
            if self.upstream:
                self.upstream.stop()
            self.save()
        if self.failed_now:
            log(f"{len(self.failed_now)} failure(s):")
            for f in self.failed_now:
                log(f"  - {f.splitlines()[0]}")
            return 1
        return 0

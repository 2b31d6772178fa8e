"""Static files: fastcore's StaticFiles mount against nginx and Granian's static serving, in the
same run, on the same files (1 KB and 100 KB).

    bash bench/static.sh                 # DURATION=10 REPS=3
    QUICK=1 bash bench/static.sh         # correctness only (CI): every server, every file

Each server gets one worker on CPU 0 (fastcore: one worker thread on 3.13t; nginx:
`worker_processes 1`, access log off; Granian: one worker, one runtime thread), wrk runs on
CPU 1 (`-t1 -c64`). Before any timing each server must return the file's exact bytes, and
fastcore also its ETag-driven 304 and a 206 for a Range. Repetitions alternate the servers; the
median req/s per server and file is reported with the ratio fastcore / peer, written to
bench/results/static.md.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "bench" / "apps"
VENVS = ROOT / "bench" / ".venvs"
QUICK = os.environ.get("QUICK") == "1"
DURATION = int(os.environ.get("DURATION", "10"))
REPS = int(os.environ.get("REPS", "3"))
CONNS = int(os.environ.get("CONNS", "64"))
PYTHON = os.environ.get("PYTHON", str(ROOT / ".venv-313t" / "bin" / "python"))
SIZES = {"1kb.bin": 1024, "100kb.bin": 100 * 1024}
PIN_SERVER = ["taskset", "-c", "0"] if (os.cpu_count() or 1) >= 2 else []
PIN_CLIENT = ["taskset", "-c", "1"] if (os.cpu_count() or 1) >= 2 else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"[static] {what} exited with {proc.returncode}: {err[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"[static] {what} did not listen on {port}")


def nginx_cmd(work: Path, files: Path, port: int) -> list[str]:
    conf = work / "nginx.conf"
    conf.write_text(f"""daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        location /static/ {{ alias {files}/; }}
    }}
}}
""")
    (work / "tmp").mkdir(exist_ok=True)
    return ["nginx", "-c", str(conf), "-p", str(work)]


def servers(work: Path, files: Path) -> dict[str, object]:
    found: dict[str, object] = {
        "fastcore": lambda port: [PYTHON, "-m", "fastcore", "run", "static_app:app", "--host", "127.0.0.1",
                                  "--port", str(port), "--threads", "1", "--log-level", "warning"],
    }
    if shutil.which("nginx"):
        found["nginx"] = lambda port: nginx_cmd(work, files, port)
    else:
        print("[static] nginx not installed (ci/services.sh installs it): skipped", file=sys.stderr)
    for venv in ("peers-313t", "peers-311"):
        python = VENVS / venv / "bin" / "python"
        if (VENVS / venv / "bin" / "granian").exists():
            # `python -m granian`: the venv may have been moved, which breaks its scripts' shebangs.
            found["granian"] = lambda port, py=python: [
                str(py), "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--runtime-threads", "1", "--runtime-mode", "st", "--http", "1", "--no-ws", "--log-level", "warning",
                "--working-dir", str(APPS), "--static-path-route", "/static", "--static-path-mount", str(files),
                "rsgi_app:app"]
            break
    else:
        print("[static] Granian not provisioned (bash bench/provision.sh): skipped", file=sys.stderr)
    return found


def stop(proc: subprocess.Popen) -> None:
    """Ends the server's process group (nginx's workers too)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def check(name: str, base: str, files: Path) -> None:
    for fname in SIZES:
        data = (files / fname).read_bytes()
        status, headers, body = get(f"{base}/static/{fname}")
        assert status == 200 and body == data, f"{name} {fname}: {status}, {len(body)} bytes"
        if name == "fastcore":
            etag = headers["etag"]
            assert get(f"{base}/static/{fname}", {"If-None-Match": etag})[0] == 304, f"{name}: no 304"
            status, headers, body = get(f"{base}/static/{fname}", {"Range": "bytes=10-19"})
            assert status == 206 and body == data[10:20], f"{name}: range gave {status}"
            assert get(f"{base}/static/../static_app.py")[0] == 404
    print(f"[static] {name}: correct", file=sys.stderr)


def wrk(url: str) -> float:
    out = subprocess.run([*PIN_CLIENT, "wrk", "-t1", f"-c{CONNS}", f"-d{DURATION}s", url],
                         capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"wrk saw errors at {url}:\n{out}"
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="fastcore-static-bench-"))
    work.chmod(0o755)  # nginx's workers run as another user when started by root
    files = work / "files"
    files.mkdir()
    for fname, size in SIZES.items():
        (files / fname).write_bytes(hashlib.shake_256(fname.encode()).digest(size))
    env = {**os.environ, "STATIC_DIR": str(files), "PYTHONPATH": str(APPS)}
    results: dict[tuple[str, str], list[float]] = {}
    try:
        defs = servers(work, files)
        for rep in range(1 if QUICK else REPS):
            for name, cmd in defs.items():
                port = free_port()
                proc = subprocess.Popen([*PIN_SERVER, *cmd(port)], cwd=APPS, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
                try:
                    wait_port(port, proc, name)
                    base = f"http://127.0.0.1:{port}"
                    if rep == 0:
                        check(name, base, files)
                    if QUICK:
                        continue
                    for fname in SIZES:
                        wrk(f"{base}/static/{fname}")  # warm-up, not counted
                        results.setdefault((name, fname), []).append(wrk(f"{base}/static/{fname}"))
                finally:
                    stop(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if QUICK:
        print("[static] QUICK=1: correctness checked, nothing timed", file=sys.stderr)
        return
    report(results, defs)


def report(results: dict[tuple[str, str], list[float]], defs: dict[str, object]) -> None:
    lines = [f"# Static files (`bash bench/static.sh`, {time.strftime('%Y-%m-%d')})", "",
             f"One worker per server on CPU 0, `wrk -t1 -c{CONNS} -d{DURATION}s` on CPU 1, "
             f"median of {REPS} alternating repetitions.", "",
             "| file | server | req/s (median) | runs | fastcore ÷ server |", "|---|---|---:|---|---:|"]
    for fname in SIZES:
        ours = statistics.median(results[("fastcore", fname)])
        for name in defs:
            runs = results[(name, fname)]
            med = statistics.median(runs)
            lines.append(f"| {fname} | {name} | {med:,.0f} | {', '.join(f'{r:,.0f}' for r in runs)} | "
                         f"{ours / med:.2f}x |")
    text = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results" / "static.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

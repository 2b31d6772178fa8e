"""`make wheels-test`: each wheel in dist/ installed as a user would, into a fresh venv, serving a request.

    python3 ci/wheels_test.py                # every wheel of this version in dist/
    python3 ci/wheels_test.py --pythons 311,313t

For each wheel of the version in Cargo.toml, with the interpreter its tag names:
  1. the wheel's contents: one extension, for that tag; `py.typed`, `_core.pyi`, the license,
     the CLI entry point, and the pydantic requirement with its environment markers;
  2. a fresh venv with the venv's own pip: what a plain `pip install <wheel>` resolves to must be
     wheels only (a dry run, so nothing is built), then `pip install --only-binary=:all: <wheel>`
     (also `<wheel>[nogil]` into a second venv on 3.11 and 3.13t), so a dependency without a
     wheel for the interpreter fails the test instead of starting a source build;
  3. from a directory outside the repository: `fastcore --version`, and `fastcore run` serving
     a small app, whose JSON answer, pydantic-validated POST and `server` header are checked; on
     3.13t, that the GIL stayed off after importing fastcore and pydantic.
Prints one line per install with the wheel's size, the install time and the pydantic it got.
Exits non-zero if any check fails. Uses only the standard library, so any python3 can run it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The tags `make wheels` builds, and the interpreter (as ci/wheels.sh finds it) for each.
TAGS = {"cp311-cp311": "311", "cp312-cp312": "312", "cp313-cp313": "313", "cp313-cp313t": "313t"}
# Which installs also try the documented `[nogil]` extra (the "done when").
NOGIL_TOO = {"311", "313t"}

APP = '''\
"""The app the wheel test serves."""
import sys

from pydantic import BaseModel

import fastcore

app = fastcore.FastCore()


class Item(BaseModel):
    name: str
    price: float


@app.get("/")
def hello():
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    return {"message": "Hello, World!", "version": fastcore.__version__, "gil": gil}


@app.post("/items", response_model=Item, status_code=201)
def create_item(item: Item):
    return item
'''


def version() -> str:
    with open(REPO / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


def interpreter(short: str) -> str | None:
    """The interpreter ci/wheels.sh builds this tag's wheel with (one place decides)."""
    return run_out(["bash", "ci/wheels.sh", "--interpreter", short]) or None


def run_out(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def check_contents(wheel: Path, tag: str, ver: str) -> list[str]:
    """What must be inside the wheel; returns the failures."""
    errors = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        exts = [n for n in names if re.fullmatch(r"fastcore/_core\..*\.so", n)]
        abi = tag.split("-")[1].replace("cp", "")  # 311, 313t
        if len(exts) != 1 or f"cpython-{abi}-" not in exts[0]:
            errors.append(f"expected one cpython-{abi} extension, found {exts}")
        for need in ("fastcore/py.typed", "fastcore/_core.pyi", "fastcore/__init__.py", "fastcore/cli.py"):
            if need not in names:
                errors.append(f"missing {need}")
        dist_info = f"fastcore-{ver}.dist-info"
        if not any(n.startswith(f"{dist_info}/licenses/") and n.endswith("LICENSE") for n in names):
            errors.append("no license file in dist-info/licenses/")
        meta = zf.read(f"{dist_info}/METADATA").decode()
        entry = zf.read(f"{dist_info}/entry_points.txt").decode()
    if not re.search(r"^fastcore\s*=\s*fastcore\.cli:main$", entry, re.M):
        errors.append("no `fastcore` console script")
    if f"\nVersion: {ver}\n" not in meta:
        errors.append(f"METADATA version is not {ver}")
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist: pydantic")]
    # maturin writes `python_version == '3.13'` as `python_full_version == '3.13.*'`.
    if not any("3.13" in r and "<2.12.4" in r for r in requires):
        errors.append(f"no 3.13 pin of pydantic in {requires}")
    for classifier in ("Programming Language :: Python :: Free Threading", "Typing :: Typed"):
        if f"Classifier: {classifier}" not in meta:
            errors.append(f"classifier missing: {classifier}")
    if "Description-Content-Type: text/markdown" not in meta:
        errors.append("description is not marked as Markdown")
    return errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"content-type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, dict(resp.headers), json.loads(resp.read())


def serve_and_check(venv: Path, workdir: Path, ver: str, free_threaded: bool) -> list[str]:
    errors = []
    fastcore_bin = venv / "bin" / "fastcore"
    out = subprocess.run([fastcore_bin, "--version"], cwd=workdir, capture_output=True, text=True)
    if out.stdout.strip() != f"fastcore {ver}":
        errors.append(f"`fastcore --version` printed {out.stdout.strip()!r} {out.stderr.strip()!r}")
    port = free_port()
    server = subprocess.Popen([fastcore_bin, "run", "app:app", "--port", str(port)],
                              cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, got = request(port, "GET", "/")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    output = server.communicate()[0]
                    return errors + [f"server did not answer: {output[-2000:]}"]
                time.sleep(0.1)
        if status != 200 or got.get("message") != "Hello, World!" or got.get("version") != ver:
            errors.append(f"GET / answered {status} {got}")
        if headers.get("server") != f"fastcore/{ver}":
            errors.append(f"server header {headers.get('server')!r}")
        if free_threaded and got.get("gil") is not False:
            errors.append("the GIL is on in the free-threaded build after importing fastcore and pydantic")
        status, _, got = request(port, "POST", "/items", {"name": "pen", "price": "1.5"})
        if status != 201 or got != {"name": "pen", "price": 1.5}:
            errors.append(f"POST /items answered {status} {got}")
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            errors.append("server did not stop on SIGTERM")
    return errors


def install_and_serve(py: str, wheel: Path, extra: str, ver: str, free_threaded: bool, root: Path) -> tuple[list[str], str]:
    """One fresh venv: install the wheel (with `extra`), then serve. Returns failures and a summary."""
    venv = root / f"venv-{wheel.name.split('-')[2]}{extra or ''}"
    subprocess.run([py, "-m", "venv", venv], check=True)
    # What a plain `pip install` (no --only-binary) would pick must be wheels only: the resolver
    # takes the newest allowed release whether or not it has a wheel for this interpreter, and
    # --only-binary alone would hide that by backtracking to an older one.
    report = venv / "plain-resolution.json"
    plain = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check",
                            "--dry-run", "--quiet", "--report", report, f"{wheel}{extra}"], capture_output=True, text=True)
    if plain.returncode != 0:
        return [f"plain pip resolution failed:\n{plain.stderr[-3000:]}"], "plain resolution failed"
    picked = [i["download_info"]["url"] for i in json.loads(report.read_text())["install"]]
    sources = [u.rsplit("/", 1)[-1] for u in picked if not u.endswith(".whl")]
    if sources:
        return [f"a plain pip install would build from source: {sources}"], "plain resolution picks sdists"
    start = time.monotonic()
    pip = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check",
                          "--only-binary=:all:", f"{wheel}{extra}"], capture_output=True, text=True)
    took = time.monotonic() - start
    if pip.returncode != 0:
        return [f"pip install failed:\n{pip.stdout[-1500:]}{pip.stderr[-3000:]}"], f"install failed after {took:.1f} s"
    pydantic = run_out([str(venv / "bin" / "python"), "-c", "import pydantic; print(pydantic.VERSION)"])
    pip_version = run_out([str(venv / "bin" / "python"), "-m", "pip", "--version"]).split()[1]
    workdir = root / "app"
    workdir.mkdir(exist_ok=True)
    (workdir / "app.py").write_text(APP)
    errors = serve_and_check(venv, workdir, ver, free_threaded)
    return errors, f"installed in {took:.1f} s with pip {pip_version}, pydantic {pydantic}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    parser.add_argument("--pythons", default="311,312,313,313t",
                        help="comma-separated: which of 311,312,313,313t to test (default: all)")
    parser.add_argument("--strict", action="store_true", help="fail when a wheel or interpreter is missing")
    args = parser.parse_args()
    ver = version()
    wanted = set(args.pythons.split(","))
    failures = 0
    results = []
    for tag, short in TAGS.items():
        if short not in wanted:
            continue
        wheels = sorted(args.dist.glob(f"fastcore-{ver}-{tag}-*.whl"), key=os.path.getmtime)
        py = interpreter(short)
        if not wheels or not py:
            what = "no wheel" if not wheels else "no interpreter"
            print(f"SKIP {tag}: {what} here", flush=True)
            failures += args.strict
            continue
        wheel = wheels[-1]
        size = wheel.stat().st_size / 1e6
        errors = check_contents(wheel, tag, ver)
        with tempfile.TemporaryDirectory(prefix="fastcore-wheel-") as tmp:
            for extra in ["", "[nogil]"] if short in NOGIL_TOO else [""]:
                errs, summary = install_and_serve(py, wheel, extra, ver, short == "313t", Path(tmp))
                errs = errors + errs
                errors = []  # contents reported once
                status = "FAIL" if errs else "ok"
                line = f"{status:4} {wheel.name}{extra} ({size:.2f} MB): {summary}"
                print(line, flush=True)
                for e in errs:
                    print(f"     - {e}", flush=True)
                failures += bool(errs)
                results.append(line)
    print(f"wheel test: {len(results)} installs, {failures} failed", flush=True)
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())

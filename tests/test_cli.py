"""`python -m fastcore run MODULE:ATTRIBUTE` (python/fastcore/cli.py, python/fastcore/__main__.py):
arguments, that --host, --port and --log-level take effect, and the errors a user sees."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import REPO, ServerFactory, fastcore_argv, free_port, refused


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fastcore", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("target", ["bad", "tests.apps.routing", ":app", "tests.apps.routing:"])
def test_target_without_module_and_attribute(target: str) -> None:
    proc = run_cli("run", target, "--port", "0")
    assert proc.returncode != 0
    assert f"error: expected MODULE:ATTRIBUTE, got {target!r}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_module() -> None:
    proc = run_cli("run", "no_such_module_anywhere:app", "--port", "0")
    assert proc.returncode != 0
    assert "error: cannot import 'no_such_module_anywhere'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_module_with_a_failing_import_names_the_missing_module() -> None:
    proc = run_cli("run", "tests.apps.broken:app", "--port", "0")
    assert proc.returncode != 0
    assert "cannot import 'tests.apps.broken'" in proc.stderr
    assert "this_module_does_not_exist" in proc.stderr


def test_module_raising_at_import_fails_with_its_traceback() -> None:
    proc = run_cli("run", "tests.apps.raises:app", "--port", "0")
    assert proc.returncode != 0
    assert "RuntimeError: raises-at-import marker" in proc.stderr


def test_missing_attribute() -> None:
    proc = run_cli("run", "tests.apps.routing:nope", "--port", "0")
    assert proc.returncode != 0
    assert "error: module 'tests.apps.routing' has no attribute 'nope'" in proc.stderr


def test_attribute_that_is_not_an_app() -> None:
    proc = run_cli("run", "tests.apps.not_an_app:app", "--port", "0")
    assert proc.returncode != 0
    assert "fastcore serving" not in proc.stderr


def test_no_command_is_a_usage_error() -> None:
    proc = run_cli()
    assert proc.returncode == 2
    assert "usage: fastcore" in proc.stderr


def test_unknown_option_is_a_usage_error() -> None:
    proc = run_cli("run", "tests.apps.routing:app", "--no-such-flag")
    assert proc.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in proc.stderr


def test_bad_log_level_is_a_usage_error() -> None:
    proc = run_cli("run", "tests.apps.routing:app", "--log-level", "loud")
    assert proc.returncode == 2
    assert "--log-level" in proc.stderr


def test_run_help_lists_the_options() -> None:
    proc = run_cli("run", "--help")
    assert proc.returncode == 0
    for option in ("--host", "--port", "--workers", "--threads", "--log-level", "--access-log", "--drain-timeout"):
        assert option in proc.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "fastcore"
    assert script.exists()
    proc = subprocess.run([str(script), "run", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--access-log" in proc.stdout


def test_port_in_use_fails_clearly() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        proc = run_cli("run", "tests.apps.routing:app", "--port", str(port))
    assert proc.returncode != 0
    assert f"cannot bind 127.0.0.1:{port}" in proc.stderr


def test_second_server_on_a_busy_port_fails(server: ServerFactory, tmp_path: Path) -> None:
    first = server("routing", "--threads", "1")
    log_path = tmp_path / "second.log"
    with open(log_path, "wb") as log:
        second = subprocess.Popen(fastcore_argv("tests.apps.slow:app", "--threads", "1", port=first.port), cwd=REPO,
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while second.poll() is None and "fastcore serving" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.poll() not in (None, 0), f"the second server started:\n{log_path.read_text()}"
        assert f"cannot bind 127.0.0.1:{first.port}" in log_path.read_text()
    finally:
        if second.poll() is None:
            second.terminate()
            second.wait(15)


def test_host_and_port_are_used(server: ServerFactory) -> None:
    """--host and --port (python/fastcore/cli.py -> src/server/control.rs): neither is the default, and
    the server answers there and nowhere else."""
    host, port = "127.0.0.2", free_port("127.0.0.2")
    srv = server.launch(fastcore_argv("tests.apps.routing:app", "--threads", "1", host=host, port=port), port)
    assert f"fastcore serving http://{host}:{port} " in srv.log()
    assert (srv.host, srv.port) == (host, port)
    with srv.client() as c:
        assert c.get("/").json() == {"route": "root"}
    assert refused("127.0.0.1", port), "bound to 127.0.0.2 only, so 127.0.0.1 must be refused"


def test_ipv6_host(server: ServerFactory) -> None:
    """--host ::1 binds the IPv6 loopback only."""
    srv = server.launch(fastcore_argv("tests.apps.routing:app", "--threads", "1", host="::1"))
    assert srv.host == "::1" and srv.base_url == f"http://[::1]:{srv.port}"
    with srv.client() as c:
        assert c.get("/client").json()["host"] == "::1"
    assert refused("127.0.0.1", srv.port)


@pytest.mark.parametrize("args, shown", [
    (["--log-level", "warning"], {"warning"}),
    ([], {"warning", "info"}),
    (["--log-level", "debug"], {"warning", "info", "debug"}),
], ids=["warning", "default", "debug"])
def test_log_level_is_applied(server: ServerFactory, args: list[str], shown: set[str]) -> None:
    """--log-level (python/fastcore/cli.py): records below the level are not written, the
    server's own start-up line (INFO) included; the default is info."""
    port = free_port()
    srv = server.launch(fastcore_argv("tests.apps.slow:app", "--threads", "1", *args, port=port), port, ready_lines=0)
    m = uuid.uuid4().hex[:12]
    with srv.client() as c:
        assert c.get(f"/log/{m}").json() == {"logged": m}
    log = srv.wait_for_log(f"WARNING  tests.apps.slow: warning {m}")  # logged last, after info and debug
    written = {lvl for lvl in ("debug", "info", "warning") if f"{lvl.upper():<8} tests.apps.slow: {lvl} {m}" in log}
    assert written == shown, log
    assert ("fastcore serving" in log) == ("info" in shown), log


@pytest.mark.parametrize("flag,value", [("--threads", "0"), ("--threads", "-3"), ("--workers", "0"), ("--threads", "two")])
def test_thread_and_worker_counts_are_validated(flag: str, value: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "fastcore", "run", "tests.apps.routing:app", flag, value],
                          cwd=REPO, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert f"argument {flag}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_target_that_is_not_an_app_is_a_clear_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "fastcore", "run", "tests.apps.not_an_app:app"],
                          cwd=REPO, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "not a fastcore.FastCore app" in proc.stderr
    assert "Traceback" not in proc.stderr

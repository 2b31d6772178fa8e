"""The hand-kept stub python/fastcore/_core.pyi against the built extension (every src/
folder's mod.rs registers the names it checks), with mypy's stubtest.

mypy is installed into the GIL venv by ci/setup.sh; it does not build on 3.13t today, so
there the test is skipped."""
from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO


def test_stub_matches_extension() -> None:
    pytest.importorskip("mypy.stubtest")
    done = subprocess.run([sys.executable, "-m", "mypy.stubtest", "fastcore._core"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

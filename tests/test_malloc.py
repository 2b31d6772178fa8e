"""glibc malloc's thresholds, set when a server starts (src/server/malloc.rs): a block the size
of a large body, freed, stays with the process for the next request instead of being unmapped
(and page-faulted back in afresh); the setting follows --max-body/--ws-max-size, and is left
alone with --no-tune-malloc or when the environment sets glibc's thresholds itself. Each case is
a fresh server process (glibc's own thresholds adapt to the first large block freed), probed
from inside by tests/apps/malloc_probe.py."""
from __future__ import annotations

import platform

import httpx
import pytest

from .conftest import ServerFactory

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")

MIB = 1024 * 1024
BLOCK = 8 * MIB


def released(server: ServerFactory, *args: str) -> int:
    srv = server("malloc_probe", "--threads", "1", *args)
    r = httpx.get(f"{srv.base_url}/released/{BLOCK}", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["released"]


def test_a_freed_body_sized_block_stays_for_reuse(server: ServerFactory) -> None:
    # The defaults (16 MiB bodies and messages): an 8 MiB block comes from the heap and its
    # freeing leaves it there.
    assert released(server) < 2 * MIB


def test_without_tuning_glibc_unmaps_it(server: ServerFactory) -> None:
    assert released(server, "--no-tune-malloc") > BLOCK - 2 * MIB


def test_the_thresholds_follow_the_largest_body(server: ServerFactory) -> None:
    # Bodies and messages of at most 1 MiB: an 8 MiB block is above the mmap threshold.
    assert released(server, "--max-body", str(MIB), "--ws-max-size", str(MIB)) > BLOCK - 2 * MIB
    assert released(server, "--max-body", str(MIB), "--ws-max-size", str(12 * MIB)) < 2 * MIB


def test_the_environment_wins(server: ServerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", str(128 * 1024))
    assert released(server) > BLOCK - 2 * MIB
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=131072")
    assert released(server) > BLOCK - 2 * MIB

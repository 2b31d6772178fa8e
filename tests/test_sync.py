"""Lock, Semaphore and Queue under cancellation, and Semaphore limits (src/runtime/sync.rs,
src/runtime/stepper.rs): a cancellation that lands after an awaited primitive completed must not lose
what it completed with (a held lock, a queue item)."""
from __future__ import annotations

import pytest

from .conftest import ServerFactory


@pytest.fixture
def hazards(server: ServerFactory):
    return server("hazards", "--threads", "1")


def test_semaphore_values_beyond_tokio_limits_are_refused(hazards) -> None:
    with hazards.client() as c:
        body = c.get("/semaphore/limits").json()
    top = 2**61 - 1
    assert body[str(2**61)] == f"ValueError: Semaphore initial value must be between 0 and {top}, got {2**61}"
    assert body["-1"] == f"ValueError: Semaphore initial value must be between 0 and {top}, got -1"
    assert body[str(top)] == "ok"
    assert body["release_at_max"].startswith("ValueError: Semaphore released too many times")
    assert body["still_usable"] is True
    assert "panicked" not in hazards.log()


def test_a_cancel_after_the_handover_keeps_what_was_handed_over(hazards) -> None:
    with hazards.client() as c:
        body = c.get("/race/handover").json()
    assert body == {"lock_waiter": "CancelledError", "locked_at_end": False,
                    "item_delivered": ["item"], "item_left": 0}


def test_lock_stays_consistent_when_timeouts_race_its_handover(hazards) -> None:
    workers, rounds = 12, 150
    with hazards.client(timeout=60) as c:
        tally = c.get(f"/race/lock/{workers}/{rounds}").json()
    assert tally["finished"] + tally["timeouts"] == workers * rounds, tally
    assert tally["acquired"] == tally["released"], tally
    assert tally["overlaps"] == 0, tally
    assert tally["inside"] == 0, tally
    assert tally["free_at_end"] is True and tally["locked_at_end"] is False, tally
    assert tally["timeouts"] > 0 and tally["acquired"] > 0, f"the race was not exercised: {tally}"


def test_queue_items_survive_timeouts_racing_get(hazards) -> None:
    items = 3000
    with hazards.client(timeout=60) as c:
        body = c.get(f"/race/queue/{items}").json()
    assert body == {"received": items, "distinct": items, "left": 0}

"""Values built to break the JSON encoder, and handlers that return them (tests/test_json_hostile.py).

Every hostile object runs `poke()` from a hook the encoder might trigger (`__str__`, `__repr__`,
`__eq__`, `__hash__`, `__int__`, `__iter__`, `__del__`, `model_dump`...). A poke mutates the
object's `target` (a dict or list, usually one being encoded) with its `action`, then churns the
allocator so memory freed by the mutation is reused at once: a dangling pointer then reads
somebody else's object instead of the stale old one. Each object pokes at most `budget` times and
mutators only insert plain values, so encoding always terminates.
"""
from __future__ import annotations

import decimal
from typing import Any

import fastcore

app = fastcore.FastCore()

DICT_ACTIONS = ("clear", "pop", "replace", "insert", "rebuild")
LIST_ACTIONS = ("clear", "pop", "replace", "insert", "extend")

_churn: list[object] = []
mutations = 0  # how many times `mutate` ran, for tests that want to know they bit


def churn() -> None:
    _churn[:] = [bytes([0xFF]) * 120 for _ in range(60)]
    _churn.extend([[i, -i, i] for i in range(60)])
    _churn.extend({"x": i} for i in range(30))
    _churn.extend("".join(["é", str(i)] * 20) for i in range(30))


def mutate(target: dict | list, action: str) -> None:
    global mutations
    mutations += 1
    if isinstance(target, dict):
        if action == "clear":
            target.clear()
        elif action == "pop" and target:
            target.popitem()
        elif action == "replace":
            for k in list(target):
                target[k] = "".join(["replaced-", str(len(target))])
        elif action == "insert":
            target["".join(["inserted-", str(len(target))])] = [len(target)]
        elif action == "rebuild":
            target.clear()
            target.update(("".join(["r", str(i)]), i) for i in range(12))
    else:
        if action == "clear":
            target.clear()
        elif action == "pop" and target:
            target.pop(0)
        elif action == "replace":
            target[:] = ["".join(["replaced-", str(i)]) for i in range(len(target))]
        elif action == "insert":
            target.insert(0, "inserted")
        elif action == "extend":
            target.extend(range(8))
    churn()


class Hostile:
    """Mixin: `poke()` mutates `target` with `action`, `budget` times at most."""

    target: dict | list | None = None
    action = "clear"
    budget = 0
    pokes = 0

    def arm(self, target: dict | list, action: str = "clear", budget: int = 1) -> Any:
        self.target, self.action, self.budget = target, action, budget
        return self

    def poke(self) -> None:
        type(self).pokes += 1
        if self.target is not None and self.budget > 0:
            self.budget -= 1
            mutate(self.target, self.action)


class HInt(Hostile, int):
    """An int (key or value) whose text forms, conversion and hashing mutate the target."""

    def __str__(self) -> str:
        self.poke()
        return "hostile-int"

    __repr__ = __str__

    def __int__(self) -> int:
        self.poke()
        return int.__int__(self)

    def __eq__(self, other: object) -> bool:
        self.poke()
        return int.__eq__(self, other)

    def __hash__(self) -> int:
        self.poke()
        return int.__hash__(self)


class HFloat(Hostile, float):
    def __str__(self) -> str:
        self.poke()
        return "hostile-float"

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        self.poke()
        return float.__eq__(self, other)

    def __hash__(self) -> int:
        self.poke()
        return float.__hash__(self)


class HStr(Hostile, str):
    """As a key it is sent as its text; as a value the fallback calls `str()` on it."""

    def __str__(self) -> str:
        self.poke()
        return str.__str__(self)

    def __repr__(self) -> str:
        self.poke()
        return "hostile-str"

    def __eq__(self, other: object) -> bool:
        self.poke()
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        self.poke()
        return str.__hash__(self)


class HDecimal(Hostile, decimal.Decimal):
    """The fallback compares a Decimal with its integral value."""

    def __eq__(self, other: object) -> bool:
        self.poke()
        return decimal.Decimal.__eq__(self, other)

    __hash__ = decimal.Decimal.__hash__


class HSet(Hostile, set):
    """The fallback turns a set into a list by iterating it."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.poke()
        return set.__iter__(self)


class HModel(Hostile):
    """Looks like a pydantic model to the fallback; `model_dump` mutates, then answers."""

    model_fields: dict = {}

    def __init__(self, payload: object = "dumped") -> None:
        self.payload = payload

    def model_dump(self, mode: str = "python") -> object:
        self.poke()
        return self.payload


class HDel(Hostile, int):
    """A plain-looking int subclass that mutates its target when it is freed."""

    def __del__(self) -> None:
        self.poke()


# -- handlers: the crash of issue 15, reached through a real response -----------------------------

def int_key_payload(n: int) -> dict:
    """An int-subclass key whose `__str__` (if anyone calls it) empties the dict mid-encoding."""
    d: dict = {}
    d[HInt(n)] = "".join(["value-", str(n)] * 8)
    d["nested"] = {"n": n, "list": [n, n + 1]}
    for k in d:
        if isinstance(k, HInt):
            k.arm(d, "clear")
    return d


def float_key_payload(n: int) -> dict:
    d: dict = {}
    d[HFloat(n + 0.5)] = "".join(["value-", str(n)] * 8)
    d[HFloat(1e16 + n)] = {"n": n}
    for k in d:
        k.arm(d, "replace")
    return d


def fallback_payload(n: int) -> dict:
    """Values the fallback converts, each emptying or refilling the dict they sit in."""
    d: dict = {"first": "".join(["v", str(n)] * 8)}
    d["model"] = HModel({"n": n}).arm(d, "clear")
    d["set"] = HSet({n}).arm(d, "rebuild")
    d["last"] = [n]
    return d


@app.get("/int-key/{n}")
def int_key(n: int):
    return int_key_payload(n)


@app.get("/float-key/{n}")
def float_key(n: int):
    return float_key_payload(n)


@app.get("/fallback/{n}")
def fallback(n: int):
    return fallback_payload(n)

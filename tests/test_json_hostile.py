"""The JSON encoder against values that mutate what is being encoded (issue 15, defect 1).

The encoder walks dicts and lists with borrowed pointers. Anything that can run Python code in
the middle (a key's `__str__`, the fallback, a finalizer) may free what those pointers point to.
The dangerous cases run in a fresh interpreter (`run_case`): a crash there fails the test with
the exit code and the output instead of killing pytest. The hostile types are in
tests/apps/hostile_json.py, which the server test serves too.

Where the input is left alone, the output must say what `json.dumps` says, in the compact form
`JSONResponse` sends (`separators=(",", ":")`, `ensure_ascii=False`); where it is mutated
during encoding, the output is unspecified but must be valid JSON (or a clean exception), and the
process must survive.
"""
from __future__ import annotations

import decimal
import gc
import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .apps import hostile_json as h

REPO = Path(__file__).resolve().parent.parent


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def encode(value: object) -> bytes:
    from fastcore._core import encode_json

    return encode_json(value)


def run_case(case, *args: object, timeout: float = 90) -> str:
    """Runs `case(*args)` from this module in a fresh interpreter; returns what it printed."""
    code = (f"import tests.test_json_hostile as t; t.{case.__name__}(*{args!r}); "
            f"print({case.__name__ + ': ok'!r})")
    try:
        proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{case.__name__}{args!r} hung for {timeout:.0f}s\n--- stderr\n{exc.stderr!r}"[:4000])
    how = proc.returncode
    if how < 0:
        how = f"{how} ({signal.Signals(-how).name})"
    assert proc.returncode == 0, (f"{case.__name__}{args!r} exited with {how}\n--- stdout\n{proc.stdout[-4000:]}"
                                  f"\n--- stderr\n{proc.stderr[-4000:]}")
    assert proc.stdout.endswith(f"{case.__name__}: ok\n"), proc.stdout[-4000:]
    return proc.stdout


# -- numeric subclass keys: the reported crash ---------------------------------------------------

def case_numeric_keys(kind: str, action: str) -> None:
    """A key whose `__str__`/`__repr__` would mutate the dict: the encoder, like `json.dumps`, must
    render int and float subclass keys by their value and never call them."""
    for n in range(300):
        d: dict = {}
        key = h.HInt(n - 150) if kind == "int" else h.HFloat(n * 1.25 + (1e16 if n % 3 == 0 else 0))
        d[key] = "".join(["value-", str(n)] * 10) if n % 2 else {"inner": [n, "".join(["x", str(n)] * 5)]}
        d["after"] = [n, {"k": "v"}]
        key.arm(d, action, budget=5)
        expected = dumps(d)
        got = encode(d)
        assert got == expected, (n, got[:200], expected[:200])
        assert len(d) == 2 and key.budget == 5, f"the encoder ran the key's own methods: {d}"
    big = h.HInt(2**100 + 7)
    d = {big: 1, h.HInt(-(2**64)): 2}
    big.arm(d, action)
    assert encode(d) == dumps(d) == b'{"%d":1,"%d":2}' % (2**100 + 7, -(2**64))


@pytest.mark.parametrize("action", ["clear", "replace", "rebuild"])
@pytest.mark.parametrize("kind", ["int", "float"])
def test_numeric_subclass_key_methods_cannot_mutate_the_dict(kind: str, action: str) -> None:
    run_case(case_numeric_keys, kind, action)


def case_keys_with_hostile_dunders() -> None:
    """str/int/float subclass keys whose `__str__`, `__repr__`, `__eq__` and `__hash__` all mutate
    the dict: none of them is needed to write a key, so none may run."""
    for n in range(200):
        d: dict = {}
        keys = [h.HStr("".join(["ké", str(n)])), h.HInt(n), h.HFloat(n + 0.5), h.HStr("plain")]
        for i, k in enumerate(keys):
            d[k] = "".join(["v", str(i)] * 6)
        for k in keys:
            k.arm(d, h.DICT_ACTIONS[n % len(h.DICT_ACTIONS)], budget=3)
        before = (h.HStr.pokes, h.HInt.pokes, h.HFloat.pokes)
        expected = dumps(d)
        assert encode(d) == expected
        assert (h.HStr.pokes, h.HInt.pokes, h.HFloat.pokes) == before
        assert all(k.budget == 3 for k in keys)


def test_str_eq_hash_of_keys_are_never_called() -> None:
    run_case(case_keys_with_hostile_dunders)


# -- the fallback and finalizers mutate the container being walked ------------------------------

def hostile_values(n: int) -> list:
    return [
        h.HModel({"n": n}),
        h.HModel(["".join(["m", str(n)] * 4)]),
        h.HSet({n, n + 1}),
        h.HDecimal(n),
        h.HDecimal("2.5"),
        h.HInt(n),
        h.HStr("".join(["s", str(n)] * 4)),
    ]


def case_fallback_mutates_parent(container: str) -> None:
    actions = h.DICT_ACTIONS if container == "dict" else h.LIST_ACTIONS
    for n in range(100):
        for action in actions:
            for v in hostile_values(n):
                if container == "dict":
                    parent: dict | list = {"a": "".join(["a", str(n)] * 6), "v": v, "z": [n, {"k": n}]}
                    wrapper = {"p": parent, "sib": [1, 2]}
                else:
                    parent = ["".join(["a", str(n)] * 6), v, [n, {"k": n}], "tail"]
                    wrapper = {"p": parent, "sib": [1, 2]}
                v.arm(parent, action, budget=2)
                out = json.loads(encode(wrapper))
                assert out["sib"] == [1, 2] and isinstance(out["p"], type(parent)), out


@pytest.mark.parametrize("container", ["dict", "list"])
def test_fallback_conversion_mutating_its_parent(container: str) -> None:
    run_case(case_fallback_mutates_parent, container)


def case_finalizers() -> None:
    """Values whose `__del__` mutates containers being encoded: one converted value empties its
    dict, which frees the siblings, whose finalizers empty the parent list and refill another."""
    for n in range(300):
        outer: list = []
        inner: dict = {}
        other: dict = {"o": n}
        inner["first"] = h.HModel({"n": n}).arm(inner, "clear")
        for i in range(4):
            inner["".join(["del", str(i)])] = h.HDel(i).arm(outer if i % 2 else other, "clear" if i else "rebuild")
        outer.extend([inner, other, [h.HDel(n).arm(outer, "extend")], "end"])
        json.loads(encode({"outer": outer, "other": other}))
        del inner, outer, other


def test_finalizers_mutating_containers_mid_encoding() -> None:
    run_case(case_finalizers)


def case_big_int_value_and_gc() -> None:
    """A big int value, referenced only by its dict, while a collection is due. On 3.11, raising
    OverflowError to learn that an int does not fit in 64 bits (normalised at once inside an
    `except` block) allocates, which can run the collector, whose finalizer empties the dict and
    frees the int before it is written. (3.12+ only collect between bytecodes.)"""

    class Bomb:
        def __init__(self, d: dict) -> None:
            self.d, self.me = d, self

        def __del__(self) -> None:
            self.d.clear()
            reuse[:] = [str(i) * 9 for i in range(2000)]

    from fastcore._core import encode_json

    reuse: list = []
    cut_short = 0
    gc.set_threshold(1)
    for n in range(300):
        d = {"".join(["k", str(i)]): 2**100 + i * 7 + n for i in range(20)}
        try:
            raise KeyError("being handled")
        except KeyError:
            Bomb(d)
            out = json.loads(encode_json(d))
        cut_short += len(out) < 20
        for k, v in out.items():
            assert v == 2**100 + int(k[1:]) * 7 + n, (k, v)
    gc.set_threshold(700)
    print(f"{cut_short} of 300 encodings were cut short by the finalizer")


def test_big_int_value_freed_by_a_finalizer() -> None:
    run_case(case_big_int_value_and_gc)


# -- randomized ---------------------------------------------------------------------------------

class PlainInt(int):
    pass


class PlainFloat(float):
    pass


class PlainStr(str):
    pass


TEXTS = ["", "a", "key", "ключ", "日本語", "🚀", "quote\"back\\slash", "\n\t\x00\x1f", "\u2028", "é" * 40]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXTS) for _ in range(rng.randint(1, 3)))


def random_key(rng: random.Random, hostile: bool) -> object:
    r = rng.random()
    if hostile and r < 0.3:
        return rng.choice([h.HInt(rng.randint(-99, 99)), h.HFloat(rng.random() * 1e17), h.HStr(random_text(rng))])
    if r < 0.5:
        return random_text(rng)
    return rng.choice([rng.randint(-1000, 1000), rng.choice([2**63, -(2**63) - 1, 2**80]), rng.random() * 100,
                       1e16, 1e-7, -0.0, True, False, None, PlainInt(rng.randint(-9, 9)), PlainFloat(0.1),
                       PlainStr(random_text(rng))])


def random_scalar(rng: random.Random) -> object:
    return rng.choice([None, True, False, rng.randint(-(2**70), 2**70), rng.randint(-9, 9), rng.uniform(-1e9, 1e9),
                       rng.choice([0.1, 1e300, 5e-324, -0.0, 1e16]), random_text(rng), PlainInt(rng.randint(-9, 9)),
                       PlainFloat(2.5), PlainStr(random_text(rng))])


def random_value(rng: random.Random, hostile: bool, ancestors: list, depth: int = 0) -> object:
    r = rng.random()
    if depth < 5 and r < 0.35:
        return random_container(rng, hostile, ancestors, depth + 1)
    if hostile and r < 0.5:
        v = rng.choice([h.HModel(random_scalar(rng)), h.HSet({rng.randint(0, 9)}), h.HDecimal(rng.randint(0, 9)),
                        h.HInt(rng.randint(-9, 9)), h.HStr(random_text(rng)), h.HDel(rng.randint(0, 9))])
        target = rng.choice(ancestors)
        actions = h.DICT_ACTIONS if isinstance(target, dict) else h.LIST_ACTIONS
        return v.arm(target, rng.choice(actions), budget=rng.randint(1, 2))
    return random_scalar(rng)


def random_container(rng: random.Random, hostile: bool, ancestors: list, depth: int) -> object:
    kind = rng.choice(["dict", "dict", "list", "tuple"])
    c: dict | list = {} if kind == "dict" else []
    family = ancestors + [c]
    for _ in range(rng.randint(0, 6)):
        value = random_value(rng, hostile, family, depth)
        if isinstance(c, dict):
            key = random_key(rng, hostile)
            c[key] = value
            if isinstance(key, h.Hostile):
                key.arm(rng.choice(family), "clear")
        else:
            c.append(value)
    return tuple(c) if kind == "tuple" else c


def case_fuzz(seed: int, cases: int) -> None:
    rng = random.Random(seed)
    compared = mutated = 0
    for i in range(cases):
        hostile = rng.random() < 0.5
        root: dict = {}
        root["v"] = random_value(rng, hostile, [root])
        if hostile:
            before = h.mutations
            out = encode(root)
            mutated += h.mutations > before
            json.loads(out)  # whatever the mutations did, it is JSON
        else:
            expected = json.loads(dumps(root))
            got = json.loads(encode(root))
            assert got == expected, (seed, i, got, expected)
            compared += 1
    assert compared > cases // 3 and mutated > cases // 10, (compared, mutated)
    print(f"fuzz seed={seed}: {cases} cases, {compared} compared with json.dumps, {mutated} mutated mid-encoding")


@pytest.mark.parametrize("seed", [15, 1015])
def test_fuzz_nested_values_with_hostile_keys_and_values(seed: int) -> None:
    run_case(case_fuzz, seed, 4000)


# -- in-process: cases that cannot corrupt memory -------------------------------------------------

def test_non_finite_float_keys_are_refused_like_values() -> None:
    for key in (float("nan"), float("inf"), PlainFloat("-inf")):
        with pytest.raises(ValueError, match="Out of range float"):
            encode({key: 1})
    assert encode({1.5: 1, PlainFloat(-2.0): 2}) == dumps({1.5: 1, PlainFloat(-2.0): 2}) == b'{"1.5":1,"-2.0":2}'


def test_lone_surrogates_fail_cleanly() -> None:
    for value in ({"k": "\ud800"}, {"\udfff": 1}, ["a", "b\ud800c"], {PlainStr("\ud800"): 1}):
        with pytest.raises(UnicodeEncodeError):
            encode(value)


def test_numeric_subclass_keys_are_written_by_value() -> None:
    d = {PlainInt(3): "i", PlainFloat(1e16): "f", PlainFloat(-0.0): "z", 2**70: "big", decimal.Decimal(1): "d"}
    with pytest.raises(TypeError, match="keys must be"):
        encode(d)
    del d[decimal.Decimal(1)]
    assert encode(d) == dumps(d) == b'{"3":"i","1e+16":"f","-0.0":"z","1180591620717411303424":"big"}'


# -- through a server: a handler returning such a dict ---------------------------------------------

def test_server_sends_hostile_dicts_and_survives(server) -> None:
    srv = server("hostile_json", "--threads", "2")
    with srv.client() as c:
        for n in range(40):
            for path, build in (("int-key", h.int_key_payload), ("float-key", h.float_key_payload)):
                r = c.get(f"/{path}/{n}")
                assert r.status_code == 200, r.text
                assert r.content == dumps(build(n)), (path, n, r.content[:200])
            r = c.get(f"/fallback/{n}")
            assert r.status_code == 200, r.text
            assert isinstance(r.json(), dict) and r.json()["first"] == "".join(["v", str(n)] * 8)
    assert srv.running, srv.describe()

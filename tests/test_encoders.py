"""The JSON encoder: the Rust fast path for builtins and the `jsonable` fallback for the rest.

Most checks go through a real server; a few call the encoder in-process to pin error messages.
"""
from __future__ import annotations

import datetime
import json

import httpx
import pytest

from .apps import values as app


@pytest.mark.parametrize("name, expected", [
    ("datetime", "2024-01-02T03:04:05.678901"),
    ("datetime_tz", "2024-01-02T03:04:05+02:00"),
    ("date", "2024-02-29"),
    ("time", "13:14:15"),
    ("timedelta", 90.5),
    ("uuid", "12345678-1234-5678-1234-567812345678"),
    ("enum", "green"),
    ("intenum", 3),
    ("strenum", "tag-a"),
    ("str_subclass", "labelled"),
    ("decimal_int", 10),
    ("decimal_frac", 2.5),
    ("path", "/etc/hosts"),
    ("dataclass", {"x": 1, "y": 2.5, "label": "p"}),
    ("nested_dataclass", {"name": "tri", "points": [{"x": 0, "y": 0.0, "label": "p"},
                                                     {"x": 1, "y": 1.0, "label": "b"}], "color": "red"}),
    ("frozenset", ["only"]),
    ("ordered", {"z": 1, "a": 2}),
    ("in_containers", {"when": ["2020-05-17"], "ids": ["12345678-1234-5678-1234-567812345678"],
                       "c": {"k": "red"}}),
])
def test_fallback_values(values: httpx.Client, name: str, expected: object) -> None:
    r = values.get(f"/fallback/{name}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == expected


def test_set_becomes_a_list(values: httpx.Client) -> None:
    assert sorted(values.get("/fallback/set").json()) == [1, 2, 3]


def test_ordered_dict_keeps_its_order(values: httpx.Client) -> None:
    assert values.get("/fallback/ordered").content == b'{"z":1,"a":2}'


def test_intenum_is_sent_as_its_value_not_its_name(values: httpx.Client) -> None:
    assert values.get("/fallback/intenum").content == b"3"


def test_unicode_and_escapes_round_trip(values: httpx.Client) -> None:
    r = values.get("/plain/unicode")
    assert r.status_code == 200
    assert r.json() == app.PLAIN["unicode"]
    body = r.content.decode("utf-8")
    # Control characters must be escaped: raw ones are invalid JSON.
    assert not any(ord(ch) < 0x20 for ch in body)
    # Non-ASCII text is sent as UTF-8, not \u-escaped; the length header counts bytes.
    assert "日本語のテキスト" in body and "🚀" in body
    assert r.headers["content-length"] == str(len(r.content))


@pytest.mark.parametrize("text", ['"', "\\", "\\\"", "\n", "\x00", "\x1f", "\x7f", "\u2028", "é", "\U0001f600",
                                  "a\"b\\c\nd\u0001é", "</script>", "{\"nested\": \"json\"}"])
def test_single_strings_round_trip(text: str) -> None:
    from fastcore._core import encode_json

    encoded = encode_json({"k": text, text: "as key"})
    assert json.loads(encoded) == {"k": text, text: "as key"}


def test_encoder_matches_json_dumps_for_builtins() -> None:
    from fastcore._core import encode_json

    for name, value in app.PLAIN.items():
        assert json.loads(encode_json(value)) == json.loads(json.dumps(value)), name


def test_floats_are_exact(values: httpx.Client) -> None:
    got = values.get("/plain/floats").json()
    assert got == app.PLAIN["floats"]
    assert [float.hex(x) for x in got] == [float.hex(x) for x in app.PLAIN["floats"]]


def test_big_ints_are_exact(values: httpx.Client) -> None:
    assert values.get("/plain/ints").json() == app.PLAIN["ints"]
    assert values.get("/plain/bigint").content == str(2**70).encode()


def test_non_string_keys_follow_json_dumps(values: httpx.Client) -> None:
    assert values.get("/plain/keys").json() == {"7": "int", "2.5": "float", "true": "bool", "null": "none",
                                                "s": "str"}


def test_jsonable_rejects_unknown_types_naming_them() -> None:
    from fastcore import jsonable

    class Mystery:
        pass

    with pytest.raises(TypeError, match="Object of type .*Mystery is not JSON serializable"):
        jsonable(Mystery())
    assert jsonable(datetime.date(2024, 1, 2)) == "2024-01-02"


@pytest.mark.parametrize("value, message", [
    (float("nan"), "Out of range float"),
    (float("inf"), "Out of range float"),
    ({(1, 2): 1}, "keys must be"),
    (object(), "Object of type object is not JSON serializable"),
    ({"deep": {1, object()}}, "Object of type object is not JSON serializable"),
])
def test_encode_json_errors(value: object, message: str) -> None:
    from fastcore._core import encode_json

    with pytest.raises((TypeError, ValueError), match=message):
        encode_json(value)


def test_encode_json_refuses_cycles() -> None:
    from fastcore._core import encode_json

    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="deeper than"):
        encode_json(loop)


# -- jsonable_encoder: FastAPI's public function, compared with FastAPI's own where installed ----

def _samples() -> list[object]:
    import dataclasses
    import decimal
    import enum
    import ipaddress
    import pathlib
    import uuid
    from collections import deque

    from pydantic import BaseModel, Field

    class Color(enum.Enum):
        red = "r"

    class Model(BaseModel):
        item_name: str = Field(alias="itemName")
        size: int | None = None
        when: datetime.date = datetime.date(2020, 1, 1)

    @dataclasses.dataclass
    class Point:
        x: int
        tags: set[str]

    class Plain:
        def __init__(self) -> None:
            self.a = 1
            self._sa_state = "hidden"

    return [
        {"dt": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), "d": decimal.Decimal("1.0"),
         "i": decimal.Decimal("12"), "td": datetime.timedelta(days=1, microseconds=5), "u": uuid.UUID(int=7),
         "e": Color.red, "p": pathlib.PurePosixPath("/x/y"), "b": b"bytes", "ip": ipaddress.ip_address("::1"),
         "net": ipaddress.ip_network("10.0.0.0/8"), "q": deque([1, 2]), 5: "int key", None: "none key"},
        Model(itemName="n"),
        [Model(itemName="n", size=3), Point(1, {"a"}), (1, 2), frozenset({3})],
        Plain(),
        {"_sa_instance_state": 1, "kept": None},
    ]


@pytest.mark.parametrize("options", [{}, {"exclude_none": True}, {"by_alias": False}, {"include": {"kept", "dt"}},
                                     {"exclude": {"dt"}}, {"exclude_unset": True}, {"exclude_defaults": True},
                                     {"sqlalchemy_safe": False},
                                     {"custom_encoder": {datetime.datetime: lambda d: "custom"}}])
def test_jsonable_encoder_matches_fastapi(options: dict) -> None:
    from fastcore.encoders import jsonable_encoder

    ours = [jsonable_encoder(s, **options) for s in _samples()]
    assert ours[1] == ({"itemName": "n", "size": None, "when": "2020-01-01"} if not options else ours[1])
    try:
        from fastapi.encoders import jsonable_encoder as reference
    except ImportError:
        return
    assert ours == [reference(s, **options) for s in _samples()]


def test_jsonable_encoder_refuses_what_it_cannot_convert() -> None:
    from fastcore.encoders import jsonable_encoder

    with pytest.raises(ValueError):
        jsonable_encoder(object())


def test_floats_are_written_as_json_dumps_writes_them() -> None:
    """Python's float repr (src/response/json/number.rs python_layout): exponents signed and two
    digits wide, scientific below 1e-4 and from 1e16, as FastAPI's JSONResponse sends them."""
    import random
    import struct

    from fastcore._core import encode_json

    rng = random.Random(9)
    samples = [1e20, 1e16, 9.999e15, 1e-4, 9.99e-5, 1e-5, 1.5e-7, 5e-324, 1.7976931348623157e308, 0.1, -0.0, 2.5]
    samples += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(20000)]
    samples += [rng.uniform(-1e-3, 1e-3) for _ in range(2000)] + [rng.uniform(-1e18, 1e18) for _ in range(2000)]
    finite = [f for f in samples if f == f and f not in (float("inf"), float("-inf"))]
    assert encode_json(finite) == json.dumps(finite, separators=(",", ":")).encode()

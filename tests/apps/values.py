"""Return values, response classes and the JSON encoder (tests/test_responses.py, test_encoders.py)."""
import dataclasses
import datetime
import decimal
import enum
import uuid
from collections import OrderedDict
from pathlib import PurePosixPath

from pydantic import BaseModel

import fastcore
from fastcore import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

app = fastcore.FastCore()

# The values the plain-return endpoints send back, by name. The tests import this module too,
# so the expected JSON is computed from the same objects with the standard library.
PLAIN = {
    "dict": {"a": 1, "b": [1, 2, {"c": None}]},
    "list": [1, "two", 3.5, True, None],
    "str": "hello",
    "int": 42,
    "negative": -17,
    "bigint": 2**70,
    "float": 2.5,
    "true": True,
    "false": False,
    "none": None,
    "tuple": (1, "x", (2, 3)),
    "empty_dict": {},
    "empty_list": [],
    "empty_str": "",
    "floats": [0.1, 1e300, -0.0, 1e-7, 123456789.125, 5e-324],
    "ints": [0, -1, 2**63 - 1, -(2**63), 2**64, -(2**64) - 1],
    "keys": {7: "int", 2.5: "float", True: "bool", None: "none", "s": "str"},
    "unicode": {
        "quote": 'say "hi"',
        "backslash": "a\\b\\\\c",
        "controls": "".join(chr(i) for i in range(32)) + "\x7f",
        "newlines": "line1\nline2\r\n\ttab",
        "accents": "café naïve Ærø",
        "cjk": "日本語のテキスト",
        "emoji": "🚀🐍 family: 👨‍👩‍👧",
        "astral": "\U0001d11e\U0010ffff",
        "separators": "\u2028\u2029",
        "html": "</script><script>alert('x')</script>&amp;",
        "ключ": "значение",
        "slash": "a/b",
    },
}


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 3


class Tag(str, enum.Enum):
    A = "tag-a"


class Label(str):
    pass


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str = "p"


@dataclasses.dataclass
class Shape:
    name: str
    points: list
    color: Color


class Owner(BaseModel):
    name: str
    since: datetime.date


class Pet(BaseModel):
    id: uuid.UUID
    name: str
    owner: Owner
    tags: list[str] = []


FIXED_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")

FALLBACK = {
    "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, 678901),
    "datetime_tz": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    "date": datetime.date(2024, 2, 29),
    "time": datetime.time(13, 14, 15),
    "timedelta": datetime.timedelta(minutes=1, seconds=30, milliseconds=500),
    "uuid": FIXED_UUID,
    "enum": Color.GREEN,
    "intenum": Level.HIGH,
    "strenum": Tag.A,
    "str_subclass": Label("labelled"),
    "decimal_int": decimal.Decimal("10"),
    "decimal_frac": decimal.Decimal("2.5"),
    "path": PurePosixPath("/etc/hosts"),
    "dataclass": Point(1, 2.5),
    "nested_dataclass": Shape("tri", [Point(0, 0.0), Point(1, 1.0, "b")], Color.RED),
    "set": {3, 1, 2},
    "frozenset": frozenset({"only"}),
    "ordered": OrderedDict([("z", 1), ("a", 2)]),
    "in_containers": {"when": [datetime.date(2020, 5, 17)], "ids": (FIXED_UUID,), "c": {"k": Color.RED}},
    "model": Pet(id=FIXED_UUID, name="Rex", owner=Owner(name="Ann", since=datetime.date(2019, 1, 1)), tags=["dog"]),
    "models": [Owner(name="A", since=datetime.date(2000, 1, 1)), Owner(name="B", since=datetime.date(2001, 2, 3))],
}


@app.get("/plain/{name}")
def plain(name: str):
    return PLAIN[name]


@app.get("/fallback/{name}")
def fallback(name: str):
    return FALLBACK[name]


@app.get("/bytes")
def raw_bytes():
    return b"\x00\x01binary\xff\xfe"


@app.get("/empty-bytes")
def empty_bytes():
    return b""


@app.get("/response")
def custom_response():
    return Response("<note>hi</note>", status_code=202, headers={"X-Kind": "legacy"}, media_type="application/xml")


@app.get("/response/text-media")
def response_text_media():
    return Response("plain words", media_type="text/csv")


@app.get("/response/bytes")
def response_bytes():
    return Response(b"\xde\xad\xbe\xef", media_type="application/octet-stream")


@app.get("/response/empty")
def response_empty():
    return Response(status_code=204)


@app.get("/response/no-media")
def response_no_media():
    return Response("untyped")


@app.get("/response/wrong-length")
def response_wrong_length():
    return Response("four", headers={"Content-Length": "999"})


@app.get("/response/cookies")
def response_cookies():
    resp = PlainTextResponse("cookies set")
    resp.set_cookie("session", "abc123", httponly=True)
    resp.set_cookie("theme", "dark", max_age=60, samesite=None)
    return resp


@app.get("/json-response")
def json_response():
    return JSONResponse({"created": True, "when": datetime.date(2024, 1, 1), "name": "ü"}, status_code=207,
                        headers={"X-Json": "yes"})


@app.get("/text-response")
def text_response():
    return PlainTextResponse("Hello, Wörld!")


@app.get("/html-response")
def html_response():
    return HTMLResponse("<h1>Hello</h1>", status_code=203)


@app.get("/redirect")
def redirect():
    return RedirectResponse("/plain/str")


@app.get("/redirect-permanent")
def redirect_permanent():
    return RedirectResponse("https://example.com/elsewhere", status_code=301)

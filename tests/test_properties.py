"""Property tests (hypothesis) of the Rust parsers and the encoder through their Python
bindings: `encode_json` (src/response/json/), `parse_urlencoded` and `parse_options_header`
(src/request/form.rs), `parse_multipart` (src/request/multipart.rs). The Rust-side properties
(router matching, multipart chunking) are in src/proptests.rs. Each property runs 300 examples
here; FASTCORE_FUZZ_EXAMPLES raises that for a longer run."""
from __future__ import annotations

import json
import math
import os
import struct
import urllib.parse

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

from fastcore._core import encode_json, parse_multipart, parse_options_header, parse_urlencoded  # noqa: E402
from fastcore.exceptions import HTTPException  # noqa: E402

EXAMPLES = int(os.environ.get("FASTCORE_FUZZ_EXAMPLES", "300"))
fuzz = settings(max_examples=EXAMPLES, deadline=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


def plain(value):
    """What JSON gives back for `value` (tuples become lists)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


@fuzz
@given(json_values)
def test_encode_json_round_trips_and_matches_json_dumps(value) -> None:
    encoded = encode_json(value)
    assert json.loads(encoded) == plain(value)
    assert json.loads(encoded) == json.loads(json.dumps(value))


# What Starlette's JSONResponse can encode (no lone surrogates), with the characters JSON escapes
# (\b and \f included) over-represented, in strings long and short (the encoder scans 8 bytes at
# a time).
_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)))
_escapy = st.text(alphabet="\x00\x01\x08\x0c\n\r\t\"\\\x1f\x7f a\u00e9\u2028\U0001f600", max_size=40)
exact_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | _text | _escapy,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text | _escapy, children, max_size=5),
    max_leaves=30,
)


@fuzz
@given(exact_json_values)
def test_encode_json_is_byte_identical_to_fastapis_json_dumps(value) -> None:
    """Starlette's JSONResponse: compact separators, UTF-8 (not ASCII-escaped), NaN refused."""
    expected = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    assert encode_json(value) == expected


@fuzz
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_encode_json_floats_as_python_spells_them(f: float) -> None:
    assert encode_json(f) == json.dumps(f).encode()
    assert math.isclose(json.loads(encode_json([f]))[0], f) or f == 0


@fuzz
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_encode_json_any_float_bit_pattern_is_its_repr(bits: int) -> None:
    """Every finite double (subnormals and extremes as likely as 0.1) as `repr` spells it."""
    f = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
    if math.isfinite(f):
        assert encode_json([f, -f]) == f"[{f!r},{-f!r}]".encode()
        assert float(encode_json(f)) == f
    else:
        with pytest.raises(ValueError, match="Out of range float"):
            encode_json(f)


@fuzz
@given(st.integers(min_value=-(10**14), max_value=10**14), st.integers(min_value=0, max_value=3))
def test_encode_json_integral_and_one_decimal_floats_and_their_neighbours(tenths: int, digits: int) -> None:
    """The encoder's short path (integral floats, one decimal digit, below 1e13) and the floats
    right next to them, which must take the full shortest-digits search."""
    v = tenths / 10**digits
    values = [v, -v, math.nextafter(v, math.inf), math.nextafter(v, -math.inf), float(tenths)]
    assert encode_json(values) == ("[" + ",".join(repr(f) for f in values) + "]").encode()


# Strs of each storage width (ASCII, Latin-1, two and four bytes a character), long enough to
# cross the encoder's 16-character blocks and 2,048-character chunks, with escapes and lone
# surrogates (which UTF-8 cannot encode: both encoders must refuse them) placed anywhere.
_runs = st.lists(st.tuples(st.sampled_from(["a", "\u00e9", "\u6771", "\U0001f600", "\n", "\"", "\x00", "\ud800"]),
                           st.integers(min_value=1, max_value=2100)), max_size=4)


@fuzz
@given(_runs)
def test_encode_json_long_strs_of_every_width_match_json_dumps(runs: list[tuple[str, int]]) -> None:
    text = "".join(ch * n for ch, n in runs)
    value = {text: [text, "k"]}
    try:
        expected = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            encode_json(value)
        return
    assert encode_json(value) == expected
    assert json.loads(encode_json(value)) == value


@fuzz
@given(st.lists(st.tuples(st.text(), st.text()), max_size=10))
def test_urlencoded_round_trips(pairs: list[tuple[str, str]]) -> None:
    body = urllib.parse.urlencode(pairs).encode()
    parsed = parse_urlencoded(body, 1000, 1 << 20)
    assert parsed == [(k, v) for k, v in pairs if k or v] or parsed == pairs


@fuzz
@given(st.binary(max_size=200))
def test_urlencoded_arbitrary_bytes(body: bytes) -> None:
    """Any bytes: a list of str pairs or a 400, nothing else; the same as parse_qsl where both
    read plain ASCII."""
    try:
        parsed = parse_urlencoded(body, 1000, 1 << 20)
    except HTTPException as exc:
        assert exc.status_code == 400
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parsed)


@fuzz
@given(st.text(max_size=120))
def test_options_header_never_fails(value: str) -> None:
    main, params = parse_options_header(value)
    assert isinstance(main, str) and all(isinstance(k, str) and isinstance(v, str) for k, v in params)


def form(fields: list[tuple[str, bytes]], boundary: bytes = b"xyz") -> bytes:
    out = b""
    for name, value in fields:
        out += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n'
        out += value + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=10)


@fuzz
@given(st.lists(st.tuples(names, st.binary(max_size=100).filter(lambda b: b"--xyz" not in b)), max_size=6))
def test_multipart_round_trips(fields: list[tuple[str, bytes]]) -> None:
    parsed = parse_multipart(form(fields), b"xyz", "latin-1", 1000, 1000, 1 << 20, 1 << 20)
    assert [(n, v) for n, v in parsed] == [(n, v.decode("latin-1")) for n, v in fields]


@fuzz
@given(st.binary(max_size=300), st.sampled_from([b"xyz", b"-", b"a" * 70]))
def test_multipart_arbitrary_bytes(body: bytes, boundary: bytes) -> None:
    """Any body: parts, or an HTTPException with a 4xx; never another error."""
    try:
        parse_multipart(body, boundary, "utf-8", 10, 10, 1000, 1 << 20)
    except HTTPException as exc:
        assert 400 <= exc.status_code < 500


# -- the query string and the Cookie header, as a handler sees them over a real server ---------

@pytest.fixture(scope="module")
def parsers(tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import serve_app

    yield from serve_app(tmp_path_factory, "parsers", "--threads", "2")


def starlette_query(query: bytes) -> list[list[str]]:
    """Starlette's `request.query_params.multi_items()`: the raw query string read as latin-1,
    then `parse_qsl(keep_blank_values=True)` (percent-escapes decoded as UTF-8, `errors="replace"`)."""
    return [[k, v] for k, v in urllib.parse.parse_qsl(query.decode("latin-1"), keep_blank_values=True)]


def starlette_cookies(header: str) -> dict[str, str]:
    """Starlette's `cookie_parser`, where Starlette is installed (3.11), else the same rules
    spelled out: split on `;`, a chunk without `=` is a value with an empty name, strip, skip
    empty pairs, unquote as http.cookies does, the last name wins."""
    try:
        from starlette.requests import cookie_parser
    except ImportError:
        import http.cookies

        out: dict[str, str] = {}
        for chunk in header.split(";"):
            key, val = chunk.split("=", 1) if "=" in chunk else ("", chunk)
            key, val = key.strip(), val.strip()
            if key or val:
                out[key] = http.cookies._unquote(val)
        return out
    return cookie_parser(header)


# Query-string pieces: RFC 3986's query characters (hyper refuses controls, spaces and the likes
# of `"<>{}|` in a target with a 400; tests/test_malformed.py), valid and broken
# percent-escapes, UTF-8 and invalid UTF-8 behind escapes.
QUERY_PIECES = list("abcXYZ019-._~!$&'()*+,;=:@/?") + [
    "&", "=", "+", "%", "%2", "%zz", "%20", "%26", "%3D", "%2B", "%25", "%C3%A9", "%E2%82%AC", "%F0%9F%98%80",
    "%FF", "%C3", "%E2%82", "%ED%A0%80", "%00", "%0A", "&&", "==", ";",
]
COOKIE_PIECES = ["a", "b", "SID", "=", ";", " ", "\t", '"', "\\", "\\\"", "\\073", "\\012", "x y", ",", "é", "%41",
                 "=\"quoted\"", "; ", "==", ";;", "€"]


def raw_get(sock, stream, target: bytes, cookie: str | None = None):
    from tests.conftest import read_response

    head = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
    if cookie is not None:
        head += b"Cookie: " + cookie.encode("utf-8") + b"\r\n"
    sock.sendall(head + b"\r\n")
    return read_response(stream)


@fuzz
@given(st.lists(st.sampled_from(QUERY_PIECES), max_size=30), st.sampled_from(["/echo", "/echo-async"]))
def test_query_string_parses_as_starlette_does(parsers, pieces: list[str], path: str) -> None:
    query = "".join(pieces).encode("ascii")
    with parsers.connect() as sock, sock.makefile("rb") as stream:
        resp = raw_get(sock, stream, path.encode() + b"?" + query)
    assert resp.status == 200, (query, resp)
    assert json.loads(resp.body)["query"] == starlette_query(query), query


@fuzz
@given(st.lists(st.sampled_from(COOKIE_PIECES), max_size=20))
def test_cookie_header_parses_as_starlette_does(parsers, pieces: list[str]) -> None:
    header = "".join(pieces).strip(" \t")  # a header value's surrounding whitespace is not part of it
    with parsers.connect() as sock, sock.makefile("rb") as stream:
        resp = raw_get(sock, stream, b"/echo", header)
    assert resp.status == 200, (header, resp)
    # The header's bytes reach the app as latin-1, as in Starlette.
    assert json.loads(resp.body)["cookies"] == starlette_cookies(header.encode("utf-8").decode("latin-1")), header

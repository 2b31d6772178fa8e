"""Forms through a real server: python/fastcore/formparsers.py, datastructures.py (FormData,
UploadFile), requests.py (`request.form()`), src/request/multipart.rs and form.rs.

Every request goes to the fastcore app of tests/apps/forms.py, async handler and (where it
exists) sync handler alike. On the GIL venv, where FastAPI is installed, the same request also
goes to the same routes on FastAPI (its TestClient) and the answers must be identical; on 3.13t
the expected answers written here are checked alone.
"""
from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ServerFactory, ServerProcess, serve_app

try:
    import fastapi
    from fastapi.testclient import TestClient
except ImportError:  # 3.13t: no FastAPI
    fastapi = None


@pytest.fixture(scope="module")
def forms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve_app(tmp_path_factory, "forms", "--threads", "2")


@pytest.fixture(scope="module")
def fastapi_client() -> Iterator[Any]:
    if fastapi is None:
        yield None
        return
    from tests.apps.forms import build

    with TestClient(build(fastapi.FastAPI, fastapi.Request)) as c:
        yield c


@pytest.fixture
def client(forms_server: ServerProcess) -> Iterator[httpx.Client]:
    with forms_server.client(timeout=60) as c:
        yield c


def post(client: httpx.Client, fastapi_client: Any, path: str, *, sync: bool = True,
         **kwargs: Any) -> tuple[int, Any]:
    """POSTs to fastcore's async route (and its /sync twin when `sync`), and to FastAPI's async
    route when FastAPI is here; all answers must agree. Returns (status, JSON)."""
    # A fresh connection per request: when a handler answers without reading the whole body
    # (an error part-way, a non-form content type), the core closes the connection after the
    # response without saying so, and a pooled connection may be reused a moment too soon.
    with httpx.Client(base_url=client.base_url, timeout=60) as one:
        r = one.post(path, **kwargs)
    got = (r.status_code, r.json())
    if sync:
        with httpx.Client(base_url=client.base_url, timeout=60) as one:
            s = one.post(path.replace("/async", "/sync"), **kwargs)
        assert (s.status_code, s.json()) == got, "sync and async handlers differ"
    if fastapi_client is not None:
        f = fastapi_client.post(path, **kwargs)
        assert (f.status_code, f.json()) == got, "fastcore differs from FastAPI"
        assert f.headers["content-type"] == r.headers["content-type"]
    assert client.get("/ping").json() == {"pong": True}, "the server stopped serving"
    return got


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_fields_files_and_repeated_names(client: httpx.Client, fastapi_client: Any) -> None:
    files = [("doc", ("a.txt", b"alpha", "text/plain")), ("doc", ("b.bin", b"\x00\x01\xff", "application/x-b")),
             ("empty", ("empty.txt", b"", "text/plain"))]
    status, body = post(client, fastapi_client, "/async", data={"name": "Zoë", "tag": ["x", "y"]}, files=files)
    assert status == 200
    assert body[:3] == [["name", "Zoë"], ["tag", "x"], ["tag", "y"]]
    assert [b[:6] for b in body[3:]] == [
        ["doc", "a.txt", "text/plain", 5, sha(b"alpha"), "alpha"],
        ["doc", "b.bin", "application/x-b", 3, sha(b"\x00\x01\xff"), "\x00\x01\xff"],
        ["empty", "empty.txt", "text/plain", 0, sha(b""), ""],
    ]
    assert body[3][6] == [["content-disposition", 'form-data; name="doc"; filename="a.txt"'],
                          ["content-type", "text/plain"]]


def test_part_headers_and_content_type(client: httpx.Client, fastapi_client: Any) -> None:
    body = (b"--b1\r\nContent-Disposition: form-data; name=\"f\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n"
            b"X-Extra:  two  spaces\r\n\r\na,b\r\n--b1\r\ncontent-disposition: form-data; name=plain; filename=n\r\n"
            b"\r\nno type\r\n--b1--\r\n")
    status, got = post(client, fastapi_client, "/async", content=body,
                       headers={"content-type": "multipart/form-data; boundary=b1"})
    assert status == 200
    assert got[0][:4] == ["f", "r.csv", "text/csv", 3]
    assert got[0][6] == [["content-disposition", 'form-data; name="f"; filename="r.csv"'],
                         ["content-type", "text/csv"], ["x-extra", "two  spaces"]]
    assert got[1][:4] == ["plain", "n", None, 7]


def test_non_ascii_filenames(client: httpx.Client, fastapi_client: Any) -> None:
    status, got = post(client, fastapi_client, "/async", files={"f": ("résumé ☃.txt", b"cv", "text/plain")})
    assert status == 200 and got[0][1] == "résumé ☃.txt"
    # RFC 7578 forbids filename*: python-multipart ignores it, so a part with only filename*
    # is a text field, and one with both keeps the plain filename.
    raw = ("--b\r\nContent-Disposition: form-data; name=\"a\"; filename*=utf-8''%C3%A9t%C3%A9.txt\r\n\r\nv\r\n"
           "--b\r\nContent-Disposition: form-data; name=\"c\"; filename=\"x.txt\"; filename*=utf-8''y.txt\r\n\r\nw\r\n"
           "--b\r\nContent-Disposition: form-data; name=\"d\"; filename=\"C:\\\\dir\\\\win.txt\"\r\n\r\nz\r\n--b--\r\n")
    status, got = post(client, fastapi_client, "/async", content=raw.encode(),
                       headers={"content-type": "multipart/form-data; boundary=b"})
    assert status == 200
    assert got[0] == ["a", "v"] and got[1][1] == "x.txt" and got[2][1] == "win.txt"


def test_charset_and_undecodable_values(client: httpx.Client, fastapi_client: Any) -> None:
    raw = b"--b\r\nContent-Disposition: form-data; name=\"k\xe9\"\r\n\r\n\xff\xfe caf\xe9\r\n--b--\r\n"
    for ctype, want in [("multipart/form-data; boundary=b", ["k\xe9", "\xff\xfe caf\xe9"]),
                        ("multipart/form-data; boundary=\"b\"; charset=latin-1", ["k\xe9", "\xff\xfe caf\xe9"]),
                        ("multipart/form-data; boundary=b; charset=cp1252", ["ké", "\xff\xfe café"]),
                        ("multipart/form-data; boundary=b; charset=nope", ["k\xe9", "\xff\xfe caf\xe9"])]:
        status, got = post(client, fastapi_client, "/async", content=raw, headers={"content-type": ctype})
        assert (status, got) == (200, [want]), ctype


def test_urlencoded(client: httpx.Client, fastapi_client: Any) -> None:
    status, got = post(client, fastapi_client, "/async", content=b"a=1&b=&c=%20x+y&&d&e=%zz&f=%C3%A9&g=1;h=2&a=2",
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert got == [["a", "1"], ["b", ""], ["c", " x y"], ["d", ""], ["e", "%zz"], ["f", "é"], ["g", "1;h=2"],
                   ["a", "2"]]
    status, got = post(client, fastapi_client, "/async", data={"q": "a b&c", "n": "1"})
    assert (status, got) == (200, [["q", "a b&c"], ["n", "1"]])


def test_other_content_types_give_an_empty_form(client: httpx.Client, fastapi_client: Any) -> None:
    for headers in [{"content-type": "text/plain"}, {"content-type": "application/json"}, {}]:
        assert post(client, fastapi_client, "/async", content=b"a=1", headers=headers) == (200, [])


MALFORMED = [
    ("multipart/form-data", b"--b\r\n\r\n", "Missing boundary in multipart."),
    ("multipart/form-data; charset=utf-8", b"", "Missing boundary in multipart."),
    ("multipart/form-data; boundary=b", b"garbage", "Invalid multipart data."),
    ("multipart/form-data; boundary=b", b"--b\nContent-Disposition: form-data; name=a\n\nv\n--b--", "Invalid multipart data."),
    ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition form-data\r\n\r\nv\r\n--b--", "Invalid multipart data."),
    ("multipart/form-data; boundary=b", b"--b\r\nBad Header: x\r\n\r\nv\r\n--b--", "Invalid multipart data."),
    ("multipart/form-data; boundary=b", b"--b\r\n" + b"X-A: 1\r\n" * 9 + b"\r\nv\r\n--b--", "Invalid multipart data."),
    ("multipart/form-data; boundary=b", b"--b\r\nX: " + b"a" * 5000 + b"\r\n\r\nv\r\n--b--", "Invalid multipart data."),
    ("multipart/form-data; boundary=" + "b" * 257, b"--b", "Invalid multipart data."),
    ("multipart/form-data; boundary=b", b"--b\r\nX-A: 1\r\n\r\nv\r\n--b--",
     'The Content-Disposition header field "name" must be provided.'),
]


@pytest.mark.parametrize("ctype,body,detail", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_are_400s(client: httpx.Client, fastapi_client: Any, ctype: str, body: bytes,
                                   detail: str) -> None:
    assert post(client, fastapi_client, "/async", content=body, headers={"content-type": ctype}) == (400, {"detail": detail})


def test_truncated_bodies_keep_completed_parts(client: httpx.Client, fastapi_client: Any) -> None:
    # python-multipart checks nothing at the end of the body: FastAPI answers 200 with the parts
    # completed before the cut, and so does fastcore.
    part = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello"
    for body, want in [(part, []), (part + b"\r\n--b", []), (part + b"\r\n--b\r\n", [["a", "hello"]]),
                       (part + b"\r\n--b\r\nContent-Disposition: form-data; name=\"c\"\r\n", [["a", "hello"]])]:
        got = post(client, fastapi_client, "/async", content=body,
                   headers={"content-type": "multipart/form-data; boundary=b"})
        assert got == (200, want), body


def many(n: int, files: bool) -> list[tuple[str, Any]]:
    return [(f"k{i}", (f"f{i}.txt", b"x", "text/plain") if files else (None, b"v")) for i in range(n)]


@pytest.mark.parametrize("query,kwargs,detail", [
    ("max_files=2", {"files": many(3, True)}, "Too many files. Maximum number of files is 2."),
    ("max_fields=2", {"files": many(3, False)}, "Too many fields. Maximum number of fields is 2."),
    ("max_part_size=2048", {"data": {"a": "x" * 2049}, "files": {"f": ("f", b"y" * 5000)}},
     "Part exceeded maximum size of 2KB."),
    ("max_fields=2", {"data": {"a": "1", "b": "2", "c": "3"}}, "Too many fields. Maximum number of fields is 2."),
    ("max_part_size=2048", {"data": {"a": "x" * 2048}}, "Field exceeded maximum size of 2KB."),
])
def test_limits(client: httpx.Client, fastapi_client: Any, query: str, kwargs: dict[str, Any], detail: str) -> None:
    assert post(client, fastapi_client, f"/async/limits?{query}", sync=False, **kwargs) == (400, {"detail": detail})
    s = client.post(f"/sync/limits?{query}", **kwargs)
    assert (s.status_code, s.json()) == (400, {"detail": detail})


def test_default_limits(client: httpx.Client, fastapi_client: Any) -> None:
    assert post(client, fastapi_client, "/async", files=many(1001, True))[1] == {
        "detail": "Too many files. Maximum number of files is 1000."}
    assert post(client, fastapi_client, "/async", files=many(1001, False))[1] == {
        "detail": "Too many fields. Maximum number of fields is 1000."}
    # urlencoded: name and value bytes together
    status, got = post(client, fastapi_client, "/async", data={"a": "x" * (1024 * 1024 - 1)})
    assert status == 200 and len(got[0][1]) == 1024 * 1024 - 1
    assert post(client, fastapi_client, "/async", data={"a": "x" * (1024 * 1024)})[1] == {
        "detail": "Field exceeded maximum size of 1024KB."}
    status, got = post(client, fastapi_client, "/async", files={"a": (None, b"x" * (1024 * 1024))})
    assert status == 200 and len(got[0][1]) == 1024 * 1024
    assert post(client, fastapi_client, "/async", files={"a": (None, b"x" * (1024 * 1024 + 1))})[1] == {
        "detail": "Part exceeded maximum size of 1024KB."}
    # files are not limited by max_part_size: 1000 files and 1000 fields are fine
    status, got = post(client, fastapi_client, "/async", files=many(1000, True) + many(1000, False))
    assert status == 200 and len(got) == 2000


def test_large_upload_spills_to_an_unlinked_file(client: httpx.Client, tmp_path: Path) -> None:
    data = os.urandom(5 * 1024 * 1024)
    small = b"s" * (1024 * 1024)  # exactly the spool size: stays in memory
    r = client.post("/async/spill", files={"big": ("big.bin", data, "application/octet-stream"),
                                          "small": ("small.bin", small, "application/octet-stream")})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["big"]["rolled"] is True and got["big"]["where"].endswith("(deleted)"), got["big"]
    assert (got["big"]["size"], got["big"]["read"], got["big"]["sha256"]) == (len(data), len(data), sha(data))
    assert got["small"] == {"rolled": False, "where": None, "size": len(small), "read": len(small),
                            "sha256": sha(small)}
    # the sync path parses a body already read; the big part is spilled there too
    s = client.post("/sync", files={"big": ("big.bin", data, "application/octet-stream")})
    assert s.status_code == 200 and s.json()[0][3:5] == [len(data), sha(data)]
    assert client.get("/ping").json() == {"pong": True}


def test_form_as_context_manager_closes_files(client: httpx.Client) -> None:
    r = client.post("/async/ctx", data={"a": "1"}, files={"f": ("f.txt", b"x"), "g": ("g.txt", b"y" * 2_000_000)})
    assert r.status_code == 200
    assert r.json()["closed"] == [True, True]
    assert r.json()["form"][0] == ["a", "1"]


def test_form_is_parsed_once(client: httpx.Client) -> None:
    r = client.post("/async/twice", data={"a": "1"}, files={"f": ("f.txt", b"x")})
    assert r.json()["same"] is True and r.json()["form"][0] == ["a", "1"]



def open_fds(srv: ServerProcess) -> int:
    return len(os.listdir(f"/proc/{srv.pid}/fd"))


def test_refused_forms_leave_no_spilled_file_open(forms_server: ServerProcess) -> None:
    # A 2 MB file is spilled to a temp file, then the third file breaks max_files: the parser's
    # temp file must be closed with it, request after request.
    files = [("a", ("a.bin", b"a" * 2_000_000)), ("b", ("b.bin", b"b")), ("c", ("c.bin", b"c"))]
    with httpx.Client(base_url=forms_server.base_url, timeout=60) as c:
        c.post("/async/limits?max_files=2", files=files)
    before = open_fds(forms_server)
    for path in ["/async/limits?max_files=2", "/sync/limits?max_files=2"] * 5:
        with httpx.Client(base_url=forms_server.base_url, timeout=60) as c:
            r = c.post(path, files=files)
        assert r.json() == {"detail": "Too many files. Maximum number of files is 2."}
    assert open_fds(forms_server) <= before + 2, "temporary files of refused forms stay open"


@pytest.fixture(scope="module")
def limited_forms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    factory = ServerFactory(tmp_path_factory.mktemp("forms_limited"))
    srv = factory.launch([sys.executable, "-m", "tests.apps.forms", "0", str(256 * 1024)])
    try:
        yield srv
    finally:
        problems = factory.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_body_limit_holds_for_forms(limited_forms: ServerProcess, path: str) -> None:
    with httpx.Client(base_url=limited_forms.base_url, timeout=60) as c:
        ok = c.post(path, files={"f": ("f.bin", b"x" * 200_000)})
        assert ok.status_code == 200 and ok.json()[0][3] == 200_000
    with httpx.Client(base_url=limited_forms.base_url, timeout=60) as c:
        r = c.post(path, files={"f": ("f.bin", b"x" * 3_000_000)})
        assert r.status_code == 413
        assert r.json() == {"detail": f"Request body is larger than the limit of {256 * 1024} bytes"}
    with httpx.Client(base_url=limited_forms.base_url, timeout=60) as c:
        assert c.get("/ping").json() == {"pong": True}

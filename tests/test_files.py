"""FileResponse (python/fastcore/responses.py, src/response/file.rs): sent from Rust, with
Starlette 1.10's headers and its answers to Range, If-Range and HEAD. Where Starlette is
installed (the GIL venv) every case is also sent to Starlette's FileResponse through its
TestClient and the answers must be identical (status, headers in order, body; the random
multipart boundary normalised)."""
from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import httpx
import pytest

from .conftest import ServerProcess, wait_until

MB = 1 << 20


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("files")
    out = {}
    out["text"] = d / "hello.txt"
    out["text"].write_bytes(b"0123456789abcdefghijklmnopqrstuvwxyz\n" * 3)
    out["big"] = d / "big.bin"
    out["big"].write_bytes(os.urandom(3 * MB + 12345))
    out["empty"] = d / "empty.dat"
    out["empty"].write_bytes(b"")
    out["noext"] = d / "README"
    out["noext"].write_bytes(b"no extension")
    out["dir"] = d / "subdir"
    out["dir"].mkdir()
    return out


@pytest.fixture
def client(files_server: ServerProcess):
    with files_server.client() as c:
        yield c


@pytest.fixture(scope="module")
def starlette_client():
    try:
        from starlette.testclient import TestClient
    except ImportError:
        yield None
        return
    from .apps.files import starlette_app

    with TestClient(starlette_app()) as c:
        yield c


def normalised(r: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k.decode().lower(), v.decode("latin-1")) for k, v in r.headers.raw
               if k.lower() not in (b"server", b"date")]
    body = r.content
    boundary = re.search(r"boundary=(\w+)", r.headers.get("content-type", ""))
    if boundary:
        b = boundary.group(1)
        headers = [(k, v.replace(b, "BOUNDARY")) for k, v in headers]
        body = body.replace(b.encode(), b"BOUNDARY")
    return r.status_code, headers, body


# (file, FileResponse options, request method, request headers)
CASES = {
    "plain": ("text", {}, "GET", {}),
    "binary": ("big", {}, "GET", {}),
    "no-extension": ("noext", {}, "GET", {}),
    "empty": ("empty", {}, "GET", {}),
    "media-type": ("text", {"media_type": "application/x-custom"}, "GET", {}),
    "filename": ("text", {"filename": "report.pdf"}, "GET", {}),
    "filename-quoted": ("text", {"filename": "naïve file.txt"}, "GET", {}),
    "inline": ("text", {"filename": "a.txt", "content_disposition_type": "inline"}, "GET", {}),
    "extra-headers": ("text", {"headers": {"X-A": "1", "ETag": '"mine"'}}, "GET", {}),
    "status": ("text", {"status_code": 203}, "GET", {"range": "bytes=0-3"}),
    "head": ("big", {}, "HEAD", {}),
    "head-range": ("big", {}, "HEAD", {"range": "bytes=10-19"}),
    "post-range": ("text", {}, "POST", {"range": "bytes=0-3"}),
    "range": ("text", {}, "GET", {"range": "bytes=0-9"}),
    "range-open": ("text", {}, "GET", {"range": "bytes=100-"}),
    "range-suffix": ("text", {}, "GET", {"range": "bytes=-5"}),
    "range-past-end": ("text", {}, "GET", {"range": "bytes=100-5000"}),
    "range-big-middle": ("big", {}, "GET", {"range": "bytes=1000000-2500000"}),
    "range-merged": ("text", {}, "GET", {"range": "bytes=0-5, 3-8"}),
    "ranges": ("text", {}, "GET", {"range": "bytes=0-1,4-5,-3"}),
    "ranges-big": ("big", {}, "GET", {"range": "bytes=0-99999,2000000-2200000"}),
    "ranges-head": ("text", {}, "HEAD", {"range": "bytes=0-1,4-5"}),
    "range-unsatisfiable": ("text", {}, "GET", {"range": "bytes=1000-"}),
    "range-backwards": ("text", {}, "GET", {"range": "bytes=9-3"}),
    "range-units": ("text", {}, "GET", {"range": "items=0-3"}),
    "range-no-equals": ("text", {}, "GET", {"range": "bytes"}),
    "range-garbage": ("text", {}, "GET", {"range": "bytes=a-b"}),
    "range-too-many": ("text", {}, "GET", {"range": "bytes=" + ",".join(f"{i}-{i}" for i in range(101))}),
    "if-range-etag": ("text", {}, "GET", {"range": "bytes=0-3", "if-range": "<etag>"}),
    "if-range-date": ("text", {}, "GET", {"range": "bytes=0-3", "if-range": "<last-modified>"}),
    "if-range-stale": ("text", {}, "GET", {"range": "bytes=0-3", "if-range": '"other"'}),
    "if-range-weak": ("text", {}, "GET", {"range": "bytes=0-3", "if-range": "W/<etag>"}),
    "if-none-match": ("text", {}, "GET", {"if-none-match": "<etag>"}),
    "if-modified-since": ("text", {}, "GET", {"if-modified-since": "<last-modified>"}),
}


def request(c, files: dict[str, Path], case: str, etag: dict) -> httpx.Response:
    name, opts, method, headers = CASES[case]
    headers = {k: v.replace("<etag>", etag["etag"]).replace("<last-modified>", etag["last-modified"])
               for k, v in headers.items()}
    params = {"path": str(files[name]), "opts": json.dumps(opts)}
    return c.request(method, "/file", params=params, headers=headers)


@pytest.fixture(scope="module")
def validators(files_server: ServerProcess, files: dict[str, Path]) -> dict:
    with files_server.client() as c:
        r = c.get("/file", params={"path": str(files["text"])})
    return {"etag": r.headers["etag"], "last-modified": r.headers["last-modified"]}


# What the comparison with Starlette establishes, asserted on its own too (so that 3.13t, which
# has no Starlette, checks the same): status and body per case.
EXPECTED_STATUS = {
    "status": 203, "range": 206, "range-open": 206, "range-suffix": 206, "range-past-end": 206,
    "range-big-middle": 206, "range-merged": 206, "ranges": 206, "ranges-big": 206, "ranges-head": 206,
    "head-range": 206, "range-unsatisfiable": 416, "range-backwards": 400, "range-units": 400,
    "range-no-equals": 400, "range-garbage": 400, "if-range-etag": 206, "if-range-date": 206,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_file_response(client: httpx.Client, starlette_client, files: dict[str, Path], validators: dict,
                       case: str) -> None:
    r = request(client, files, case, validators)
    assert r.status_code == EXPECTED_STATUS.get(case, 200), r.text[:200]
    name, opts, method, headers = CASES[case]
    data = files[name].read_bytes()
    if r.status_code == 200 and method != "HEAD":
        assert r.content == data
        assert r.headers["content-length"] == str(len(data))
        assert r.headers["accept-ranges"] == "bytes"
    if method == "HEAD":
        assert r.content == b"" and int(r.headers["content-length"]) > 0
    if starlette_client is not None:
        expected = request(starlette_client, files, case, validators)
        assert normalised(r) == normalised(expected)


def test_single_range_bytes(client: httpx.Client, files: dict[str, Path], validators: dict) -> None:
    data = files["big"].read_bytes()
    r = request(client, files, "range-big-middle", validators)
    assert r.content == data[1000000:2500001]
    assert r.headers["content-range"] == f"bytes 1000000-2500000/{len(data)}"


def test_multiple_ranges_body(client: httpx.Client, files: dict[str, Path], validators: dict) -> None:
    data = files["text"].read_bytes()
    r = request(client, files, "ranges", validators)
    boundary = r.headers["content-type"].split("boundary=")[1]
    size = len(data)
    expected = b"".join(
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes {s}-{e - 1}/{size}\r\n\r\n"
        .encode() + data[s:e] + b"\r\n" for s, e in [(0, 2), (4, 6), (size - 3, size)]) + f"--{boundary}--".encode()
    assert r.content == expected
    assert r.headers["content-length"] == str(len(expected))


def test_etag_and_last_modified_are_starlette_s(client: httpx.Client, files: dict[str, Path]) -> None:
    import hashlib
    from email.utils import formatdate

    st = os.stat(files["text"])
    r = client.get("/file", params={"path": str(files["text"])})
    assert r.headers["etag"] == '"' + hashlib.md5(f"{st.st_mtime}-{st.st_size}".encode()).hexdigest() + '"'
    assert r.headers["last-modified"] == formatdate(st.st_mtime, usegmt=True)


@pytest.mark.parametrize("name, message", [("missing", "does not exist"), ("dir", "is not a file")])
def test_missing_file_or_directory_is_a_500(client: httpx.Client, files_server: ServerProcess,
                                            files: dict[str, Path], name: str, message: str) -> None:
    path = files["dir"] if name == "dir" else files["dir"].parent / "missing.txt"
    r = client.get("/file", params={"path": str(path)})
    assert r.status_code == 500 and r.text == "Internal Server Error"
    files_server.wait_for_log(message)


def test_file_shorter_than_announced_closes_the_connection(files_server: ServerProcess,
                                                           files: dict[str, Path]) -> None:
    """A stat_result claiming more bytes than the file has: the body stops short and the
    connection is closed rather than left waiting (or padded)."""
    size = files["text"].stat().st_size
    query = httpx.QueryParams({"path": str(files["text"]), "opts": json.dumps({"stat_size": size + 1000})})
    with socket.create_connection((files_server.host, files_server.port), timeout=10) as s:
        s.sendall(f"GET /file?{query} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert f"content-length: {size + 1000}".encode() in head
    assert body == files["text"].read_bytes()
    files_server.wait_for_log("shorter than expected")


def test_background_runs_after_the_file(client: httpx.Client, files: dict[str, Path]) -> None:
    r = client.get("/file", params={"path": str(files["big"]), "opts": json.dumps({"background": "f1"})})
    assert len(r.content) == files["big"].stat().st_size
    wait_until(lambda: client.get("/finished/f1").json()["finished"], 5, "the file's background task")


def test_slow_client_is_fed_as_it_reads(files_server: ServerProcess, files: dict[str, Path],
                                        client: httpx.Client) -> None:
    """A client that reads a little and leaves: the server neither blocks nor errors."""
    with socket.create_connection((files_server.host, files_server.port)) as s:
        s.sendall(f"GET /file?path={files['big']} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(0.2)
    assert client.get("/file", params={"path": str(files["noext"])}).content == b"no extension"

"""Responses ported from FastAPI (tests/apps/fa_responses.py): the same app on fastcore and on
FastAPI (where installed) gives the same status, body and headers (tests/compat.py)."""
from __future__ import annotations

from typing import Iterator

import pytest

from .compat import Pair, comparable_headers, serve_pair
from .conftest import ServerFactory, wait_until


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_responses")), "fa_responses", "--threads", "1")


@pytest.mark.parametrize("path", ["/plain", "/html", "/json", "/redirect", "/cookies", "/cookie-response",
                                  "/file"])
def test_same_answer(app: Pair, path: str) -> None:
    r = app.get(path)
    assert r.status_code in (200, 201, 307)


def test_redirect_location(app: Pair) -> None:
    assert app.get("/redirect").headers["location"] == "/target%20path?x=%C3%BC"


def test_cookies(app: Pair) -> None:
    r = app.get("/cookies")
    assert r.headers.get_list("set-cookie")[0] == "session=abc; HttpOnly; Max-Age=60; Path=/; SameSite=lax"
    assert r.headers.get_list("set-cookie")[1].startswith('old=""; expires=')


@pytest.mark.parametrize("rng", ["bytes=0-9", "bytes=990-", "bytes=-5", "bytes=5-1", "bytes=2000-", "bytes=0-1,5-6"])
def test_file_ranges(app: Pair, rng: str) -> None:
    r = app.client.get("/file-range", headers={"range": rng})
    assert r.status_code in (206, 400, 416)
    if app.reference is not None and "," not in rng:  # multipart boundaries are random
        theirs = app.reference.get("/file-range", headers={"range": rng})
        assert (r.status_code, r.content, comparable_headers(r)) == \
            (theirs.status_code, theirs.content, comparable_headers(theirs))


@pytest.mark.parametrize("path, body", [("/stream", b"abc"), ("/astream", b"0;1;2;")])
def test_streams(app: Pair, path: str, body: bytes) -> None:
    """Same body and headers; fastcore's real server adds transfer-encoding, which FastAPI's
    in-process TestClient does not show."""
    r = app.client.get(path)
    assert r.content == body and r.headers["transfer-encoding"] == "chunked"
    if app.reference is not None:
        theirs = app.reference.get(path)
        assert theirs.content == body
        assert [h for h in comparable_headers(r) if h[0] != "transfer-encoding"] == comparable_headers(theirs)


def test_background_tasks(app: Pair) -> None:
    assert app.client.post("/tasks/one").json() == {"queued": "one"}
    wait_until(lambda: "one" in app.client.get("/done").json(), 5, "the background task")

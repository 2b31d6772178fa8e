"""Python middleware around mounts (src/dispatch/mount_call.rs, src/response/answer.rs,
python/fastcore/middleware/stack.py `Route`, base.py `_Answered`): tests/apps/fa_static.py's
`wrapped` app, the static mounts and the mounted app of tests/test_staticfiles.py under an
`@app.middleware("http")`, served by fastcore and by FastAPI, every answer compared. As in
Starlette, the middleware runs around what the mounts answer (files, 304s, ranges, their 404s
and 405s, redirects, the mounted app's routes and routing errors), sees their real status and
headers, may read the body, change the status, or answer first."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory
from .test_staticfiles import CASES, EXPECTED_STATUS, SECRET, UNCOMPARED, normalised, prepared
from .test_staticfiles import static_root  # noqa: F401  (the fixture: files on disk)


@pytest.fixture(scope="module")
def wrapped(static_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:  # noqa: F811
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_static_mw")), "fa_static", "--threads", "2",
                          attr="wrapped")


def compare(pair: Pair, method: str, url: str, headers: dict[str, str], case: str = ""):
    ours = pair.client.request(method, url, headers=headers)
    if case in UNCOMPARED:
        assert UNCOMPARED[case] in ours.text
    elif pair.reference is not None:
        theirs = pair.reference.request(method, url, headers=headers)
        assert normalised(ours) == normalised(theirs), f"{case}: {ours.headers} vs {theirs.headers}"
    return ours


@pytest.mark.parametrize("case", sorted(CASES))
def test_middleware_wraps_every_mount_answer(wrapped: Pair, case: str) -> None:
    """The middleware's header on every answer, with the status and path it saw; the rest as
    FastAPI's (the number of headers the middleware saw is in its header too)."""
    method, url, headers = prepared(wrapped, case)
    ours = compare(wrapped, method, url, headers, case)
    status = EXPECTED_STATUS.get(case, 200)
    assert ours.status_code == status, (ours.status_code, ours.content[:200])
    assert ours.headers["x-seen"].startswith(f"{status} /"), ours.headers
    assert SECRET not in ours.content or case.startswith("follow"), ours.content[:200]


@pytest.mark.parametrize("url", ["/static/css/app.css", "/static/big.bin", "/site/docs/", "/v2/items/3",
                                 "/v2/nope", "/hello", "/nothing"])
def test_an_early_answer_blocks_the_mount(wrapped: Pair, url: str) -> None:
    r = compare(wrapped, "GET", url, {"x-block": "1"})
    assert (r.status_code, r.text) == (403, "blocked by middleware")


@pytest.mark.parametrize("url, status", [("/static/css/app.css", 200), ("/static/mid.bin", 200),
                                         ("/static/big.bin", 200), ("/site/nope", 404), ("/static/nope", 404),
                                         ("/v2/items/3", 200), ("/v2/items/x", 422), ("/v2/teapot", 418),
                                         ("/v2/assets/js/app.js", 200)])
def test_the_middleware_reads_the_real_body(wrapped: Pair, static_root: Path, url: str,  # noqa: F811
                                            status: int) -> None:
    r = compare(wrapped, "GET", url, {"x-upper": "1"})
    assert r.status_code == status
    if url.startswith("/static/") and status == 200:
        data = (static_root / "public" / url.removeprefix("/static/")).read_bytes()
        assert r.content == data.upper() and r.headers["x-upper"] == str(len(data))


def test_a_range_read_through_the_middleware(wrapped: Pair, static_root: Path) -> None:  # noqa: F811
    big = (static_root / "public/big.bin").read_bytes()
    r = compare(wrapped, "GET", "/static/big.bin", {"x-upper": "1", "range": "bytes=65000-3000000"})
    assert r.status_code == 206 and r.content == big[65000:3000001].upper()


@pytest.mark.parametrize("url", ["/static/css/app.css", "/static/big.bin", "/v2/items/3", "/v2/nope",
                                 "/site/docs"])
def test_the_middleware_changes_the_status(wrapped: Pair, url: str) -> None:
    r = compare(wrapped, "GET", url, {"x-status": "299"})
    assert r.status_code == 299 and r.headers["x-seen"].startswith("299 ")


def test_the_mounted_app_shares_the_middlewares_state(wrapped: Pair) -> None:
    """`request.state` set by the middleware (which saw the full path and the app's root path)
    is the mounted app's handler's; the handler's `root_path` is the mount's."""
    r = compare(wrapped, "GET", "/v2/state", {})
    assert r.json() == {"seen": ["/v2/state", ""], "root_path": "/v2"}


def test_a_mounted_app_reads_the_body_under_the_middleware(wrapped: Pair) -> None:
    r = wrapped.post("/v2/echo", content=b"x" * 100_000)
    assert r.json() == {"got": "x" * 100_000} and r.headers["x-seen"].startswith("200 /v2/echo")


def test_the_same_connection_serves_on(wrapped: Pair) -> None:
    """Keep-alive across mount answers read, passed through and blocked."""
    for headers in ({}, {"x-upper": "1"}, {"x-block": "1"}, {}):
        for url in ("/static/mid.bin", "/v2/items/1", "/hello"):
            r = wrapped.client.get(url, headers=headers)
            assert r.status_code in (200, 403)


@pytest.fixture(scope="module")
def behind_proxy(static_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:  # noqa: F811
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_static_mw_root")), "fa_static", "--threads", "1",
                          attr="wrapped", root_path="/api")


@pytest.mark.parametrize("url", ["/v2/state", "/static/css/app.css", "/site/docs", "/v2/items/3/", "/v2/nope"])
def test_behind_a_root_path(behind_proxy: Pair, url: str) -> None:
    """Served with `--root-path /api` (FastAPI's client with `root_path="/api"`): the same
    answers, the middleware's path and root path included."""
    r = behind_proxy.get(url, headers={"host": "testserver"})  # the redirects' host: FastAPI's client's
    assert r.headers["x-seen"].startswith(f"{r.status_code} /api{url.rstrip('/')}")

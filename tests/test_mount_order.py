"""Routes and mounts in declaration order (src/routing/table.rs `mounts_before`,
`Table::mount_ahead`; src/routing/mount.rs `may_take`): tests/apps/fa_mount_order.py on
fastcore and FastAPI, answers compared. As Starlette's router, the first route or mount
declared that takes the whole request answers it: a mount declared before a route takes the
route's paths, a route declared before a mount keeps them; a route whose method does not match
lets a later mount answer. The same with an HTTP middleware around them."""
from __future__ import annotations

import time
from typing import Iterator

import pytest

from .compat import Pair, serve_pair
from .conftest import ServerFactory


@pytest.fixture(scope="module", params=["app", "wrapped"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("fa_mount_order")), "fa_mount_order",
                          "--threads", "1", attr=request.param)


@pytest.mark.parametrize("method, url, status, answer", [
    ("GET", "/api/early", 200, {"from": "route declared before the mount"}),
    ("GET", "/api/x", 200, {"from": "sub /x"}),
    ("GET", "/api/late-only", 404, {"detail": "Not Found"}),
    ("GET", "/api/items", 200, {"from": "sub /items"}),
    ("GET", "/shop/items", 200, {"from": "route with a parameter", "section": "shop"}),
    ("GET", "/other", 200, {"from": "a route no mount overlaps"}),
    ("POST", "/api/posted", 200, {"from": "sub POST /posted"}),
    ("GET", "/api/posted", 200, {"from": "GET route declared before the mount"}),
    ("GET", "/files/report", 404, {"detail": "Not Found"}),
    ("GET", "/filesx", 200, {"from": "not under the mount"}),
    ("GET", "/api/x/", 307, None),  # the mounted app's redirect to its /x
])
def test_declaration_order_decides(pair: Pair, method: str, url: str, status: int, answer: dict) -> None:
    r = pair.check(method, url, headers={"host": "testserver"})  # redirects name FastAPI's client's host
    assert (r.status_code, r.json() if answer else r.headers["location"]) == (status, answer or "http://testserver/api/x")


@pytest.mark.parametrize("url, answer", [
    ("/api/echo", {"from": "sub async /echo", "body": "[1, 2, 3]"}),
    ("/api/sum", {"from": "sub sync /sum", "sum": 6}),
])
def test_a_body_goes_to_the_mount_declared_before_the_route(pair: Pair, url: str, answer: dict) -> None:
    r = pair.check("POST", url, content=b"[1, 2, 3]", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()) == (200, answer)


def test_files_mount_declared_before_a_route_serves_its_files(pair: Pair) -> None:
    """(fastcore only: its copy of the app, in tests/apps/_ported, is another file.)"""
    r = pair.client.get("/files/fa_mount_order.py")
    assert r.status_code == 200 and b"from fastcore import " in r.content


def test_an_exception_in_a_mounted_app(pair: Pair) -> None:
    """A 500 that the middleware around the mount sees (in Starlette too: the mounted app's
    `ServerErrorMiddleware` sends it); fastcore only, as FastAPI's client re-raises it."""
    r = pair.client.get("/api/boom")
    assert (r.status_code, r.text) == (500, "Internal Server Error")
    assert r.headers.get("x-mw") == ("yes" if pair.client.get("/other").headers.get("x-mw") else None)


def test_background_tasks_of_the_mount_and_the_middleware_both_run(pair: Pair) -> None:
    """The mounted handler's task, and the one the middleware set on the mount's response
    (fastcore only: the log is the server's)."""
    r = pair.client.get("/api/bg")
    assert r.json() == {"from": "sub /bg"}
    want = ["handler", "middleware"] if r.headers.get("x-mw") else ["handler"]
    deadline = time.monotonic() + 10
    while (log := pair.client.get("/log").json()) != want and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log == want

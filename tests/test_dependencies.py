"""Dependencies (python/fastcore/dependencies/, handler.py): sub-dependencies, classes, caching,
yield dependencies and their cleanup, exceptions thrown into them, route and app-level
dependencies, overrides. tests/apps/fa_deps.py runs on FastAPI and on fastcore (tests/compat.py)
and every answer must be identical; the assertions are the expected answers on 3.13t too."""
from __future__ import annotations

import time

import pytest

KEY = {"x-key": "secret"}


def events(pair, expected: list[str]) -> list[str]:
    """What the app's dependencies recorded, once `expected` has all arrived (cleanup may run
    just after the response is sent), compared as sent by both servers."""
    deadline = time.monotonic() + 5
    while True:
        got = pair.client.get("/events", params={"flush": "false"}, headers=KEY).json()
        if len(got) >= len(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return pair.get("/events", headers=KEY).json()


def test_app_dependency_guards_every_route(fa_deps) -> None:
    r = fa_deps.get("/pager")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "x-key"]
    r = fa_deps.get("/pager", headers={"x-key": "wrong"})
    assert (r.status_code, r.json(), r.headers["x-why"]) == (403, {"detail": "bad key"}, "key")


def test_sub_dependencies(fa_deps) -> None:
    assert fa_deps.get("/pager", headers=KEY).json() == {"p": {"skip": 0, "limit": 10}, "a": {"page": 1}}
    assert fa_deps.get("/pager?skip=5&limit=3&page=2", headers=KEY).json() == {
        "p": {"skip": 5, "limit": 3}, "a": {"page": 2}}
    r = fa_deps.get("/pager?limit=101&page=x", headers=KEY)
    assert [e["loc"] for e in r.json()["detail"]] == [["query", "limit"], ["query", "page"]]
    assert fa_deps.get("/pager-async?skip=1", headers=KEY).json() == {"p": {"skip": 1, "limit": 10}, "key": "secret"}
    assert fa_deps.get("/nested?q=a", headers=KEY).json() == {"value": "a"}
    assert fa_deps.get("/nested?last=b", headers=KEY).json() == {"value": "b"}


def test_class_dependencies(fa_deps) -> None:
    assert fa_deps.get("/class?name=n&size=2", headers=KEY).json() == {"name": "n", "size": 2}
    assert fa_deps.get("/class-default", headers=KEY).json() == {"name": None, "size": 1}
    assert fa_deps.get("/class?size=big", headers=KEY).status_code == 422


def test_per_request_cache(fa_deps) -> None:
    fa_deps.get("/events", headers=KEY)
    assert fa_deps.get("/cache", headers=KEY).json()["same"] is True
    assert events(fa_deps, ["counter"]) == ["counter"]
    assert fa_deps.get("/no-cache", headers=KEY).json() == {"same": False}
    assert events(fa_deps, ["counter", "counter"]) == ["counter", "counter"]


def test_yield_dependencies_clean_up_in_reverse_order(fa_deps) -> None:
    fa_deps.get("/events", headers=KEY)
    assert fa_deps.get("/yield", headers=KEY).json() == {"resource": "async-over-sync-resource"}
    expected = ["sync:enter", "async:enter", "handler", "async:exit", "sync:exit"]
    assert events(fa_deps, expected) == expected
    assert fa_deps.get("/yield-sync", headers=KEY).json() == {"resource": "sync-resource"}
    assert events(fa_deps, ["sync:enter", "handler", "sync:exit"]) == ["sync:enter", "handler", "sync:exit"]


def test_handler_exceptions_reach_yield_dependencies(fa_deps) -> None:
    fa_deps.get("/events", headers=KEY)
    r = fa_deps.get("/yield/raise/value", headers=KEY)
    assert (r.status_code, r.json()) == (409, {"detail": "converted boom"})
    expected = ["sync:enter", "async:enter", "handler", "async:exit", "sync:saw:boom", "sync:exit"]
    assert events(fa_deps, expected) == expected
    r = fa_deps.get("/yield/raise/http", headers=KEY)
    assert (r.status_code, r.json()) == (418, {"detail": "teapot"})
    expected = ["sync:enter", "async:enter", "handler", "async:exit", "sync:saw-http", "sync:exit"]
    assert events(fa_deps, expected) == expected


def test_route_dependencies_run_and_validate(fa_deps) -> None:
    fa_deps.get("/events", headers=KEY)
    r = fa_deps.get("/route-deps", headers=KEY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "x"]
    assert fa_deps.get("/route-deps?x=1", headers=KEY).json() == {"ok": True}
    assert events(fa_deps, ["counter", "counter"]) == ["counter", "counter"]


@pytest.mark.parametrize("url", ["/errors-order/x", "/errors-order/1?q=1&x=2&limit=500", "/errors-order/1?q=a"])
def test_error_order_is_fastapis(fa_deps, url: str) -> None:
    """Dependencies' errors first, then the endpoint's by source: path, query, header."""
    r = fa_deps.get(url, headers=KEY)
    assert r.status_code == 422


def test_error_order_detail(fa_deps) -> None:
    r = fa_deps.get("/errors-order/x?limit=500", headers=KEY)
    assert [e["loc"] for e in r.json()["detail"]] == [
        ["query", "limit"], ["query", "x"], ["path", "n"], ["query", "q"], ["header", "h"]]


def test_dependency_overrides(fa_deps) -> None:
    assert fa_deps.get("/overridable", headers=KEY).json() == {"value": "original"}
    fa_deps.post("/admin/override?on=true", headers=KEY)
    try:
        assert fa_deps.get("/overridable", headers=KEY).json() == {"value": "overridden"}
    finally:
        fa_deps.post("/admin/override?on=false", headers=KEY)
    assert fa_deps.get("/overridable", headers=KEY).json() == {"value": "original"}


def test_background_tasks_run_after_the_response_then_yield_exits(fa_deps) -> None:
    """Tasks queued by a dependency and by the handler share one BackgroundTasks; they run after
    the response, before the yield dependencies exit (FastAPI sends the response, background
    included, inside the dependencies' scope)."""
    fa_deps.get("/events", headers=KEY)
    assert fa_deps.post("/tasks?tag=t1", headers=KEY).json() == {"tag": "t1"}
    expected = ["tasks-resource:enter", "task:t1", "task:handler", "tasks-resource:exit"]
    assert events(fa_deps, expected) == expected
    r = fa_deps.post("/tasks-async", headers=KEY)
    assert (r.status_code, r.json(), r.headers["x-queued"]) == (202, {"queued": 1}, "1")
    assert events(fa_deps, ["task:async"]) == ["task:async"]


def test_returned_response_keeps_its_own_background(fa_deps) -> None:
    """A Response returned with no background gets the injected tasks (FastAPI's rule)."""
    fa_deps.get("/events", headers=KEY)
    assert fa_deps.post("/tasks-explicit-response", headers=KEY).text == "explicit"
    assert events(fa_deps, ["task:dropped"]) == ["task:dropped"]


def test_function_scoped_yield_exits_before_the_response(fa_deps) -> None:
    """scope="function" exits when the handler returns, before the response and its tasks;
    the default ("request") after them."""
    fa_deps.get("/events", headers=KEY)
    assert fa_deps.get("/scopes", headers=KEY).json() == {"r": "r", "f": "f"}
    expected = ["request:enter", "function:enter", "handler", "function:exit", "task", "request:exit"]
    assert events(fa_deps, expected) == expected


def test_a_dependency_that_swallows_the_handlers_exception_is_a_500(fa_deps) -> None:
    """FastAPI raises FastAPIError there (a 500); fastcore answers 500 and logs why. Not sent
    to FastAPI: its TestClient re-raises server errors."""
    r = fa_deps.client.get("/swallowed", headers=KEY)
    assert (r.status_code, r.text) == (500, "Internal Server Error")
    assert "swallowed" in fa_deps.client.get("/events", headers=KEY).json()


def test_an_exception_in_cleanup_after_the_response_spares_the_response_and_server(fa_deps) -> None:
    """The response is already sent; the error is logged (not sent to FastAPI, whose TestClient
    re-raises it)."""
    client = fa_deps.client
    client.get("/events", headers=KEY)
    r = client.get("/failing-cleanup", headers=KEY)
    assert (r.status_code, r.json()) == (200, {"x": "x"})
    deadline = time.monotonic() + 5
    while client.get("/events", params={"flush": "false"}, headers=KEY).json() != ["cleanup:raising"]:
        assert time.monotonic() < deadline, "the cleanup never ran"
        time.sleep(0.02)
    client.get("/events", headers=KEY)
    assert fa_deps.get("/pager", headers=KEY).status_code == 200


@pytest.mark.parametrize("url", ["/shared-errors", "/shared-errors?x=1&y=2", "/shared-errors?x=a&y=b"])
def test_a_shared_dependency_is_solved_per_parent_as_fastapi_does(fa_deps, url: str) -> None:
    """Its parameters are validated under each parent (errors repeat, as in FastAPI); its call
    is cached."""
    r = fa_deps.get(url, headers=KEY)
    if "x=1" in url:
        assert r.json() == {"a": 1, "b": 3}
    else:
        assert r.status_code == 422


@pytest.mark.parametrize("url", ["/limited", "/limited-gen"])
def test_max_concurrency_limits_a_dependency(fa_deps, url: str) -> None:
    """Depends(max_concurrency=1): four requests at once on fastcore's two workers, and never
    two runs of the dependency at the same time."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    fa_deps.client.get("/limited/peak?reset=true", headers=KEY)
    base = str(fa_deps.client.base_url)

    def one(_: int) -> dict:
        with httpx.Client(base_url=base, timeout=15) as c:
            return c.get(url, headers=KEY).json()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, range(4)))
    assert all(a["v"].startswith("limited") for a in answers)
    assert fa_deps.client.get("/limited/peak?reset=true", headers=KEY).json() == {"peak": 1}

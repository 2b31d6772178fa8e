"""The request path's error handling (src/dispatch/serve.rs): the core calls the app's
`error_handler(exc, raw_request)` with the request, also for handlers that took no request (it
is built on error), and drives a coroutine it returns like a handler's."""
from __future__ import annotations

import httpx
import pytest

from .conftest import ServerProcess, serve_app


@pytest.fixture(scope="module")
def errors(tmp_path_factory: pytest.TempPathFactory):
    yield from serve_app(tmp_path_factory, "error_handler", "--threads", "2")


@pytest.fixture
def client(errors: ServerProcess):
    with errors.client() as c:
        yield c


@pytest.mark.parametrize("path, route, params, error", [
    ("/plain", "/plain", {}, "ValueError('no params')"),
    ("/items/7", "/items/{item_id:int}", {"item_id": 7}, "ValueError('item 7')"),
    ("/request/ann", "/request/{name:str}", {"name": "ann"}, "ValueError('name ann')"),
    ("/async/bob", "/async/{name:str}", {"name": "bob"}, "ValueError('async bob')"),
])
def test_error_handler_gets_the_request(client: httpx.Client, path: str, route: str, params: dict, error: str) -> None:
    r = client.get(path, params={"q": "1"}, headers={"x-probe": "here"})
    assert r.status_code == 418
    assert r.json() == {"error": error, "type": "RawRequest", "method": "GET", "path": path, "query": "q=1",
                        "route": route, "path_params": params, "header": "here"}


@pytest.mark.parametrize("path, error", [("/teapot/tea", "tea"), ("/teapot-sync", "sync")])
def test_async_error_handler_is_driven(client: httpx.Client, path: str, error: str) -> None:
    """The error handler returns a coroutine that suspends (fastcore.sleep): the core drives it."""
    r = client.get(path)
    assert r.status_code == 418
    assert r.json() == {"async": True, "error": error, "path": path, "body": ""}


def test_async_error_handler_reads_the_body(client: httpx.Client) -> None:
    r = client.post("/teapot-body", content=b"payload")
    assert r.status_code == 418
    assert r.json()["body"] == "payload"


def test_failing_async_error_handler_is_a_plain_500(client: httpx.Client, errors: ServerProcess) -> None:
    r = client.get("/broken")
    assert r.status_code == 500
    assert r.text == "Internal Server Error"
    assert "Traceback" not in r.text
    errors.wait_for_log("the error handler itself failed")
    assert client.get("/plain").status_code == 418


def test_error_handler_result_is_converted_like_a_handler_s(client: httpx.Client) -> None:
    r = client.get("/lookup")
    assert r.status_code == 200 and r.json() == "not a response"


def test_unsendable_error_handler_result_is_a_500(client: httpx.Client) -> None:
    r = client.get("/unsendable-error-result")
    assert r.status_code == 500
    assert r.text == "Internal Server Error"


def test_unsendable_handler_result_goes_to_the_error_handler(client: httpx.Client) -> None:
    r = client.get("/unsendable-result")
    assert r.status_code == 418
    assert r.json()["error"].startswith("TypeError('invalid header name")

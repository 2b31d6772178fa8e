"""Response.background and fastcore.background (python/fastcore/background.py,
src/response/background.rs): tasks run after the response has been sent, on the worker, for
sync and async handlers; a failing task is logged and the server carries on."""
from __future__ import annotations

import socket

import httpx
import pytest

from .conftest import ServerProcess, serve_app, wait_until


@pytest.fixture(scope="module")
def bg(tmp_path_factory: pytest.TempPathFactory):
    yield from serve_app(tmp_path_factory, "background", "--threads", "1")


@pytest.fixture
def client(bg: ServerProcess):
    with bg.client() as c:
        yield c


def finished(client: httpx.Client, name: str) -> float | None:
    return client.get(f"/seen/{name}").json()["finished"]


@pytest.mark.parametrize("handler", ["sync-handler", "async-handler"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_task_runs_after_the_response(client: httpx.Client, handler: str, kind: str) -> None:
    """The task waits until it is released: the response arrives while it waits (a response
    that waited for its task would never come), and the task runs on once released."""
    name = f"{handler}-{kind}"
    r = client.get(f"/{handler}/{kind}/{name}", timeout=30)
    assert r.status_code == 200 and r.text == "sent"
    assert finished(client, name) is None, "the task finished before it was released"
    client.post(f"/release/{name}")
    wait_until(lambda: finished(client, name), 10, f"background task {name}")


def test_tasks_run_in_order(client: httpx.Client) -> None:
    assert client.get("/ordered/k").text == "sent"
    wait_until(lambda: len(client.get("/order/k").json()) == 6, 10, "six background tasks")
    assert client.get("/order/k").json() == ["0", "1", "2", "3", "4", "5"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_failing_task_is_logged_and_the_server_carries_on(client: httpx.Client, bg: ServerProcess,
                                                          kind: str) -> None:
    r = client.get(f"/fail/{kind}/f-{kind}")
    assert r.status_code == 200 and r.text == "sent"
    log = bg.wait_for_log(f"{kind} background failure f-{kind}")
    assert "Exception in background task" in log and "Traceback" in log
    assert client.get("/seen/x").status_code == 200
    r = client.get("/async-handler/async/after-failure")
    assert r.status_code == 200
    client.post("/release/after-failure")
    wait_until(lambda: finished(client, "after-failure"), 10, "a task after a failing one")


def test_sync_task_does_not_block_the_worker(client: httpx.Client) -> None:
    """One worker thread; the sync task waits in the thread pool until released, and the worker
    answers meanwhile (were the task on the worker, these requests would never be answered)."""
    assert client.get("/blocking/blocker", timeout=30).text == "sent"
    assert finished(client, "blocker") is None
    client.post("/release/blocker", timeout=30)
    wait_until(lambda: finished(client, "blocker"), 10, "the blocking task")


def test_task_runs_when_the_client_goes_away(bg: ServerProcess, client: httpx.Client) -> None:
    """A 64 MiB body the client stops reading after the head: the task still runs. (Like
    uvicorn's, a whole body counts as sent once it is handed to the connection's writer, so the
    task may start while the kernel still holds part of it.)"""
    with socket.create_connection((bg.host, bg.port)) as s:
        s.sendall(b"GET /big/gone HTTP/1.1\r\nhost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
    wait_until(lambda: finished(client, "gone"), 10, "the task of an abandoned response")
    assert client.get("/seen/x").status_code == 200


def seen_value(client: httpx.Client, name: str) -> object:
    return client.get(f"/seen-value/{name}").json()["value"]


@pytest.mark.parametrize("path, name, expected", [
    ("/context/sync/c1", "c1", "async-c1"),
    ("/context/async/c2", "c2", "async-c2"),
    ("/context-sync/c3", "c3", "sync-c3"),
    ("/context-dep/c4", "c4", "from-dependency"),
])
def test_task_runs_in_the_handler_s_context(client: httpx.Client, bg: ServerProcess, path: str, name: str,
                                            expected: str) -> None:
    """A contextvar the handler (or a yield dependency) set is what the background task sees, as
    in FastAPI, where it runs in the handler's task; and a dependency's `reset(token)` after the
    task works, which needs the same context."""
    assert client.get(path).text == "sent"
    wait_until(lambda: seen_value(client, name) != "<unset>", 10, f"background task {name}")
    assert seen_value(client, name) == expected
    if name == "c4":
        wait_until(lambda: seen_value(client, "dependency-exit") == "clean", 10, "the dependency's exit")
        assert "ValueError" not in bg.log()

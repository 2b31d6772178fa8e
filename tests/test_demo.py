"""The demo service `make demo` serves (examples/notes/), end to end over a real server: API-key
failures as FastAPI answers them, CRUD on SQLite through `to_thread`, the Server-Sent Events
stream, the `fastcore.http` fan-out, the Jinja2 page and its static files, the docs."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from .browser import Browser
from .conftest import ServerFactory, ServerProcess, fastcore_argv

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
KEY = {"x-api-key": "demo-key"}
OTHER = {"x-api-key": "other-key"}
KEYS = "demo-key:demo,other-key:other"


def launch(factory: ServerFactory, db: str, *args: str, **env: str) -> ServerProcess:
    saved = dict(os.environ)
    os.environ.update({"NOTES_DB": db, "NOTES_API_KEYS": KEYS, **env})
    try:
        return factory.launch(fastcore_argv("examples.notes.app:app", *args))
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("demo")
    factory = ServerFactory(tmp)
    yield launch(factory, str(tmp / "notes.db"), "--threads", "2")
    problems = factory.close()
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def client(demo: ServerProcess) -> Iterator[httpx.Client]:
    with demo.client() as c:
        yield c


# -- authentication ------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path", [("GET", "/api/notes"), ("POST", "/api/notes"), ("GET", "/api/notes/1"),
                                          ("DELETE", "/api/notes/1"), ("GET", "/api/stats"),
                                          ("GET", "/api/overview"), ("GET", "/api/events")])
def test_missing_key_is_401_as_fastapi(client: httpx.Client, method: str, path: str) -> None:
    r = client.request(method, path)
    assert r.status_code == 401
    assert r.json() == {"detail": "Not authenticated"}
    assert r.headers["www-authenticate"] == "APIKey"


@pytest.mark.parametrize("path", ["/api/notes", "/api/stats", "/api/overview", "/api/events"])
def test_unknown_key_is_403(client: httpx.Client, path: str) -> None:
    r = client.get(path, headers={"x-api-key": "wrong"})
    assert r.status_code == 403 and r.json() == {"detail": "Invalid API key"}


def test_health_needs_no_key(client: httpx.Client) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


# -- CRUD ----------------------------------------------------------------------------------------
def test_crud(client: httpx.Client) -> None:
    r = client.post("/api/notes", headers=KEY, json={"title": "Buy milk", "body": "2 litres", "tags": ["home"]})
    assert r.status_code == 201
    note = r.json()
    assert {k: note[k] for k in ("title", "body", "tags", "done")} == {
        "title": "Buy milk", "body": "2 litres", "tags": ["home"], "done": False}
    nid = note["id"]
    assert client.get(f"/api/notes/{nid}", headers=KEY).json() == note

    r = client.patch(f"/api/notes/{nid}", headers=KEY, json={"done": True, "tags": ["home", "today"]})
    assert r.status_code == 200
    assert r.json()["done"] is True and r.json()["tags"] == ["home", "today"] and r.json()["title"] == "Buy milk"
    assert r.json()["updated_at"] >= note["updated_at"]

    assert [n["id"] for n in client.get("/api/notes", headers=KEY, params={"tag": "today"}).json()] == [nid]
    assert [n["id"] for n in client.get("/api/notes", headers=KEY, params={"q": "MILK"}).json()] == [nid]
    assert client.get("/api/notes", headers=KEY, params={"q": "no such words"}).json() == []

    r = client.delete(f"/api/notes/{nid}", headers=KEY)
    assert r.status_code == 204 and r.content == b""
    r = client.get(f"/api/notes/{nid}", headers=KEY)
    assert r.status_code == 404 and r.json() == {"detail": f"Note {nid} not found"}
    assert client.delete(f"/api/notes/{nid}", headers=KEY).status_code == 404
    assert client.patch(f"/api/notes/{nid}", headers=KEY, json={"done": True}).status_code == 404


def test_notes_belong_to_their_owner(client: httpx.Client) -> None:
    nid = client.post("/api/notes", headers=KEY, json={"title": "mine"}).json()["id"]
    assert client.get(f"/api/notes/{nid}", headers=OTHER).status_code == 404
    assert nid not in [n["id"] for n in client.get("/api/notes", headers=OTHER).json()]
    assert client.delete(f"/api/notes/{nid}", headers=OTHER).status_code == 404
    assert client.get(f"/api/notes/{nid}", headers=KEY).status_code == 200


def test_stats(client: httpx.Client) -> None:
    before = client.get("/api/stats", headers=OTHER).json()
    client.post("/api/notes", headers=OTHER, json={"title": "a", "tags": ["x"]})
    nid = client.post("/api/notes", headers=OTHER, json={"title": "b", "tags": ["x", "y"]}).json()["id"]
    client.patch(f"/api/notes/{nid}", headers=OTHER, json={"done": True})
    after = client.get("/api/stats", headers=OTHER).json()
    assert after["total"] == before["total"] + 2 and after["done"] == before["done"] + 1
    assert after["open"] == after["total"] - after["done"]
    assert after["top_tags"]["x"] == before["top_tags"].get("x", 0) + 2


@pytest.mark.parametrize("body, where", [
    ({"title": ""}, ["body", "title"]),
    ({"body": "no title"}, ["body", "title"]),
    ({"title": "t", "tags": ["ok", ""]}, ["body", "tags", 1]),
    ({"title": "x" * 201}, ["body", "title"]),
])
def test_invalid_notes_are_422(client: httpx.Client, body: dict, where: list) -> None:
    r = client.post("/api/notes", headers=KEY, json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == where


def test_bad_parameters_are_422(client: httpx.Client) -> None:
    assert client.get("/api/notes/abc", headers=KEY).status_code == 422
    assert client.get("/api/notes", headers=KEY, params={"limit": 0}).status_code == 422
    r = client.patch("/api/notes/1", headers=KEY, json={"title": None})
    assert r.status_code == 422 and r.json() == {"detail": "Fields cannot be set to null"}


# -- Server-Sent Events --------------------------------------------------------------------------
def read_event(lines: Iterator[str]) -> tuple[str, dict]:
    """The next event (skipping comments): its name and its JSON data."""
    kind, data = "", ""
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and kind:
            return kind, json.loads(data)
    raise AssertionError("the stream ended")


def test_events_stream_changes(demo: ServerProcess, client: httpx.Client) -> None:
    with demo.client(timeout=20) as listener, listener.stream("GET", "/api/events", headers=KEY) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["cache-control"] == "no-cache"
        lines = stream.iter_lines()
        assert read_event(lines) == ("ready", {"owner": "demo"})  # subscribed from here on

        client.post("/api/notes", headers=OTHER, json={"title": "someone else's"})  # not this owner's
        note = client.post("/api/notes", headers=KEY, json={"title": "live"}).json()
        client.patch(f"/api/notes/{note['id']}", headers=KEY, json={"done": True})
        client.delete(f"/api/notes/{note['id']}", headers=KEY)

        assert read_event(lines) == ("created", note)
        kind, updated = read_event(lines)
        assert kind == "updated" and updated["id"] == note["id"] and updated["done"] is True
        assert read_event(lines) == ("deleted", {"id": note["id"]})


def test_events_key_in_the_query_and_heartbeat(demo: ServerProcess) -> None:
    with demo.client(timeout=20) as listener:
        with listener.stream("GET", "/api/events", params={"api_key": "demo-key", "heartbeat": 0.2}) as stream:
            lines = stream.iter_lines()
            assert read_event(lines)[0] == "ready"
            assert next(line for line in lines if line) == ": keep-alive"


def test_closed_streams_unsubscribe(demo: ServerProcess, client: httpx.Client) -> None:
    def subscribers() -> int:
        return client.get("/api/health").json()["subscribers"]

    base = subscribers()
    with demo.client(timeout=20) as listener, listener.stream("GET", "/api/events", headers=KEY) as stream:
        lines = stream.iter_lines()  # kept: dropping the iterator would close the connection
        read_event(lines)
        assert subscribers() == base + 1
    from .conftest import wait_until

    # The client went away: the stream's next heartbeat or event finds it gone at the latest.
    client.post("/api/notes", headers=KEY, json={"title": "wakes the stream"})
    wait_until(lambda: subscribers() == base, 20, "the closed stream to unsubscribe")


# -- the fan-out ---------------------------------------------------------------------------------
def test_overview_fans_out_to_the_service(client: httpx.Client) -> None:
    client.post("/api/notes", headers=KEY, json={"title": "for the overview"})
    r = client.get("/api/overview", headers=KEY)
    assert r.status_code == 200
    body = r.json()
    assert body["owner"] == "demo" and body["upstream"] == str(client.base_url).rstrip("/")
    sources = body["sources"]
    assert set(sources) == {"health", "stats", "latest"}
    assert all(s["ok"] and s["status"] == 200 for s in sources.values())
    assert sources["health"]["body"]["status"] == "ok"
    assert sources["stats"]["body"] == client.get("/api/stats", headers=KEY).json()
    assert sources["latest"]["body"] == client.get("/api/notes", headers=KEY, params={"limit": 3}).json()


def test_overview_reports_an_unreachable_upstream(server: ServerFactory, tmp_path) -> None:
    from .conftest import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    srv = launch(server, str(tmp_path / "notes.db"), NOTES_UPSTREAM=dead)
    with srv.client() as c:
        body = c.get("/api/overview", headers=KEY).json()
    assert body["upstream"] == dead
    assert all(s["ok"] is False and s["error"].startswith("ConnectError") for s in body["sources"].values())


# -- the page, its assets, the docs -------------------------------------------------------------
def test_page_and_its_static_files(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    base = str(client.base_url).rstrip("/")
    assert f'href="{base}/static/style.css"' in r.text
    assert f'src="{base}/static/app.js"' in r.text
    assert f'data-api="{base}/api"' in r.text
    assert 'value="demo-key"' in r.text
    js = client.get("/static/app.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in js.text and "/overview" in js.text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/nothing.css").status_code == 404
    assert client.get("/static/%2E%2E/app.py").status_code == 404


def test_page_behind_a_root_path(server: ServerFactory, tmp_path) -> None:
    """Under `--root-path /notes` (a proxy strips it), the page's links and API base carry it."""
    srv = launch(server, str(tmp_path / "notes.db"), "--root-path", "/notes")
    with srv.client() as c:
        page = c.get("/").text
        base = str(c.base_url).rstrip("/") + "/notes"
        assert f'href="{base}/static/style.css"' in page and f'data-api="{base}/api"' in page
        assert f'href="{base}/docs"' in page
        assert c.get("/openapi.json").json()["servers"] == [{"url": "/notes"}]


def test_docs_describe_the_api(client: httpx.Client) -> None:
    assert client.get("/docs").status_code == 200
    doc = client.get("/openapi.json").json()
    assert {"/api/notes", "/api/notes/{note_id}", "/api/stats", "/api/overview", "/api/events",
            "/api/health"} <= set(doc["paths"])
    assert "/" not in doc["paths"] and "/static/{path}" not in doc["paths"]
    assert doc["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "`demo-key` unless NOTES_API_KEYS says otherwise"}
    assert set(doc["paths"]["/api/notes"]) == {"get", "post"}
    assert "Note" in doc["components"]["schemas"] and "NoteIn" in doc["components"]["schemas"]


def test_page_works_in_a_browser(demo: ServerProcess, client: httpx.Client, browser: Browser) -> None:
    """The page's own JavaScript in headless chromium: it goes live on the event stream, adds a
    note through the form, lists it, hears of it, and shows the fan-out's answer."""
    browser.open(f"{demo.base_url}/")
    browser.wait_for("document.querySelector('#live')?.textContent === 'live'")
    title = "from the browser"
    browser.evaluate(f"""(() => {{
        const form = document.querySelector('#new');
        form.title.value = {json.dumps(title)}; form.tags.value = 'ui, test';
        form.requestSubmit();
    }})()""")
    browser.wait_for(f"[...document.querySelectorAll('#notes .title')].some(e => e.textContent === {json.dumps(title)})")
    browser.wait_for(f"document.querySelector('#events').textContent.includes({json.dumps(title)})")
    note = next(n for n in client.get("/api/notes", headers=KEY).json() if n["title"] == title)
    assert note["tags"] == ["ui", "test"]

    client.delete(f"/api/notes/{note['id']}", headers=KEY)  # another client's change reaches the page
    browser.wait_for(f"!document.querySelector('#notes li[data-id=\"{note['id']}\"]')")

    browser.evaluate("document.querySelector('#refresh').click()")
    overview = json.loads(browser.wait_for("document.querySelector('#overview').textContent"))
    assert overview["owner"] == "demo" and all(s["ok"] for s in overview["sources"].values())
    assert browser.evaluate("document.querySelector('#error').hidden") is True
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(str(ARTIFACTS / "demo.png"))

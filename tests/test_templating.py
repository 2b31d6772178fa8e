"""Jinja2 templates (python/fastcore/templating.py), compared with FastAPI's Jinja2Templates
(tests/compat.py): rendered pages, status, headers and media type, `url_for` in templates,
context processors, the response's `template` and `context`; jinja2 on 3.13t keeps the GIL off."""
from __future__ import annotations

import subprocess
import sys
from typing import Iterator

import jinja2
import pytest

from fastcore import Request

from .compat import Pair, serve_pair
from .conftest import FREE_THREADED_BUILD, ServerFactory

HOST = {"host": "testserver"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp("templating")), "templating")


def test_page_with_inheritance_url_for_and_escaping(app: Pair) -> None:
    r = app.get("/pages/intro", headers=HOST)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>intro - Notes</title>" in r.text
    assert '<a href="http://testserver/pages/other">other</a>' in r.text
    assert "<li>&lt;b&gt;</li>" in r.text  # autoescaped, as select_autoescape() does for .html


def test_status_and_headers(app: Pair) -> None:
    r = app.get("/created", headers=HOST)
    assert r.status_code == 201 and r.headers["x-page"] == "created"


def test_env_and_media_type(app: Pair) -> None:
    r = app.get("/text", headers={"host": "example.com:8080"})
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "hello ann at http://example.com:8080/pages/ann"


def test_request_and_context_processor_in_every_context(app: Pair) -> None:
    r = app.get("/no-context", headers=HOST)
    assert "<title>Notes</title>" in r.text and "<p>GET /no-context</p>" in r.text


def test_missing_template_is_a_server_error(app: Pair) -> None:
    r = app.client.get("/missing-template")
    assert r.status_code == 500 and r.text == "Internal Server Error"


def test_response_keeps_template_and_context() -> None:
    from fastcore import FastAPI
    from fastcore.templating import Jinja2Templates
    from fastcore.testclient import TestClient

    templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.DictLoader({"t.html": "{{ x }}"})))
    seen = []
    app = FastAPI()

    def endpoint(request: Request):
        resp = templates.TemplateResponse(request, "t.html", {"x": 1})
        seen.append(resp)
        return resp

    app.add_api_route("/t", endpoint)
    with TestClient(app) as client:
        assert client.get("/t").text == "1"
    assert seen[0].template.name == "t.html"
    assert seen[0].context["x"] == 1 and isinstance(seen[0].context["request"], Request)


def test_request_comes_first() -> None:
    from fastcore.templating import Jinja2Templates

    templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.DictLoader({"t.html": ""})))
    with pytest.raises(TypeError, match="request first"):
        templates.TemplateResponse("t.html", {"request": None})  # type: ignore[arg-type]


def test_directory_or_env() -> None:
    from fastcore.templating import Jinja2Templates

    with pytest.raises(AssertionError):
        Jinja2Templates()


@pytest.mark.skipif(not FREE_THREADED_BUILD, reason="the GIL question exists only on free-threaded builds")
def test_jinja2_keeps_the_gil_off() -> None:
    """MarkupSafe's C speedups declare free-threading support (3.0.3): importing and rendering
    leaves the GIL disabled. In a fresh interpreter, since other tests load modules that turn it on."""
    code = ("import sys, jinja2, markupsafe._speedups, fastcore.templating\n"
            "jinja2.Template('{{ x }}', autoescape=True).render(x='<')\n"
            "print(sys._is_gil_enabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr

"""Jinja2 templates, written with FastAPI's imports (tests/test_templating.py compares the pages
with FastAPI's): `TemplateResponse` with context, status, headers and media type, `url_for` in
a template, context processors, autoescaping, template inheritance, a template from an `env`."""
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
# The `apps/_ported` copy of this module lives one folder down; the templates stay here.
TEMPLATES = HERE / "templates" if (HERE / "templates").is_dir() else HERE.parent / "templates"


def site(request: Request) -> dict:
    return {"site_name": "Notes", "method": request.method}


templates = Jinja2Templates(directory=TEMPLATES, context_processors=[site])
inline = Jinja2Templates(env=jinja2.Environment(loader=jinja2.DictLoader(
    {"hello.txt": "hello {{ name }} at {{ url_for('page', name=name) }}"})))

app = FastAPI()


@app.get("/pages/{name}", response_class=HTMLResponse)
def page(request: Request, name: str):
    return templates.TemplateResponse(request, "page.html", {"name": name, "tags": ["a", "<b>"]})


@app.get("/created")
def created(request: Request):
    return templates.TemplateResponse(request, "page.html", {"name": "new", "tags": []}, status_code=201,
                                      headers={"x-page": "created"})


@app.get("/text")
async def text(request: Request):
    return inline.TemplateResponse(request, "hello.txt", {"name": "ann"}, media_type="text/plain")


@app.get("/no-context")
def no_context(request: Request):
    return templates.TemplateResponse(request, "base.html")


@app.get("/missing-template")
def missing_template(request: Request):
    return templates.TemplateResponse(request, "nope.html")

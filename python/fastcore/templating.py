"""Jinja2 templates, Starlette's `Jinja2Templates` (FastAPI's `fastapi.templating`).

    templates = Jinja2Templates(directory="templates")

    @app.get("/notes/{note_id}", response_class=HTMLResponse)
    def page(request: Request, note_id: int):
        return templates.TemplateResponse(request, "note.html", {"note_id": note_id})

Templates get `request` and `url_for(name, **path_params)` (the request's `url_for`: an
absolute URL); `context_processors` add to every context. The response is an `HTMLResponse`
with the `template` and `context` it was rendered from. jinja2 is an optional dependency, as in
Starlette: importing this module without it raises `ImportError`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any

from .background import BackgroundTask
from .datastructures import URL
from .requests import Request
from .responses import HTMLResponse

try:
    import jinja2
except ImportError as _import_error:  # pragma: no cover - exercised only without jinja2
    raise ImportError("jinja2 must be installed to use Jinja2Templates") from _import_error


class _TemplateResponse(HTMLResponse):
    """An HTML response rendered from `template` with `context` (both kept, for tests)."""

    def __init__(
        self,
        template: Any,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)


class Jinja2Templates:
    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]] | None = None,
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        assert bool(directory) ^ bool(env), "either 'directory' or 'env' arguments must be passed"
        self.context_processors = context_processors or []
        if directory is not None:
            self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory),
                                          autoescape=jinja2.select_autoescape())
        else:
            assert env is not None
            self.env = env
        self.env.globals.setdefault("url_for", _url_for)

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(  # noqa: N802 - Starlette's name
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        """Renders template `name` with `context` (plus `request` and the context processors'
        values) into an HTML response."""
        if not isinstance(request, Request):
            # Starlette 1.x dropped the old `TemplateResponse(name, {"request": request})` form.
            raise TypeError(f"TemplateResponse() takes the request first, then the template name; got {request!r}")
        context = context or {}
        context.setdefault("request", request)
        for processor in self.context_processors:
            context.update(processor(request))
        return _TemplateResponse(self.get_template(name), context, status_code=status_code, headers=headers,
                                 media_type=media_type, background=background)


@jinja2.pass_context
def _url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> URL:
    request: Request = context["request"]
    return request.url_for(name, **path_params)

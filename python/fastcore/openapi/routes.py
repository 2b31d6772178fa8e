"""The routes an app serves its own description at, added by `FastCore.setup()` outside the
app's `dependencies=` and hidden from the document (Starlette's `add_route` in FastAPI):

- `openapi_url`: the JSON document. Each request calls `app.openapi()` (FastAPI's override
  point: a replacement returns its own cached dict) and re-encodes only when that returns a
  different object than last time.
- `docs_url` (Swagger UI), `swagger_ui_oauth2_redirect_url`, `redoc_url`: pages built once per
  root path (the server's `--root-path` or the app's `root_path=`).
- `ASSETS_PREFIX/<versions>/<file>`: the shipped JavaScript, CSS and icon, read once, with the
  versions in the URL and a year-long immutable `Cache-Control`.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..requests import Request
from ..responses import JSONResponse, Response
from . import docs

log = logging.getLogger("fastcore.openapi")
_CACHE_FOREVER = "public, max-age=31536000, immutable"


class _OpenAPIEndpoint:
    """The document for each root path requests come with (FastAPI adds `{"url": root_path}`
    to `servers` when `root_path_in_servers`), encoded once per root path and schema object."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.source: Any = None
        self.bodies: dict[str, bytes] = {}

    def __call__(self, request: Request) -> Response:
        schema = self.app.openapi()
        if schema is not self.source:
            self.bodies = {}
            self.source = schema
        root_path = request.root_path.rstrip("/")
        body = self.bodies.get(root_path)
        if body is None:
            served = schema
            if root_path and self.app.root_path_in_servers:
                if root_path not in {s.get("url") for s in schema.get("servers", [])}:
                    served = dict(schema)
                    served["servers"] = [{"url": root_path}, *schema.get("servers", [])]
            body = self.bodies[root_path] = JSONResponse(served).body
        return Response(body, media_type="application/json")


def _per_root(build: Callable[[str], Response]) -> Callable[[Request], Response]:
    """An endpoint answering with the page `build(root_path)` makes, built once per root path."""
    made: dict[str, tuple[bytes, str]] = {}

    def endpoint(request: Request) -> Response:
        root = request.root_path.rstrip("/")
        page = made.get(root)
        if page is None:
            built = build(root)
            page = made[root] = (built.body, built.media_type or "text/html")
        return Response(page[0], media_type=page[1])

    return endpoint


def _asset(name: str, media_type: str) -> Callable[[Request], Response]:
    data: list[bytes] = []

    def endpoint(request: Request) -> Response:
        if not data:
            try:
                data.append((docs.STATIC / name).read_bytes())
            except OSError:
                log.error("docs asset %s is missing: run ci/docs_assets.sh (or install a wheel)", name)
                return Response(b"Not Found", status_code=404, media_type="text/plain")
        return Response(data[0], media_type=media_type, headers={"cache-control": _CACHE_FOREVER})

    return endpoint


def add_plain_route(app: Any, path: str, endpoint: Any) -> None:
    from ..routing import APIRoute

    app.router.add_route_object(APIRoute(path, endpoint, include_in_schema=False))


def add_docs_routes(app: Any) -> None:
    if not app.openapi_url:
        return
    api = _OpenAPIEndpoint(app)

    def openapi(request: Request) -> Response:
        return api(request)

    add_plain_route(app, app.openapi_url, openapi)
    if app.docs_url:
        redirect = app.swagger_ui_oauth2_redirect_url
        add_plain_route(app, app.docs_url, _per_root(lambda root: docs.get_swagger_ui_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=docs.asset_url("swagger-ui-bundle.js", root),
            swagger_css_url=docs.asset_url("swagger-ui.css", root),
            swagger_favicon_url=docs.asset_url("favicon-32x32.png", root),
            oauth2_redirect_url=root + redirect if redirect else None,
            init_oauth=app.swagger_ui_init_oauth, swagger_ui_parameters=app.swagger_ui_parameters)))
        if redirect:
            add_plain_route(app, redirect, _per_root(lambda root: docs.get_swagger_ui_oauth2_redirect_html()))
    if app.redoc_url:
        add_plain_route(app, app.redoc_url, _per_root(lambda root: docs.get_redoc_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - ReDoc",
            redoc_js_url=docs.asset_url("redoc.standalone.js", root),
            redoc_favicon_url=docs.asset_url("favicon-32x32.png", root))))
    if app.docs_url or app.redoc_url:
        version = docs.assets_version()
        for name, media_type in docs.ASSETS.items():
            add_plain_route(app, f"{docs.ASSETS_PREFIX}/{version}/{name}", _asset(name, media_type))

"""The routes an app serves its own description at: `openapi_url` (the JSON document) and,
later in this package, the docs pages. Added by `FastCore.setup()`, hidden from the document.

The document is encoded once: each request calls `app.openapi()` (FastAPI's override point:
a replacement returns its own cached dict) and re-encodes only when that returns a different
object than last time.
"""
from __future__ import annotations

from typing import Any

from ..requests import Request
from ..responses import JSONResponse, Response


class _OpenAPIEndpoint:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.source: Any = None
        self.body = b""

    def __call__(self, request: Request) -> Response:
        schema = self.app.openapi()
        if schema is not self.source:
            root_path = (self.app.root_path or "").rstrip("/")
            served = schema
            if root_path and self.app.root_path_in_servers:
                if root_path not in {s.get("url") for s in schema.get("servers", [])}:
                    served = dict(schema)
                    served["servers"] = [{"url": root_path}, *schema.get("servers", [])]
            self.body = JSONResponse(served).body
            self.source = schema
        return Response(self.body, media_type="application/json")


def add_docs_routes(app: Any) -> None:
    if not app.openapi_url:
        return
    endpoint = _OpenAPIEndpoint(app)

    def openapi(request: Request) -> Response:
        return endpoint(request)

    add_plain_route(app, app.openapi_url, openapi)


def add_plain_route(app: Any, path: str, endpoint: Any) -> None:
    """A route outside the app's `dependencies=` and hidden from the document, as Starlette's
    `add_route` gives FastAPI's docs routes."""
    from ..routing import APIRoute

    app.router.add_route_object(APIRoute(path, endpoint, include_in_schema=False))

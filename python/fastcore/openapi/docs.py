"""The docs pages: Swagger UI (`/docs`, with its OAuth2 redirect page) and ReDoc (`/redoc`).

FastAPI's functions with FastAPI's keywords, but the JavaScript, CSS and icon default to copies
shipped inside the package (`static/`, fetched from the npm registry by `ci/docs_assets.sh` at
build time: swagger-ui-dist and redoc, pinned and checksummed), served by the app itself under
`ASSETS_PREFIX`, so the pages work without a CDN. ReDoc's Google Fonts link is off by default
for the same reason.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..encoders import jsonable_encoder
from ..responses import HTMLResponse

STATIC = Path(__file__).resolve().parent / "static"
ASSETS_PREFIX = "/_fastcore/docs"
# name -> content type; the URL carries the pinned versions, so the files are cached for good.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}
swagger_ui_default_parameters: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}


def assets_version() -> str:
    """A URL segment naming the shipped versions ("swagger-ui-dist-5.35.0_redoc-2.5.2")."""
    try:
        text = (STATIC / "VERSIONS").read_text().strip()
    except OSError:
        return "missing"
    return "_".join(part.strip().replace(" ", "-") for part in text.split(","))


def asset_url(name: str, root_path: str = "") -> str:
    return f"{root_path}{ASSETS_PREFIX}/{assets_version()}/{name}"


def _html_safe_json(value: Any) -> str:
    """JSON that cannot close the `<script>` it sits in."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str | None = None,
    swagger_css_url: str | None = None,
    swagger_favicon_url: str | None = None,
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page for `openapi_url` (FastAPI's page, local assets by default)."""
    swagger_js_url = swagger_js_url or asset_url("swagger-ui-bundle.js")
    swagger_css_url = swagger_css_url or asset_url("swagger-ui.css")
    swagger_favicon_url = swagger_favicon_url or asset_url("favicon-32x32.png")
    parameters = {**swagger_ui_default_parameters, **(swagger_ui_parameters or {})}
    html = f"""
    <!DOCTYPE html>
    <html>
    <head>
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link type="text/css" rel="stylesheet" href="{swagger_css_url}">
    <link rel="shortcut icon" href="{swagger_favicon_url}">
    <title>{title}</title>
    </head>
    <body>
    <div id="swagger-ui">
    </div>
    <script src="{swagger_js_url}"></script>
    <!-- `SwaggerUIBundle` is now available on the page -->
    <script>
    const ui = SwaggerUIBundle({{
        url: '{openapi_url}',
    """
    for key, value in parameters.items():
        html += f"{_html_safe_json(key)}: {_html_safe_json(jsonable_encoder(value))},\n"
    if oauth2_redirect_url:
        html += f"oauth2RedirectUrl: window.location.origin + '{oauth2_redirect_url}',"
    html += """
    presets: [
        SwaggerUIBundle.presets.apis,
        SwaggerUIBundle.SwaggerUIStandalonePreset
        ],
    })"""
    if init_oauth:
        html += f"""
        ui.initOAuth({_html_safe_json(jsonable_encoder(init_oauth))})
        """
    html += """
    </script>
    </body>
    </html>
    """
    return HTMLResponse(html)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str | None = None,
    redoc_favicon_url: str | None = None,
    with_google_fonts: bool = False,
) -> HTMLResponse:
    """The ReDoc page for `openapi_url` (FastAPI's page, local assets, no Google Fonts by default)."""
    redoc_js_url = redoc_js_url or asset_url("redoc.standalone.js")
    redoc_favicon_url = redoc_favicon_url or asset_url("favicon-32x32.png")
    html = f"""
    <!DOCTYPE html>
    <html>
    <head>
    <title>{title}</title>
    <!-- needed for adaptive design -->
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    """
    if with_google_fonts:
        html += """
    <link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700" rel="stylesheet">
    """
    html += f"""
    <link rel="shortcut icon" href="{redoc_favicon_url}">
    <!--
    ReDoc doesn't change outer page styles
    -->
    <style>
      body {{
        margin: 0;
        padding: 0;
      }}
    </style>
    </head>
    <body>
    <noscript>
        ReDoc requires Javascript to function. Please enable it to browse the documentation.
    </noscript>
    <redoc spec-url="{openapi_url}"></redoc>
    <script src="{redoc_js_url}"> </script>
    </body>
    </html>
    """
    return HTMLResponse(html)


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The page an OAuth2 provider sends the browser back to: swagger-ui-dist's own
    `oauth2-redirect.html`, with its script inlined (one request, no relative URL to resolve)."""
    script = (STATIC / "oauth2-redirect.js").read_text(encoding="utf-8")
    html = ('<!doctype html>\n<html lang="en-US">\n<head>\n    <title>Swagger UI: OAuth2 Redirect</title>\n'
            f"</head>\n<body>\n<script>\n{script}\n</script>\n</body>\n</html>\n")
    return HTMLResponse(html)

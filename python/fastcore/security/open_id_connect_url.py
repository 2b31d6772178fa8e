"""OpenID Connect (FastAPI's `OpenIdConnect`): the `Authorization` header's value, or 401
`WWW-Authenticate: Bearer` ("Not authenticated"), or None with `auto_error=False`. Like FastAPI's,
it only declares the scheme (for OpenAPI) and hands over the header; checking the token is the
app's.

    oidc = OpenIdConnect(openIdConnectUrl="https://issuer.example/.well-known/openid-configuration")

    @app.get("/me")
    def me(authorization: str = Depends(oidc)): ...
"""
from __future__ import annotations

from .base import AuthorizationHeader


class OpenIdConnect(AuthorizationHeader):
    def __init__(self, *, openIdConnectUrl: str, scheme_name: str | None = None,  # noqa: N803 - FastAPI's name
                 description: str | None = None, auto_error: bool = True) -> None:
        self.model = {"type": "openIdConnect", "openIdConnectUrl": openIdConnectUrl, "description": description}
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

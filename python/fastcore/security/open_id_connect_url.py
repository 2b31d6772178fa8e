"""OpenID Connect (FastAPI's `OpenIdConnect`): the `Authorization` header's value, or 401
`WWW-Authenticate: Bearer` ("Not authenticated"), or None with `auto_error=False`. Like FastAPI's,
it only declares the scheme (for OpenAPI) and hands over the header; checking the token is the
app's.

    oidc = OpenIdConnect(openIdConnectUrl="https://issuer.example/.well-known/openid-configuration")

    @app.get("/me")
    def me(authorization: str = Depends(oidc)): ...
"""
from __future__ import annotations

from ..exceptions import HTTPException
from ..requests import Request
from .base import SecurityBase


class OpenIdConnect(SecurityBase):
    def __init__(self, *, openIdConnectUrl: str, scheme_name: str | None = None,  # noqa: N803 - FastAPI's name
                 description: str | None = None, auto_error: bool = True) -> None:
        self.model = {"type": "openIdConnect", "openIdConnectUrl": openIdConnectUrl, "description": description}
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("Authorization")
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization

"""OAuth2 (FastAPI's `OAuth2`, `OAuth2PasswordBearer`, `OAuth2AuthorizationCodeBearer`, the
password request forms) and `SecurityScopes`.

    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

    @app.post("/token")
    def login(form: OAuth2PasswordRequestForm = Depends()): ...

    @app.get("/me")
    def me(token: str = Depends(oauth2_scheme)): ...

A missing (or non-Bearer) token is 401 "Not authenticated" with `WWW-Authenticate: Bearer`,
or None with `auto_error=False`. `model` keeps the OpenAPI security scheme as plain data.
"""
from __future__ import annotations

from typing import Annotated, Any

from ..param_functions import Form
from ..requests import Request
from .base import AuthorizationHeader
from .utils import get_authorization_scheme_param


class OAuth2PasswordRequestForm:
    """The OAuth2 password flow's form: `username`, `password`, optional `scope` (split into
    `scopes`), `grant_type` ("password" if given), `client_id`, `client_secret`."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """The same form, with `grant_type=password` required. FastAPI 0.165's OpenAPI document
    shows no `"format": "password"` on this one's `password`/`client_secret` (its merge of the
    `Annotated` metadata drops it), so fastcore leaves it out here to serve the same document."""

    def __init__(
        self,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(grant_type=grant_type, username=username, password=password, scope=scope,
                         client_id=client_id, client_secret=client_secret)


class OAuth2(AuthorizationHeader):
    def __init__(self, *, flows: dict[str, Any] | None = None, scheme_name: str | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        self.model = {"type": "oauth2", "flows": dict(flows or {}), "description": description}
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error


class OAuth2PasswordBearer(OAuth2):
    def __init__(self, tokenUrl: str, scheme_name: str | None = None, scopes: dict[str, str] | None = None,  # noqa: N803
                 description: str | None = None, auto_error: bool = True, refreshUrl: str | None = None) -> None:  # noqa: N803
        flows = {"password": {"tokenUrl": tokenUrl, "refreshUrl": refreshUrl, "scopes": scopes or {}}}
        super().__init__(flows=flows, scheme_name=scheme_name, description=description, auto_error=auto_error)

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return param


class OAuth2AuthorizationCodeBearer(OAuth2):
    def __init__(self, authorizationUrl: str, tokenUrl: str, refreshUrl: str | None = None,  # noqa: N803
                 scheme_name: str | None = None, scopes: dict[str, str] | None = None,
                 description: str | None = None, auto_error: bool = True) -> None:
        flows = {"authorizationCode": {"authorizationUrl": authorizationUrl, "tokenUrl": tokenUrl,
                                       "refreshUrl": refreshUrl, "scopes": scopes or {}}}
        super().__init__(flows=flows, scheme_name=scheme_name, description=description, auto_error=auto_error)

    async def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return param


class SecurityScopes:
    """The OAuth2 scopes every `Security(...)` along the chain asked for; a dependency that
    declares a parameter of this type receives them."""

    def __init__(self, scopes: list[str] | None = None) -> None:
        self.scopes: list[str] = scopes or []
        self.scope_str: str = " ".join(self.scopes)

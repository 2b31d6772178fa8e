"""HTTP authentication schemes (FastAPI's `HTTPBasic`, `HTTPBearer`, `HTTPDigest`): parsed
`Authorization` credentials, or 401 with the scheme's `WWW-Authenticate` challenge
("Not authenticated"), or None with `auto_error=False`.

    security = HTTPBasic()

    @app.get("/me")
    def me(credentials: HTTPBasicCredentials = Depends(security)): ...
"""
from __future__ import annotations

import binascii
from base64 import b64decode

from pydantic import BaseModel

from ..exceptions import HTTPException
from ..requests import Request
from .base import SecurityBase
from .utils import get_authorization_scheme_param


class HTTPBasicCredentials(BaseModel):
    username: str
    password: str


class HTTPAuthorizationCredentials(BaseModel):
    """`Authorization: Bearer abc` → scheme "Bearer", credentials "abc"."""

    scheme: str
    credentials: str


class HTTPBase(SecurityBase):
    def __init__(self, *, scheme: str, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        self.model = {"type": "http", "scheme": scheme, "description": description}
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.model["scheme"].title()}

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(status_code=401, detail="Not authenticated", headers=self.make_authenticate_headers())

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        authorization = request.headers.get("Authorization")
        scheme, credentials = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and credentials):
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


class HTTPBasic(HTTPBase):
    def __init__(self, *, scheme_name: str | None = None, realm: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        self.model = {"type": "http", "scheme": "basic", "description": description}
        self.scheme_name = scheme_name or type(self).__name__
        self.realm = realm
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        if self.realm:
            return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}
        return {"WWW-Authenticate": "Basic"}

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "basic":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        try:
            data = b64decode(param).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error) as e:
            raise self.make_not_authenticated_error() from e
        username, separator, password = data.partition(":")
        if not separator:
            raise self.make_not_authenticated_error()
        return HTTPBasicCredentials(username=username, password=password)


class HTTPBearer(HTTPBase):
    def __init__(self, *, bearerFormat: str | None = None, scheme_name: str | None = None,  # noqa: N803
                 description: str | None = None, auto_error: bool = True) -> None:
        self.model = {"type": "http", "scheme": "bearer", "bearerFormat": bearerFormat, "description": description}
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        authorization = request.headers.get("Authorization")
        scheme, credentials = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and credentials) or scheme.lower() != "bearer":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


class HTTPDigest(HTTPBase):
    def __init__(self, *, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        self.model = {"type": "http", "scheme": "digest", "description": description}
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        authorization = request.headers.get("Authorization")
        scheme, credentials = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and credentials) or scheme.lower() != "digest":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)

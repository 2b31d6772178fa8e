"""API keys in a query parameter, a header or a cookie (FastAPI's `APIKeyQuery`,
`APIKeyHeader`, `APIKeyCookie`): the key's value, or 401 `WWW-Authenticate: APIKey`
("Not authenticated"), or None with `auto_error=False`.

    api_key = APIKeyHeader(name="x-api-key")

    @app.get("/items")
    def items(key: str = Depends(api_key)): ...
"""
from __future__ import annotations

from typing import Any

from ..exceptions import HTTPException
from ..requests import Request
from .base import SecurityBase


class APIKeyBase(SecurityBase):
    def __init__(self, location: str, name: str, description: str | None, scheme_name: str | None,
                 auto_error: bool) -> None:
        self.auto_error = auto_error
        self.model = {"type": "apiKey", "in": location, "name": name, "description": description}
        self.scheme_name = scheme_name or type(self).__name__

    @property
    def name(self) -> str:
        return self.model["name"]

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "APIKey"})

    def check_api_key(self, api_key: str | None) -> str | None:
        if not api_key:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return api_key


class APIKeyQuery(APIKeyBase):
    def __init__(self, *, name: str, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        super().__init__("query", name, description, scheme_name, auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.query_params.get(self.name))

    def _from_state(self, state: Any) -> str | None:
        """`__call__` for the planned solver (`dependencies.straight`): the same value, read
        from the request's decoded query without a Request object or a coroutine."""
        got = state.query().get(self.name)
        return self.check_api_key(got[-1] if got else None)


class APIKeyHeader(APIKeyBase):
    def __init__(self, *, name: str, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        super().__init__("header", name, description, scheme_name, auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.headers.get(self.name))

    def _from_state(self, state: Any) -> str | None:
        """`__call__` for the planned solver (`dependencies.straight`), as APIKeyQuery's."""
        got = state.headers().get(self.name.lower())
        return self.check_api_key(got[-1] if got else None)


class APIKeyCookie(APIKeyBase):
    def __init__(self, *, name: str, scheme_name: str | None = None, description: str | None = None,
                 auto_error: bool = True) -> None:
        super().__init__("cookie", name, description, scheme_name, auto_error)

    async def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.cookies.get(self.name))

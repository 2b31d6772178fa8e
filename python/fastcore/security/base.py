"""The base of every security scheme: a dependency that also describes itself for OpenAPI.

A scheme instance is called as a dependency (`Depends(oauth2_scheme)`); `model` holds the
OpenAPI security scheme object (plain data) and `scheme_name` its name in the document.
"""
from __future__ import annotations

from typing import Any

from ..exceptions import HTTPException
from ..requests import Request


class SecurityBase:
    model: Any
    scheme_name: str


class AuthorizationHeader(SecurityBase):
    """A scheme whose credential is the `Authorization` header as sent (OAuth2, OpenID Connect):
    its value, or 401 `WWW-Authenticate: Bearer` ("Not authenticated"), or None with
    `auto_error=False`."""

    auto_error: bool

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    async def __call__(self, request: Request) -> str | None:
        return self._check(request.headers.get("Authorization"))

    def _from_state(self, state: Any) -> str | None:
        """`__call__` for the planned solver (`dependencies.straight`): the same value, read
        from the request's decoded headers without a Request object or a coroutine."""
        got = state.headers().get("authorization")
        return self._check(got[-1] if got else None)

    def _check(self, authorization: str | None) -> str | None:
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization

"""Exceptions a handler raises to send an error response, and the ones fastcore raises, with
FastAPI's names and shapes.

    @app.get("/items/{item_id}")
    def read_item(item_id: int):
        if item_id not in items:
            raise HTTPException(status_code=404, detail="Item not found")
        return items[item_id]

How each becomes a response (and how an app overrides that) is `exception_handlers.py`.
"""
from __future__ import annotations

import http
from typing import Any, Mapping, Sequence


class StarletteHTTPException(Exception):
    """An HTTP error response: `status_code` and the JSON body `{"detail": detail}`. The router
    raises this one for its own 404 and 405 (so, as in FastAPI, a handler registered for it sees
    those too, and one registered for `HTTPException` does not)."""

    def __init__(self, status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        if detail is None:
            detail = http.HTTPStatus(status_code).phrase
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class HTTPException(StarletteHTTPException):
    """What handlers raise: `raise HTTPException(status_code=404, detail="Item not found")`."""


class WebSocketException(Exception):
    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class FastAPIError(RuntimeError):
    """A mistake in how the app is declared (found when a route is registered)."""


class ValidationException(Exception):
    """Data that did not validate; `errors()` lists pydantic-style error dicts."""

    def __init__(self, errors: Sequence[Any]) -> None:
        super().__init__(errors)
        self._errors = errors

    def errors(self) -> Sequence[Any]:
        return self._errors

    def __str__(self) -> str:
        lines = [f"{len(self._errors)} validation error{'s' if len(self._errors) != 1 else ''}:"]
        lines.extend(f"  {err}" for err in self._errors)
        return "\n".join(lines)


class RequestValidationError(ValidationException):
    """The request did not match the handler's declared parameters: FastAPI's 422."""

    def __init__(self, errors: Sequence[Any], *, body: Any = None) -> None:
        super().__init__(errors)
        self.body = body


class WebSocketRequestValidationError(ValidationException):
    pass


class ResponseValidationError(ValidationException):
    """The handler's return value did not match its response model: a server error (500)."""

    def __init__(self, errors: Sequence[Any], *, body: Any = None) -> None:
        super().__init__(errors)
        self.body = body


class FastAPIDeprecationWarning(UserWarning):
    """FastAPI's deprecation warning: a `UserWarning`, so that it is shown by default."""

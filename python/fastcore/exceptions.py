"""Exceptions a handler raises to send an error response.

    @app.get("/items/{item_id}")
    def read_item(item_id: int):
        if item_id not in items:
            raise HTTPException(status_code=404, detail="Item not found")
        return items[item_id]
"""
from __future__ import annotations

import http
from typing import Any, Mapping


class HTTPException(Exception):
    """Becomes a response with `status_code` and the JSON body `{"detail": detail}`."""

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


class RequestValidationError(HTTPException):
    """The request did not match the handler's declared parameters; sent as FastAPI's 422."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(422, errors)
        self.errors = errors

    def __repr__(self) -> str:
        return f"{type(self).__name__}(errors={self.errors!r})"


class ResponseValidationError(Exception):
    """The handler's answer did not match its `response_model`: a server fault (500), as in
    FastAPI; `errors()` lists pydantic's errors located under "response"."""

    def __init__(self, errors: list[dict[str, Any]], *, body: Any = None) -> None:
        super().__init__(errors)
        self._errors = errors
        self.body = body

    def errors(self) -> list[dict[str, Any]]:
        return self._errors

    def __str__(self) -> str:
        lines = [f"{len(self._errors)} validation error{'s' if len(self._errors) != 1 else ''}:"]
        lines.extend(f"  {err}" for err in self._errors)
        return "\n".join(lines)

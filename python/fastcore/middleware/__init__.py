"""Middleware, as Starlette declares it: `Middleware(cls, *args, **kwargs)`.

    app = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=["https://example.org"])])
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    @app.middleware("http")
    async def timing(request, call_next):
        response = await call_next(request)
        response.headers["x-took"] = "..."
        return response

How fastcore runs them (`stack.py`): Starlette's own middleware (`cors`, `gzip`, `trustedhost`,
`httpsredirect`) is done in Rust around the request; `BaseHTTPMiddleware` subclasses (and
`@app.middleware("http")`) run in Python around the route. Raw ASGI middleware cannot run: the
core speaks no ASGI, so `add_middleware` refuses it.
"""
from __future__ import annotations

from typing import Any, Iterator


class Middleware:
    def __init__(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        parts = [getattr(self.cls, "__name__", "")] + [repr(a) for a in self.args]
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{type(self).__name__}({', '.join(parts)})"


__all__ = ["Middleware"]

"""The application object: route registration, FastAPI-style.

    app = FastCore()

    @app.get("/users/{user_id}")
    def read_user(user_id: int):
        return {"user_id": user_id}

    if __name__ == "__main__":
        app.run(port=8000)
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Sequence, TypeVar

from ._core import RawRequest, Router
from .exceptions import HTTPException
from .routing import compile_endpoint
from .responses import JSONResponse, Response

F = TypeVar("F", bound=Callable[..., Any])
error_log = logging.getLogger("fastcore.error")


class FastCore:
    def __init__(self, *, dependencies: Sequence[Any] | None = None) -> None:
        self.router = Router(self._handle_error)
        self.dependencies = list(dependencies or ())
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.routes: list[tuple[tuple[str, ...], str, Callable[..., Any]]] = []

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] = ("GET",),
        dependencies: Sequence[Any] | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("dependency_overrides_provider", self)
        compiled = compile_endpoint(endpoint, path, dependencies=list(self.dependencies) + list(dependencies or ()),
                                    **options)
        methods = tuple(m.upper() for m in methods)
        self.router.add(list(methods), compiled.path, compiled.endpoint, compiled.takes_request, compiled.is_async)
        self.routes.append((methods, path, endpoint))

    def api_route(self, path: str, *, methods: Sequence[str] = ("GET",), **options: Any) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_api_route(path, func, methods=methods, **options)
            return func

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["DELETE"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["OPTIONS"], **options)

    def _handle_error(self, exc: BaseException, raw: RawRequest) -> Response:
        """Called by the core for every exception a handler raises, with the request. It may
        also return a coroutine (an async exception handler), which the core awaits."""
        if isinstance(exc, HTTPException):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        error_log.error("Exception in handler for %s %s", raw.method, raw.raw_path, exc_info=exc)
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)

    def run(self, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
        from .server import serve

        serve(self, host, port, **options)

    def __repr__(self) -> str:
        return f"<FastCore routes={len(self.routes)}>"

"""The application object, FastAPI's `FastAPI` (`FastCore` is the same class).

    app = FastAPI(title="Shop", lifespan=lifespan)

    @app.get("/users/{user_id}")
    def read_user(user_id: int):
        return {"user_id": user_id}

    app.include_router(items.router, prefix="/items")

Routes reach the Rust core as they reach `app.router`: each is compiled once, there, into the
callable the workers call. Exceptions raised while serving come back through `_handle_error`,
which finds the app's handler for them (`exception_handlers.py`).
"""
from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Mapping, Sequence, TypeVar

from ._core import Router
from .datastructures import State
from .exception_handlers import ExceptionHandlers, debug_response
from .exceptions import RequestValidationError, StarletteHTTPException
from .lifespan import Lifespan
from .middleware import Middleware
from .middleware.base import BaseHTTPMiddleware
from .middleware.stack import check as check_middleware, plan as plan_middleware
from .requests import Request
from .responses import JSONResponse, Response
from .routing import (APIRoute, APIRouter, APIWebSocketRoute, Default, DefaultPlaceholder, Mount, URLPath,
                      generate_unique_id)
from .staticfiles import StaticFiles

F = TypeVar("F", bound=Callable[..., Any])
error_log = logging.getLogger("fastcore.error")


class _AppRouter(APIRouter):
    """The app's own router: every route that reaches it is compiled into the Rust table."""

    def __init__(self, app: "FastCore", core: Router, **options: Any) -> None:
        self.app = app
        self.core = core
        super().__init__(**options)

    def add_route_object(self, route: Any) -> None:
        if isinstance(route, APIRoute):
            compiled = route.compile(self.app)
            self.core.add(sorted(route.methods), compiled.path, compiled.endpoint, compiled.takes_request,
                          compiled.is_async)
        elif isinstance(route, APIWebSocketRoute):
            endpoint = route.compile(self.app)
            self.core.add_websocket(route.router_path, endpoint)
        elif isinstance(route, Mount):
            if isinstance(route.app, StaticFiles):
                route.app.mount_into(self.core, route.path)
            elif isinstance(route.app, FastCore):
                route.app.mounted_in = self.app
                route.app.set_server_root_path(getattr(self.app, "server_root_path", ""),
                                               in_path=bool(getattr(self.app, "server_path_prefix", "")))
                self.core.mount_app(route.path, route.app.core)
            else:
                raise TypeError(f"fastcore can mount a StaticFiles or a FastCore app, not {type(route.app).__name__}")
        else:
            raise TypeError(f"fastcore cannot serve a {type(route).__name__} route yet")
        super().add_route_object(route)


class FastCore:
    def __init__(
        self,
        *,
        debug: bool = False,
        routes: list[APIRoute] | None = None,
        title: str = "FastAPI",
        summary: str | None = None,
        description: str = "",
        version: str = "0.1.0",
        openapi_url: str | None = "/openapi.json",
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        dependencies: Sequence[Any] | None = None,
        default_response_class: type[Response] | DefaultPlaceholder = Default(JSONResponse),
        redirect_slashes: bool = True,
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        exception_handlers: Mapping[Any, Callable[..., Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], Any] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        root_path: str = "",
        root_path_in_servers: bool = True,
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        swagger_ui_parameters: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | DefaultPlaceholder = Default(generate_unique_id),
        middleware: Sequence[Middleware] | None = None,
        separate_input_output_schemas: bool = True,
        **extra: Any,
    ) -> None:
        self.debug = debug
        self.title, self.summary, self.description, self.version = title, summary, description, version
        self.openapi_url, self.openapi_tags, self.servers = openapi_url, openapi_tags, list(servers or [])
        self.docs_url, self.redoc_url = docs_url, redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth, self.swagger_ui_parameters = swagger_ui_init_oauth, swagger_ui_parameters
        self.terms_of_service, self.contact, self.license_info = terms_of_service, contact, license_info
        if root_path:
            import warnings

            from .exceptions import FastAPIDeprecationWarning

            warnings.warn("The `root_path` parameter is deprecated. Configure the server's root path instead, "
                          "for example with `fastapi run --root-path /api/v1`.",
                          category=FastAPIDeprecationWarning, stacklevel=2)
        self.root_path, self.root_path_in_servers = root_path, root_path_in_servers
        # What the serving server says (`fastcore run --root-path`, `TestClient(root_path=)`):
        # the root path requests get when the app sets none, and what the request URL's path
        # has in front of the path the client sent (uvicorn's; Starlette's TestClient: nothing).
        self.server_root_path = ""
        self.server_path_prefix = ""
        self.separate_input_output_schemas = separate_input_output_schemas
        self.extra = extra
        self.state = State()
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.handlers = ExceptionHandlers(exception_handlers)
        self.user_middleware: list[Middleware] = list(middleware or [])
        for declared in self.user_middleware:
            check_middleware(declared.cls)
        self.middleware_planned = False
        self.openapi_schema: dict[str, Any] | None = None
        self.openapi_version = "3.1.0"
        self.webhooks = APIRouter()
        self.openapi_external_docs: dict[str, Any] | None = extra.pop("openapi_external_docs", None)
        if openapi_url:
            assert self.title, "A title must be provided for OpenAPI, e.g.: 'My API'"
            assert self.version, "A version must be provided for OpenAPI, e.g.: '2.1.0'"
        self.core = Router(self._handle_error, redirect_slashes)
        self._route_errors_to_python()
        self.router = _AppRouter(
            self,
            self.core,
            routes=routes,
            dependencies=dependencies,
            default_response_class=default_response_class,
            redirect_slashes=redirect_slashes,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            lifespan=lifespan,
            responses=responses,
            callbacks=callbacks,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
        )
        self.has_lifespan = lifespan is not None
        self._lifespan: Lifespan | None = None
        self.lifespan_state: dict[str, Any] = {}
        # Set by fastcore.testclient: unhandled exceptions are handed to the test as well.
        self.exception_sink: list[BaseException] | None = None
        self.mounted_in: FastCore | None = None  # the app this one is mounted in, if any
        self.setup()

    # -- OpenAPI and docs --------------------------------------------------------------------
    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, generated on first use from the routes' plans and kept in
        `app.openapi_schema` (assign `app.openapi = custom` to change it, FastAPI's pattern)."""
        if not self.openapi_schema:
            from .openapi.utils import get_openapi

            self.openapi_schema = get_openapi(
                title=self.title, version=self.version, openapi_version=self.openapi_version,
                summary=self.summary, description=self.description, terms_of_service=self.terms_of_service,
                contact=self.contact, license_info=self.license_info, routes=self.routes,
                webhooks=self.webhooks.routes, tags=self.openapi_tags, servers=self.servers,
                separate_input_output_schemas=self.separate_input_output_schemas,
                external_docs=self.openapi_external_docs)
        return self.openapi_schema

    def setup(self) -> None:
        """Adds the `openapi_url`, `docs_url` and `redoc_url` routes (FastAPI adds them first)."""
        from .openapi.routes import add_docs_routes

        add_docs_routes(self)

    # -- routes ------------------------------------------------------------------------------
    @property
    def routes(self) -> list[Any]:
        return self.router.routes

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        self.router.add_api_route(path, endpoint, **options)

    def api_route(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.api_route(path, **options)

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.get(path, **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.put(path, **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.post(path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.delete(path, **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.options(path, **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.head(path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.patch(path, **options)

    def trace(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.router.trace(path, **options)

    def websocket(self, path: str, name: str | None = None, *,
                  dependencies: Sequence[Any] | None = None) -> Callable[[F], F]:
        return self.router.websocket(path, name, dependencies=dependencies)

    def add_api_websocket_route(self, path: str, endpoint: Callable[..., Any], name: str | None = None, *,
                                dependencies: Sequence[Any] | None = None) -> None:
        self.router.add_api_websocket_route(path, endpoint, name, dependencies=dependencies)

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[F], F]:
        return self.router.websocket_route(path, name)

    def add_websocket_route(self, path: str, endpoint: Callable[..., Any], name: str | None = None) -> None:
        self.router.add_websocket_route(path, endpoint, name)

    def include_router(self, router: APIRouter, **options: Any) -> None:
        self.router.include_router(router, **options)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router.url_path_for(name, **path_params)

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Serves `app` under `path`: a `StaticFiles` (from Rust) or another app, as
        Starlette's `Mount`. Mounts are tried after the app's routes, in the order added."""
        self.router.mount(path, app, name=name)

    # -- errors ------------------------------------------------------------------------------
    @property
    def exception_handlers(self) -> dict[Any, Callable[..., Any]]:
        return self.handlers.as_dict()

    def add_exception_handler(self, exc_class_or_status_code: int | type[BaseException],
                              handler: Callable[..., Any]) -> None:
        self.handlers.add(exc_class_or_status_code, handler)
        self._route_errors_to_python()

    def _route_errors_to_python(self) -> None:
        """The core answers 404, 405 and path-parameter 422s itself, FastAPI's way, unless the
        app has its own handler for them: then they take the Python path, like FastAPI's."""
        self.core.set_route_error(self._route_error if self.handlers.overrides_routing_errors() else None)

    def _route_error(self, raw: Any, status: int, detail: Any) -> Any:
        if status == 422:
            exc: BaseException = RequestValidationError(detail)
        elif status == 405:
            exc = StarletteHTTPException(405, headers={"Allow": detail})
        else:
            exc = StarletteHTTPException(status)
        return self._handle_error(exc, raw)

    def exception_handler(self, exc_class_or_status_code: int | type[BaseException]) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_exception_handler(exc_class_or_status_code, func)
            return func

        return decorator

    def _handle_error(self, exc: BaseException, raw: Any) -> Any:
        """Called by the core for every exception serving a request raises. Returns a response,
        or a coroutine (an `async def` handler) that the core drives to one."""
        handler, unhandled = self.handlers.lookup(exc)
        if unhandled:
            error_log.error("Exception in handler for %s %s", raw.method, raw.raw_path, exc_info=exc)
            app: FastCore | None = self
            while app is not None and app.exception_sink is None:
                app = app.mounted_in  # a mounted app's failures reach the test of the app serving it
            if app is not None and app.exception_sink is not None:
                app.exception_sink.append(exc)
            if self.debug:  # Starlette's debug mode answers with the traceback, before any 500 handler
                handler = debug_response
        return handler(Request(raw, self), exc)

    async def _websocket_error(self, exc: BaseException, websocket: Any) -> bool:
        """A WebSocket handler's exception: True once the app's handler for it has run. A
        disconnect the handler let through ends the connection quietly; cancellation and other
        unhandled exceptions are left to propagate (the core answers 500 or closes with 1011),
        the latter logged."""
        from .websockets import WebSocketDisconnect

        if isinstance(exc, WebSocketDisconnect):
            return True
        if not isinstance(exc, Exception):
            return False
        handler, unhandled = self.handlers.lookup(exc)
        if unhandled:
            error_log.error("Exception in WebSocket handler for %s", websocket.url.path, exc_info=exc)
            if self.exception_sink is not None:
                self.exception_sink.append(exc)
            return False
        result = handler(websocket, exc)
        if inspect.isawaitable(result):
            await result
        return True

    # -- middleware --------------------------------------------------------------------------
    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        """Adds a middleware outside those added before (Starlette's order). Raw ASGI middleware
        is refused here: fastcore runs `BaseHTTPMiddleware` subclasses and its built-in ones."""
        if self.middleware_planned:
            raise RuntimeError("Cannot add middleware after an application has started")
        check_middleware(middleware_class)
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def middleware(self, middleware_type: str) -> Callable[[F], F]:
        """`@app.middleware("http")` on `async def f(request, call_next)`."""
        assert middleware_type == "http", 'Currently only middleware("http") is supported.'

        def decorator(func: F) -> F:
            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def middleware_plan(self) -> Any:
        """The middleware as the server runs it (`fastcore.middleware.stack.plan`); made when
        a server is made for the app, after which no middleware can be added."""
        self.middleware_planned = True
        return plan_middleware(self)

    # -- lifespan ----------------------------------------------------------------------------
    def on_event(self, event_type: str) -> Callable[[F], F]:
        return self.router.on_event(event_type)

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        self.router.add_event_handler(event_type, func)

    def startup(self) -> None:
        """Runs the start-up handlers and enters the lifespan (`serve()` and `TestClient` call it)."""
        if self._lifespan is not None:
            raise RuntimeError("the app has already started")
        events = not self.has_lifespan  # FastAPI runs on_event handlers only without a lifespan
        lifespan = Lifespan(self, self.router.on_startup if events else [],
                            self.router.on_shutdown if events else [], self.router.lifespans)
        self.lifespan_state = lifespan.start()
        self._lifespan = lifespan

    def shutdown(self) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            lifespan.stop()

    # -- serving -----------------------------------------------------------------------------
    def set_server_root_path(self, root_path: str, *, in_path: bool = True) -> None:
        """What the server serving the app says its root path is: uvicorn's `--root-path`
        (`in_path`: request paths get it in front, in `request.url` and in redirects), or
        Starlette's `TestClient(root_path=)` (`in_path=False`: in the scope only)."""
        self.server_root_path = root_path
        self.server_path_prefix = root_path if in_path else ""
        self.core.set_path_prefix(self.server_path_prefix)
        for route in self.routes:  # mounted apps are served by the same server
            if isinstance(route, Mount) and isinstance(route.app, FastCore):
                route.app.set_server_root_path(root_path, in_path=in_path)

    def run(self, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
        from .server import serve

        serve(self, host, port, **options)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} routes={len(self.routes)}>"


FastAPI = FastCore

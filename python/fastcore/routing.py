"""Routes and routers, FastAPI's way: `APIRoute` is one route's declaration, `APIRouter` a group
of them with a shared prefix, tags, dependencies and responses.

    router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(api_key)])

    @router.get("/{item_id}")
    def read_item(item_id: int): ...

    app.include_router(router)

A router only collects declarations; `include_router` copies them into the including router with
the prefix and options merged, exactly as FastAPI merges them. Routes reach the Rust core when
they reach the app (`FastCore.router`), which compiles each once (`handler.compile_endpoint`).
"""
from __future__ import annotations

import inspect
import re
from enum import Enum
from typing import Any, Callable, Sequence, TypeVar

from .datastructures import URL, Default, DefaultPlaceholder
from .handler import compile_endpoint
from .responses import JSONResponse, Response
from .websocket_endpoint import compile_websocket

F = TypeVar("F", bound=Callable[..., Any])
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?\}")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE")


def _pick(*options: Any) -> Any:
    """The first option explicitly set; else the last (innermost) default's value."""
    for option in options:
        if not isinstance(option, DefaultPlaceholder):
            return option
    last = options[-1]
    return last.value if isinstance(last, DefaultPlaceholder) else last


class NoMatchFound(Exception):
    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        super().__init__(f'No route exists for name "{name}" and params "{", ".join(path_params)}".')


class URLPath(str):
    """A path made by `url_path_for`; `make_absolute_url(base_url)` puts it under a base URL."""

    protocol = "http"
    host = ""

    def make_absolute_url(self, base_url: str | URL) -> URL:
        """Starlette's: the base URL's scheme (made https/wss for a secure base), its host
        unless this path names one, and its path with this one after it."""
        base = base_url if isinstance(base_url, URL) else URL(base_url)
        scheme = base.scheme
        if self.protocol:
            scheme = {"http": ("http", "https"), "websocket": ("ws", "wss")}[self.protocol][base.is_secure]
        return URL(scheme, self.host or base.netloc, base.path.rstrip("/") + str(self), "")


def generate_unique_id(route: "APIRoute") -> str:
    """FastAPI's operation id: the route name and path with non-word characters as `_`, then the method."""
    return f"{re.sub(r'[^0-9a-zA-Z_]', '_', route.name + route.path_format)}_{sorted(route.methods)[0].lower()}"


class APIRoute:
    """One route as declared: the endpoint and every option FastAPI's `APIRoute` takes. Plain
    data, read by the app (to compile it) and, later, by OpenAPI."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[Any] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        name: str | None = None,
        methods: Sequence[str] | set[str] | None = None,
        operation_id: str | None = None,
        response_model_include: Any = None,
        response_model_exclude: Any = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] | DefaultPlaceholder = Default(JSONResponse),
        callbacks: list[Any] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[["APIRoute"], str] | DefaultPlaceholder = Default(generate_unique_id),
    ) -> None:
        self.path = path  # callbacks and webhooks may name any path ("{$callback_url}/events")
        self.endpoint = endpoint
        self.name = name if name is not None else getattr(endpoint, "__name__", type(endpoint).__name__)
        self.methods = {m.upper() for m in (methods or ("GET",))}
        self.response_model = response_model  # a default: the return annotation (handler.py decides)
        self.status_code = status_code
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.summary = summary
        doc = inspect.getdoc(endpoint) or ""
        self.description = description if description is not None else doc.split("\f")[0].strip()
        self.response_description = response_description
        self.responses = dict(responses or {})
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.response_model_include = response_model_include
        self.response_model_exclude = response_model_exclude
        self.response_model_by_alias = response_model_by_alias
        self.response_model_exclude_unset = response_model_exclude_unset
        self.response_model_exclude_defaults = response_model_exclude_defaults
        self.response_model_exclude_none = response_model_exclude_none
        self.include_in_schema = include_in_schema
        self.response_class = response_class
        self.callbacks = callbacks
        self.openapi_extra = openapi_extra
        self.generate_unique_id_function = generate_unique_id_function
        self.path_format = _PARAM.sub(lambda m: "{%s}" % m.group(1), path)
        self.param_names = tuple(m.group(1) for m in _PARAM.finditer(path))
        self.unique_id = self.operation_id or _pick(generate_unique_id_function)(self)
        self.compiled: Any = None  # set when the route reaches an app

    def compile(self, app: Any) -> Any:
        """Builds the endpoint the core calls (the plan, the solver, the finisher), once."""
        if not self.path.startswith("/"):
            raise AssertionError("Routed paths must start with '/'")
        self.compiled = compile_endpoint(
            self.endpoint,
            self.path,
            response_model=self.response_model,
            status_code=self.status_code,
            response_class=self.response_class,
            dependencies=self.dependencies,
            response_model_include=self.response_model_include,
            response_model_exclude=self.response_model_exclude,
            response_model_by_alias=self.response_model_by_alias,
            response_model_exclude_unset=self.response_model_exclude_unset,
            response_model_exclude_defaults=self.response_model_exclude_defaults,
            response_model_exclude_none=self.response_model_exclude_none,
            dependency_overrides_provider=app,
        )
        return self.compiled

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or set(path_params) != set(self.param_names):
            raise NoMatchFound(name, path_params)
        return URLPath(_PARAM.sub(lambda m: _to_string(path_params[m.group(1)]), self.path))

    def __repr__(self) -> str:
        return f"APIRoute(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)!r})"


class APIWebSocketRoute:
    """One WebSocket route as declared (FastAPI's `APIWebSocketRoute`). `plain`: a Starlette
    `WebSocketRoute` endpoint, called with the `WebSocket` alone (`add_websocket_route`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, name: str | None = None,
                 dependencies: Sequence[Any] | None = None, plain: bool = False) -> None:
        self.path = path
        self.endpoint = endpoint
        self.name = name if name is not None else getattr(endpoint, "__name__", type(endpoint).__name__)
        self.dependencies = list(dependencies or [])
        self.plain = plain
        self.path_format = _PARAM.sub(lambda m: "{%s}" % m.group(1), path)
        self.param_names = tuple(m.group(1) for m in _PARAM.finditer(path))
        self.router_path: str | None = None  # set when the route reaches an app

    def compile(self, app: Any) -> Callable[..., Any]:
        """The endpoint the core calls for each connection, built once."""
        if not self.path.startswith("/"):
            raise AssertionError("Routed paths must start with '/'")
        self.router_path, endpoint = compile_websocket(self.endpoint, self.path, dependencies=self.dependencies,
                                                       app=app, plain=self.plain)
        return endpoint

    def url_path_for(self, name: str, **path_params: Any) -> URLPath:
        if name != self.name or set(path_params) != set(self.param_names):
            raise NoMatchFound(name, path_params)
        url = URLPath(_PARAM.sub(lambda m: _to_string(path_params[m.group(1)]), self.path))
        url.protocol = "websocket"
        return url

    def __repr__(self) -> str:
        return f"APIWebSocketRoute(path={self.path!r}, name={self.name!r})"


def _to_string(value: Any) -> str:
    from urllib.parse import quote

    if isinstance(value, Enum):
        value = value.value
    return quote(str(value), safe="/")


class Mount:
    """Starlette's `Mount`: requests under `path` go to `app`, a `StaticFiles` (served by the
    core) or another `FastCore`/`FastAPI` app (its routes, handlers and docs under the prefix).
    `url_path_for` follows Starlette: `"name"` with `path=` for the mount itself,
    `"name:route"` (or a route's own name, for an unnamed mount) for the app's routes."""

    def __init__(self, path: str, app: Any, name: str | None = None) -> None:
        assert path == "" or path.startswith("/"), "Routed paths must start with '/'"
        self.path = path.rstrip("/")
        if "{" in self.path:
            raise NotImplementedError("fastcore mounts take a fixed path prefix, without path parameters")
        self.app = app
        self.name = name

    @property
    def routes(self) -> list[Any]:
        return getattr(self.app, "routes", [])

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self.name is not None and name == self.name and "path" in path_params:
            rest = dict(path_params)
            path = str(rest.pop("path")).lstrip("/")
            if not rest:
                return URLPath(f"{self.path}/{path}")
        elif self.name is None or name.startswith(self.name + ":"):
            child = name if self.name is None else name[len(self.name) + 1:]
            for route in self.routes:
                try:
                    return URLPath(self.path + route.url_path_for(child, **path_params))
                except NoMatchFound:
                    pass
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        return f"Mount(path={self.path!r}, name={self.name or ''!r}, app={self.app!r})"


class APIRouter:
    """A group of routes with shared options; `include_router` merges it into another router."""

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[Any] | None = None,
        default_response_class: type[Response] | DefaultPlaceholder = Default(JSONResponse),
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        routes: list[APIRoute] | None = None,
        redirect_slashes: bool = True,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | DefaultPlaceholder = Default(generate_unique_id),
        **_unused: Any,
    ) -> None:
        if prefix:
            if not prefix.startswith("/"):
                raise AssertionError("A path prefix must start with '/'")
            if prefix.endswith("/"):
                raise AssertionError("A path prefix must not end with '/', as the routes will start with '/'")
        self.prefix = prefix
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.default_response_class = default_response_class
        self.responses = dict(responses or {})
        self.callbacks = callbacks or []
        self.routes: list[Any] = []
        self.redirect_slashes = redirect_slashes
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.on_startup = list(on_startup or [])
        self.on_shutdown = list(on_shutdown or [])
        self.lifespans: list[Callable[[Any], Any]] = [lifespan] if lifespan is not None else []
        self.generate_unique_id_function = generate_unique_id_function
        for route in routes or []:
            self.add_route_object(route)

    # -- declaring routes --------------------------------------------------------------------
    def add_route_object(self, route: APIRoute) -> None:
        """Every route of this router passes here; the app's router compiles it into the core."""
        self.routes.append(route)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        """Adds a route under this router's prefix, with its tags, dependencies and responses
        put before the route's own."""
        route_class = _keep_default(options.pop("response_class", Default(JSONResponse)),
                                    self.default_response_class, Default(JSONResponse))
        options["tags"] = [*self.tags, *(options.get("tags") or [])]
        options["dependencies"] = [*self.dependencies, *(options.get("dependencies") or [])]
        options["responses"] = {**self.responses, **(options.get("responses") or {})}
        options["callbacks"] = [*self.callbacks, *(options.get("callbacks") or [])] or None
        options["deprecated"] = options.get("deprecated") or self.deprecated
        options["include_in_schema"] = options.get("include_in_schema", True) and self.include_in_schema
        options["generate_unique_id_function"] = _unique_id_option(options, self.generate_unique_id_function)
        self.add_route_object(APIRoute(self.prefix + path, endpoint, response_class=route_class, **options))

    def api_route(self, path: str, *, methods: Sequence[str] | None = None, **options: Any) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_api_route(path, func, methods=methods, **options)
            return func

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["GET"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PUT"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["POST"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["DELETE"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["OPTIONS"], **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["HEAD"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["PATCH"], **options)

    def trace(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.api_route(path, methods=["TRACE"], **options)

    def add_api_websocket_route(self, path: str, endpoint: Callable[..., Any], name: str | None = None, *,
                                dependencies: Sequence[Any] | None = None) -> None:
        """A WebSocket route under this router's prefix, after this router's dependencies."""
        self.add_route_object(APIWebSocketRoute(self.prefix + path, endpoint, name=name,
                                                dependencies=[*self.dependencies, *(dependencies or [])]))

    def websocket(self, path: str, name: str | None = None, *,
                  dependencies: Sequence[Any] | None = None) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_api_websocket_route(path, func, name=name, dependencies=dependencies)
            return func

        return decorator

    def add_websocket_route(self, path: str, endpoint: Callable[..., Any], name: str | None = None) -> None:
        """Starlette's way: `endpoint(websocket)`, no parameters or dependencies planned."""
        self.add_route_object(APIWebSocketRoute(self.prefix + path, endpoint, name=name, plain=True))

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, name=name)
            return func

        return decorator

    # -- including other routers -------------------------------------------------------------
    def include_router(
        self,
        router: "APIRouter",
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[Any] | None = None,
        default_response_class: type[Response] | DefaultPlaceholder = Default(JSONResponse),
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] | DefaultPlaceholder = Default(generate_unique_id),
    ) -> None:
        if prefix:
            if not prefix.startswith("/"):
                raise AssertionError("A path prefix must start with '/'")
            if prefix.endswith("/"):
                raise AssertionError("A path prefix must not end with '/', as the routes will start with '/'")
        for route in router.routes:
            if isinstance(route, APIWebSocketRoute):
                self.add_route_object(APIWebSocketRoute(
                    self.prefix + prefix + route.path, route.endpoint, name=route.name, plain=route.plain,
                    dependencies=[*self.dependencies, *(dependencies or []), *route.dependencies]))
                continue
            if isinstance(route, Mount):
                self.add_route_object(Mount(prefix + route.path, route.app, name=route.name))
                continue
            if not isinstance(route, APIRoute):
                self.add_route_object(route)
                continue
            self.add_api_route(
                prefix + route.path,
                route.endpoint,
                response_model=route.response_model,
                status_code=route.status_code,
                tags=[*(tags or []), *route.tags],
                dependencies=[*(dependencies or []), *route.dependencies],
                summary=route.summary,
                description=route.description,
                response_description=route.response_description,
                responses={**(responses or {}), **route.responses},
                deprecated=route.deprecated or deprecated or router.deprecated,
                name=route.name,
                methods=route.methods,
                operation_id=route.operation_id,
                response_model_include=route.response_model_include,
                response_model_exclude=route.response_model_exclude,
                response_model_by_alias=route.response_model_by_alias,
                response_model_exclude_unset=route.response_model_exclude_unset,
                response_model_exclude_defaults=route.response_model_exclude_defaults,
                response_model_exclude_none=route.response_model_exclude_none,
                include_in_schema=route.include_in_schema and router.include_in_schema and include_in_schema,
                response_class=_keep_default(route.response_class, router.default_response_class,
                                             default_response_class),
                callbacks=[*(callbacks or []), *(route.callbacks or [])] or None,
                openapi_extra=route.openapi_extra,
                generate_unique_id_function=_pick(route.generate_unique_id_function,
                                                  router.generate_unique_id_function,
                                                  Default(_pick(generate_unique_id_function))),
            )
        self.on_startup.extend(router.on_startup)
        self.on_shutdown.extend(router.on_shutdown)
        self.lifespans.extend(router.lifespans)

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Starlette's `Router.mount`: requests under `path` go to `app`."""
        self.add_route_object(Mount(path, app, name=name))

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    def on_event(self, event_type: str) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_event_handler(event_type, func)
            return func

        return decorator

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        if event_type == "startup":
            self.on_startup.append(func)
        elif event_type == "shutdown":
            self.on_shutdown.append(func)
        else:
            raise AssertionError(f"unknown event type {event_type!r}: use 'startup' or 'shutdown'")


def _keep_default(route_value: Any, router_value: Any, include_value: Any) -> Any:
    """A route's response class, or the router's, or the include's: the first one set, and still
    a default (so an outer include may override it) when none was set."""
    for value in (route_value, router_value, include_value):
        if not isinstance(value, DefaultPlaceholder):
            return value
    return Default(_pick(include_value))


def _unique_id_option(options: dict[str, Any], router_value: Any) -> Any:
    return _pick(options.get("generate_unique_id_function", Default(None)), router_value)

"""The per-route plan: what each parameter is, where its value comes from, what it depends on.

Plain data, built once per route by `analyze` and read by `solve` on every request and by
OpenAPI (FastAPI's `Dependant` is the model: per-source parameter lists, sub-dependencies,
the names that receive the request, the response, background tasks or security scopes, and
the OAuth2 scopes along the chain).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

Source = Literal["path", "query", "header", "cookie", "body"]
# How a dependency (or the endpoint) is called: a plain function, a coroutine function, or a
# generator / async generator whose code after `yield` runs once the response is done.
CallKind = Literal["sync", "async", "gen", "asyncgen"]


@dataclass(eq=False)
class ParamField:
    name: str  # the keyword the callable receives
    source: Source
    alias: str  # the key in the request (header names lower-case) and in error locations
    field_info: FieldInfo  # the marker (Query(), Body()...), with title/description/constraints
    annotation: Any  # the declared type, `Annotated` metadata included
    adapter: TypeAdapter | None  # validates the raw value; None: the Rust router converted it
    required: bool
    sequence: bool = False  # takes every repeat of its key (query/header lists, form lists)
    embed: bool | None = None  # Body(embed=...)
    is_form: bool = False  # Form() / File(): read from the form body
    is_file: bool = False  # File() / UploadFile
    converter: str | None = None  # path parameters: the Rust router's converter (int, float, str, path)
    # Form(): a pydantic model filled from the form's fields, as (key, takes every repeat) pairs;
    # None for a plain form field. `reads_bytes`: File() declared as bytes (or a list of them).
    form_model_fields: tuple[tuple[str, bool], ...] | None = None
    # Query()/Header()/Cookie() of a pydantic model: (field alias, request key, takes every repeat)
    # per model field; `model_optional`: the annotation also allows None (absent if none is sent).
    param_model_fields: tuple[tuple[str, str, bool], ...] | None = None
    model_optional: bool = False
    model_takes_extra: bool = False
    nullable_model: bool = False
    reads_bytes: bool = False

    def __post_init__(self) -> None:
        self.key = self.alias.lower() if self.source == "header" else self.alias  # the lookup key

    def default(self) -> Any:
        return self.field_info.get_default(call_default_factory=True)

    @property
    def validate_default(self) -> bool:
        return bool(self.field_info.validate_default)


@dataclass(eq=False)
class Dependant:
    call: Callable[..., Any] | None
    name: str | None = None  # the parameter of the parent that receives this one's result
    path: str | None = None
    path_params: list[ParamField] = field(default_factory=list)
    query_params: list[ParamField] = field(default_factory=list)
    header_params: list[ParamField] = field(default_factory=list)
    cookie_params: list[ParamField] = field(default_factory=list)
    body_params: list[ParamField] = field(default_factory=list)
    dependencies: list["Dependant"] = field(default_factory=list)
    request_param_name: str | None = None
    websocket_param_name: str | None = None
    response_param_name: str | None = None
    background_tasks_param_name: str | None = None
    security_scopes_param_name: str | None = None
    own_oauth_scopes: list[str] = field(default_factory=list)
    parent_oauth_scopes: list[str] = field(default_factory=list)
    use_cache: bool = True
    scope: Literal["function", "request"] | None = None
    kind: CallKind = "sync"
    security_scheme: Any = None  # the SecurityBase instance when `call` is one (for OpenAPI)
    cache_key: tuple[Any, ...] = ()
    limiter: Any = None  # Depends(max_concurrency=n): the semaphore its calls take

    @property
    def oauth_scopes(self) -> list[str]:
        """Scopes asked for along the chain down to here, parents first, without repeats."""
        out = list(self.parent_oauth_scopes)
        out.extend(s for s in self.own_oauth_scopes if s not in out)
        return out

    def path_only(self) -> bool:
        """No parameter but path ones the router converts, nothing injected, no sub-dependency."""
        return (not self.dependencies and not self.query_params and not self.header_params
                and not self.cookie_params and not self.body_params and self.request_param_name is None
                and self.websocket_param_name is None
                and self.response_param_name is None and self.background_tasks_param_name is None
                and self.security_scopes_param_name is None and all(p.adapter is None for p in self.path_params))

    def walk(self) -> list["Dependant"]:
        """This dependant and every sub-dependant, depth first."""
        out = [self]
        for sub in self.dependencies:
            out.extend(sub.walk())
        return out


@dataclass(frozen=True)
class EndpointPlan:
    path: str  # the route as declared
    router_path: str  # the pattern handed to the Rust router, converters filled in
    dependant: Dependant  # the endpoint itself, route-level dependencies first
    body_params: tuple[ParamField, ...]  # every body parameter of the whole tree, in order
    embed_body_fields: bool  # body parameters are keys of one JSON object
    is_async: bool  # the endpoint function is `async def`
    needs_async: bool  # something in the tree must be awaited (async endpoint or dependency)
    has_exits: bool  # some dependency yields: its exit code runs after the response

    @property
    def wants_body(self) -> bool:
        return bool(self.body_params)

    @property
    def body_is_form(self) -> bool:
        return any(p.is_form for p in self.body_params)

    @property
    def path_only(self) -> bool:
        """Only path parameters the Rust router already converted: the endpoint can be called
        with them directly."""
        return self.dependant.path_only()

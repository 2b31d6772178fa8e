"""From a handler's signature to the way the core calls it.

FastAPI reads a handler's parameters to decide where each value comes from; so does this
module, once, when the route is registered:

    @app.get("/users/{user_id}")
    def read_user(user_id: int, q: str | None = None, request: Request = None): ...

- a name that appears in the path is a path parameter, converted by the Rust router
  (`int`, `float` and `str` annotations become `{user_id:int}` and so on);
- a `Request` annotation receives the request;
- a pydantic model (or `dict`) annotation is the JSON body;
- anything else is a query parameter, validated with pydantic (`list[...]` takes repeats).

A handler that takes only path parameters is registered as is and called with keyword
arguments straight from Rust. Anything else gets a small wrapper that receives the raw request.
"""
from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, TypeAdapter, ValidationError

from .datastructures import QueryParams
from .exceptions import RequestValidationError
from .requests import Request
from .responses import JSONResponse, Response

_PARAM = re.compile(r"\{([^{}:]+)(?::([^{}]+))?\}")
_CONVERTERS = {int: "int", float: "float", str: "str"}
_MISSING = object()


@dataclass(frozen=True)
class Compiled:
    path: str  # the pattern handed to the Rust router, converters filled in
    endpoint: Callable[..., Any]
    takes_request: bool
    is_async: bool


@dataclass(frozen=True)
class _Param:
    name: str
    source: str  # "path", "query", "body" or "request"
    adapter: TypeAdapter | None
    default: Any
    many: bool = False


def compile_endpoint(
    func: Callable[..., Any],
    path: str,
    *,
    response_model: Any = None,
    status_code: int | None = None,
) -> Compiled:
    declared = {m.group(1): m.group(2) for m in _PARAM.finditer(path)}
    hints = typing.get_type_hints(func)
    params: list[_Param] = []
    converters: dict[str, str] = {}
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = hints.get(p.name, Any)
        default = _MISSING if p.default is p.empty else p.default
        if inspect.isclass(ann) and issubclass(ann, Request):
            params.append(_Param(p.name, "request", None, default))
        elif p.name in declared:
            conv = declared[p.name] or _CONVERTERS.get(ann)
            converters[p.name] = conv or "str"
            needs_check = ann is not Any and _CONVERTERS.get(ann) != converters[p.name] and conv != "path"
            params.append(_Param(p.name, "path", TypeAdapter(ann) if needs_check else None, default))
        elif _is_body(_unwrap_optional(ann)):
            params.append(_Param(p.name, "body", TypeAdapter(ann), default))
        else:
            many = typing.get_origin(_unwrap_optional(ann)) in (list, tuple, set, frozenset)
            params.append(_Param(p.name, "query", TypeAdapter(ann), default, many))
    rust_path = _PARAM.sub(lambda m: "{%s:%s}" % (m.group(1), converters.get(m.group(1), m.group(2) or "str")), path)

    is_async = inspect.iscoroutinefunction(func)
    simple = all(p.source == "path" and p.adapter is None for p in params)
    if simple and response_model is None and status_code is None:
        return Compiled(rust_path, func, takes_request=False, is_async=is_async)
    finish = _finisher(response_model, status_code)
    solve = _solver(params)
    wants_body = any(p.source == "body" for p in params)
    if is_async and wants_body:
        async def endpoint(raw: Any) -> Any:
            await raw.read_body()  # async handlers receive the body unread
            return finish(await func(**solve(raw)))
    elif is_async:
        async def endpoint(raw: Any) -> Any:
            return finish(await func(**solve(raw)))
    else:
        def endpoint(raw: Any) -> Any:
            return finish(func(**solve(raw)))
    endpoint.__qualname__ = getattr(func, "__qualname__", "endpoint")
    return Compiled(rust_path, endpoint, takes_request=True, is_async=is_async)


def _unwrap_optional(ann: Any) -> Any:
    """`X | None` and `Optional[X]` -> `X`; anything else unchanged."""
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def _is_body(ann: Any) -> bool:
    if inspect.isclass(ann) and issubclass(ann, BaseModel):
        return True
    origin = typing.get_origin(ann) or ann
    if origin is dict:
        return True
    if origin is list:
        args = typing.get_args(ann)
        return bool(args) and inspect.isclass(args[0]) and issubclass(args[0], BaseModel)
    return False


def _solver(params: list[_Param]) -> Callable[[Any], dict[str, Any]]:
    def solve(raw: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        request: Request | None = None
        query: QueryParams | None = None
        for p in params:
            if p.source == "request":
                request = request or Request(raw)
                kwargs[p.name] = request
            elif p.source == "path":
                value = raw.path_params[p.name]
                kwargs[p.name] = _validate(p, value, ("path", p.name), errors) if p.adapter else value
            elif p.source == "query":
                if query is None:  # decoded in Rust, once, and only for handlers that need it
                    query = QueryParams(raw.query_pairs)
                qp = query
                if p.name in qp:
                    value = qp.getlist(p.name) if p.many else qp[p.name]
                    kwargs[p.name] = _validate(p, value, ("query", p.name), errors)
                elif p.default is not _MISSING:
                    kwargs[p.name] = p.default
                else:
                    errors.append(_missing(("query", p.name)))
            else:  # body
                body = raw.body
                if body:
                    try:
                        kwargs[p.name] = p.adapter.validate_json(body)
                    except ValidationError as exc:
                        errors.extend(_errors(exc, ("body",)))
                elif p.default is not _MISSING:
                    kwargs[p.name] = p.default
                else:
                    errors.append(_missing(("body",)))
        if errors:
            raise RequestValidationError(errors)
        return kwargs

    return solve


def _validate(p: _Param, value: Any, loc: tuple[str, ...], errors: list[dict[str, Any]]) -> Any:
    try:
        return p.adapter.validate_python(value)
    except ValidationError as exc:
        errors.extend(_errors(exc, loc))
        return None


def _missing(loc: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}


def _errors(exc: ValidationError, prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False):
        value = err.get("input")
        if isinstance(value, (bytes, bytearray)):  # an undecodable body, echoed back readably
            value = bytes(value).decode("utf-8", "replace")
        item = {"type": err["type"], "loc": [*prefix, *err["loc"]], "msg": err["msg"], "input": value}
        if "ctx" in err:
            item["ctx"] = {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
                           for k, v in err["ctx"].items()}
        out.append(item)
    return out


def _finisher(response_model: Any, status_code: int | None) -> Callable[[Any], Any]:
    adapter = TypeAdapter(response_model) if response_model is not None else None

    def finish(result: Any) -> Any:
        if isinstance(result, Response):
            return result
        if adapter is not None:
            result = adapter.dump_python(adapter.validate_python(result, from_attributes=True), mode="json")
        if status_code is not None:
            return JSONResponse(result, status_code=status_code)
        return result

    return finish

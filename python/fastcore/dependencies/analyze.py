"""Signature → plan, once per route when it is registered.

    @app.get("/users/{user_id}")
    def read_user(user_id: int, q: str | None = None, request: Request = None): ...

- a name that appears in the path is a path parameter, converted by the Rust router
  (`int`, `float` and `str` annotations become `{user_id:int}` and so on; other annotations
  keep the declared converter and are validated with pydantic);
- a `Request` annotation receives the request;
- a pydantic model (or a list of them, or `dict`) annotation is the JSON body;
- anything else is a query parameter, validated with pydantic (`list[...]` takes repeats).
"""
from __future__ import annotations

import inspect
import re
import types
import typing
from typing import Any, Callable

from pydantic import BaseModel, TypeAdapter

from ..requests import Request
from .models import MISSING, EndpointPlan, Param

_PARAM = re.compile(r"\{([^{}:]+)(?::([^{}]+))?\}")
_CONVERTERS = {int: "int", float: "float", str: "str"}


def analyze(func: Callable[..., Any], path: str) -> EndpointPlan:
    declared = {m.group(1): m.group(2) for m in _PARAM.finditer(path)}
    hints = typing.get_type_hints(func)
    params: list[Param] = []
    converters: dict[str, str] = {}
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = hints.get(p.name, Any)
        default = MISSING if p.default is p.empty else p.default
        if inspect.isclass(ann) and issubclass(ann, Request):
            params.append(Param(p.name, "request", p.name, ann, default, None))
        elif p.name in declared:
            conv = declared[p.name] or _CONVERTERS.get(ann)
            converters[p.name] = conv or "str"
            needs_check = ann is not Any and _CONVERTERS.get(ann) != converters[p.name] and conv != "path"
            params.append(Param(p.name, "path", p.name, ann, default, TypeAdapter(ann) if needs_check else None))
        elif _is_body(_unwrap_optional(ann)):
            params.append(Param(p.name, "body", p.name, ann, default, TypeAdapter(ann)))
        else:
            many = typing.get_origin(_unwrap_optional(ann)) in (list, tuple, set, frozenset)
            params.append(Param(p.name, "query", p.name, ann, default, TypeAdapter(ann), many))
    router_path = _PARAM.sub(
        lambda m: "{%s:%s}" % (m.group(1), converters.get(m.group(1), m.group(2) or "str")), path)
    return EndpointPlan(path, router_path, tuple(params), inspect.iscoroutinefunction(func))


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

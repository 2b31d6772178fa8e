"""The per-route plan: what each handler parameter is and where its value comes from.

Plain data, built once per route by `analyze` and read by `solve` on every request (and, later,
by OpenAPI). Sources: "path" (a name in the route pattern), "query", "body" (a pydantic model,
a list of models, or `dict`: the JSON body) and "request" (a `Request` annotation).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

Source = Literal["path", "query", "body", "request"]


class _Missing:
    """The default of a required parameter."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Param:
    name: str  # the handler's keyword
    source: Source
    alias: str  # the key it is read by in the path or query (the name, today)
    annotation: Any  # the resolved type hint, `Any` when there is none
    default: Any  # MISSING when required
    adapter: TypeAdapter | None  # validates the raw value; None: passed through as is
    many: bool = False  # a query list: takes every repeat of the key

    @property
    def required(self) -> bool:
        return self.default is MISSING


@dataclass(frozen=True)
class EndpointPlan:
    path: str  # the route as declared
    router_path: str  # the pattern handed to the Rust router, converters filled in
    params: tuple[Param, ...]
    is_async: bool

    @property
    def wants_body(self) -> bool:
        return any(p.source == "body" for p in self.params)

    @property
    def path_only(self) -> bool:
        """Every parameter is a path one the Rust router already converted: no solving needed."""
        return all(p.source == "path" and p.adapter is None for p in self.params)

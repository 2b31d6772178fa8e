"""Plan → keyword arguments, once per request.

`solver(plan)` is called once per route at registration and returns the per-request function:
it reads each parameter from the `RawRequest` the core hands over (path params converted in
Rust, query pairs decoded in Rust on first use, the body as bytes), validates it with the
plan's pydantic adapter, and raises one `RequestValidationError` listing every failure.
"""
from __future__ import annotations

from typing import Any, Callable

from pydantic import ValidationError

from ..datastructures import QueryParams
from ..exceptions import RequestValidationError
from ..requests import Request
from .models import MISSING, EndpointPlan, Param


def solver(plan: EndpointPlan, app: Any = None) -> Callable[[Any], dict[str, Any]]:
    params = plan.params

    def solve(raw: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        request: Request | None = None
        query: QueryParams | None = None
        for p in params:
            if p.source == "request":
                request = request or Request(raw, app)
                kwargs[p.name] = request
            elif p.source == "path":
                value = raw.path_params[p.alias]
                kwargs[p.name] = _validate(p, value, ("path", p.alias), errors) if p.adapter else value
            elif p.source == "query":
                if query is None:  # decoded in Rust, once, and only for handlers that need it
                    query = QueryParams(raw.query_pairs)
                qp = query
                if p.alias in qp:
                    value = qp.getlist(p.alias) if p.many else qp[p.alias]
                    kwargs[p.name] = _validate(p, value, ("query", p.alias), errors)
                elif p.default is not MISSING:
                    kwargs[p.name] = p.default
                else:
                    errors.append(_missing(("query", p.alias)))
            else:  # body
                body = raw.body
                if body:
                    try:
                        kwargs[p.name] = p.adapter.validate_json(body)
                    except ValidationError as exc:
                        errors.extend(_errors(exc, ("body",)))
                elif p.default is not MISSING:
                    kwargs[p.name] = p.default
                else:
                    errors.append(_missing(("body",)))
        if errors:
            raise RequestValidationError(errors)
        return kwargs

    return solve


def _validate(p: Param, value: Any, loc: tuple[str, ...], errors: list[dict[str, Any]]) -> Any:
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

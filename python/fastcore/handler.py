"""A route's endpoint as the core calls it: the plan, the solver and response finishing.

A handler that takes only path parameters (and has no `response_model` or `status_code`) is
registered as is and called with keyword arguments straight from Rust. Anything else gets a
small wrapper, built once here, that receives the raw request, solves the arguments
(`dependencies.solve`), calls the handler and finishes its result (`response_model`
validation and filtering, `status_code`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import TypeAdapter

from .dependencies.analyze import analyze
from .dependencies.models import EndpointPlan
from .dependencies.solve import solver
from .responses import JSONResponse, Response


@dataclass(frozen=True)
class Compiled:
    path: str  # the pattern handed to the Rust router, converters filled in
    endpoint: Callable[..., Any]
    takes_request: bool
    is_async: bool
    plan: EndpointPlan


def compile_endpoint(
    func: Callable[..., Any],
    path: str,
    *,
    response_model: Any = None,
    status_code: int | None = None,
    **_options: Any,  # the other route options; workstream D's handler.py reads them
) -> Compiled:
    plan = analyze(func, path)
    is_async = plan.is_async
    if plan.path_only and response_model is None and status_code is None:
        return Compiled(plan.router_path, func, takes_request=False, is_async=is_async, plan=plan)
    finish = finisher(response_model, status_code)
    solve = solver(plan, _options.get("dependency_overrides_provider"))
    if is_async and plan.wants_body:
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
    return Compiled(plan.router_path, endpoint, takes_request=True, is_async=is_async, plan=plan)


def finisher(response_model: Any, status_code: int | None) -> Callable[[Any], Any]:
    """The handler's result → what the core turns into the response."""
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

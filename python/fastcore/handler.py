"""A route's endpoint as the core calls it: plan, solve, call, finish.

`compile_endpoint(func, path, **route_options)` runs once per route. A handler that takes only
path parameters the Rust router converts (and needs no response finishing) is handed to the
core as is, called with keyword arguments straight from Rust. Anything else gets a wrapper
that receives the `RawRequest`, reads the body (JSON or form), solves the dependency plan
(`dependencies.solve`), calls the handler and finishes its result FastAPI's way
(`response_model` validation and filtering, `status_code`, `response_class`, the injected
`Response`'s status/headers/cookies). Yield dependencies exit after the response is sent,
after the background tasks (`Response.background`), or at once with the handler's exception,
which they see. Handler exceptions propagate to the app's error handler.
"""
from __future__ import annotations

import inspect
import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import SchemaSerializer, SchemaValidator

from ._core import JsonReply
from .dependencies.analyze import analyze
from .formparsers import parse_form as _parse_form, read_form as _read_form
from .dependencies.models import EndpointPlan
from .dependencies.json_body import is_json, json_validator
from .dependencies.solve import NOTHING, PreValidated, State, located, run_sync
from .dependencies.fused import fused_endpoint
from .dependencies.straight import StraightSolver
from .encoders import jsonable_encoder
from .exceptions import FastAPIError, HTTPException, RequestValidationError, ResponseValidationError
from .responses import JSONResponse, Response, json_response

# `response_model` left out: the return annotation decides (FastAPI's `Default(None)`).
INFER: Any = type("Infer", (), {"__repr__": lambda self: "INFER"})()
_SWALLOWED = ("No response object was returned: a dependency with yield caught the handler's exception "
              "and did not raise it again (or another one).")


@dataclass(frozen=True)
class Compiled:
    path: str  # the pattern handed to the Rust router, converters filled in
    endpoint: Callable[..., Any]
    takes_request: bool
    is_async: bool
    plan: EndpointPlan
    response_model: Any = None  # the model answers are validated against (None: none)


def compile_endpoint(
    func: Callable[..., Any],
    path: str,
    *,
    response_model: Any = INFER,
    status_code: int | None = None,
    response_class: type[Response] | None = None,
    dependencies: Sequence[Any] = (),
    response_model_include: Any = None,
    response_model_exclude: Any = None,
    response_model_by_alias: bool = True,
    response_model_exclude_unset: bool = False,
    response_model_exclude_defaults: bool = False,
    response_model_exclude_none: bool = False,
    dependency_overrides_provider: Any = None,
) -> Compiled:
    plan = analyze(func, path, dependencies)
    model = infer_response_model(func) if _is_default(response_model) else response_model
    if _is_default(response_class):
        response_class = None
    if status_code is not None:
        status_code = int(status_code)
    finish = Finisher(model, status_code, response_class, dict(
        include=response_model_include, exclude=response_model_exclude, by_alias=response_model_by_alias,
        exclude_unset=response_model_exclude_unset, exclude_defaults=response_model_exclude_defaults,
        exclude_none=response_model_exclude_none))
    if plan.path_only and finish.trivial:
        return Compiled(plan.router_path, func, False, plan.is_async, plan, None)
    endpoint = fused_endpoint(func, plan, finish, _body_from_bytes(plan), read_json_body)
    if endpoint is None:
        solver = StraightSolver(plan, dependency_overrides_provider)
        build = _async_endpoint if plan.needs_async else _sync_endpoint
        endpoint = build(func, plan, solver, finish, _body_from_bytes(plan))
    endpoint.__qualname__ = getattr(func, "__qualname__", "endpoint")
    return Compiled(plan.router_path, endpoint, True, plan.needs_async, plan, model)


def infer_response_model(func: Callable[..., Any]) -> Any:
    """FastAPI's rule: the return annotation, unless absent, None or a Response class."""
    try:
        annotation = inspect.signature(func, eval_str=True).return_annotation
    except NameError:
        return None
    if annotation is inspect.Signature.empty or annotation is None:
        return None
    if isinstance(annotation, type) and issubclass(annotation, Response):
        return None
    return annotation


def _body_from_bytes(plan: EndpointPlan) -> Any:
    """The body parameter's `validate_json`, when one JSON body validated from its bytes gives
    what FastAPI's `json.loads` then validation gives (`dependencies.json_body`); else None."""
    fields = plan.body_params
    if len(fields) != 1 or plan.embed_body_fields or plan.body_is_form or fields[0].adapter is None:
        return None
    return json_validator(fields[0])


def _is_default(value: Any) -> bool:
    return value is INFER or type(value).__name__ == "DefaultPlaceholder"


class Finisher:
    """The handler's result → what the core sends."""

    def __init__(self, model: Any, status_code: int | None, response_class: type[Response] | None,
                 dump: dict[str, Any]) -> None:
        self.adapter: TypeAdapter | None = None
        if model is not None:
            try:
                self.adapter = TypeAdapter(model)
            except Exception as exc:  # pydantic cannot build a schema for it
                raise FastAPIError(f"Invalid args for response field! Hint: check that {model} is a valid Pydantic "
                                "field type. If you are using a return type annotation that is not a valid "
                                "Pydantic field (e.g. Union[Response, dict, None]) you can disable generating "
                                "the response model from the type annotation with the path operation decorator "
                                "parameter response_model=None.") from exc
        self.status_code = status_code
        self.cls = response_class or JSONResponse
        self.default_class = response_class is None
        self.dump = dump
        # The same without the values that are `to_json`'s defaults (None, False), fewer
        # keywords per call; `by_alias` is always given (pydantic-core's default is None).
        self.dump_args = {k: v for k, v in dump.items() if k == "by_alias" or (v is not None and v is not False)}
        self.trivial = self.adapter is None and status_code is None and response_class is None
        # An instance of exactly the response model (a pydantic model that does not revalidate
        # instances) comes out of its validation as it went in: `plain` only serialises it.
        self.exact: Any = None
        if (self.adapter is not None and self.default_class and isinstance(model, type) and issubclass(model, BaseModel)
                and model.model_config.get("revalidate_instances", "never") == "never"
                and (status_code is None or (200 <= status_code and status_code not in (204, 205, 304)))):
            self.exact = model
        # pydantic-core's own methods, without TypeAdapter's Python wrappers (which pass through)
        self.validate = self.to_json = None
        if self.adapter is not None:
            core = getattr(self.adapter, "validator", None)
            serializer = getattr(self.adapter, "serializer", None)
            self.validate = core.validate_python if isinstance(core, SchemaValidator) else self.adapter.validate_python
            self.to_json = serializer.to_json if isinstance(serializer, SchemaSerializer) else self.adapter.dump_json

    def plain(self, result: Any) -> Any:
        """`self(result, state)` where nothing can have injected a `Response` (`fused` routes)."""
        if type(result) is self.exact:
            # `JsonReply`: the core sends it as `json_response` would, reading no `Response`.
            return JsonReply(self.to_json(result, **self.dump_args), self.status_code or 200)
        return self(result, _NOTHING_INJECTED)

    def __call__(self, result: Any, state: State) -> Any:
        if isinstance(result, Response):
            return result
        sub = state.response
        status = self.status_code
        if sub is not None and sub.status_code:
            status = sub.status_code
        adapter = self.adapter
        if adapter is not None:
            try:
                value = self.validate(result, from_attributes=True)
            except ValidationError as exc:
                raise ResponseValidationError(jsonable_encoder(located(exc, ("response",))), body=result) from None
            if self.default_class:
                resp = json_response(self.to_json(value, **self.dump_args), status or 200)
            else:
                content = adapter.dump_python(value, mode="json", **self.dump)
                resp = self.cls(content, status_code=status) if status else self.cls(content)
        elif self.trivial and sub is None:
            return result  # the core encodes it (Rust, with `encoders.jsonable` for other types)
        else:
            content = result if self.cls is JSONResponse else jsonable_encoder(result)
            resp = self.cls(content, status_code=status) if status else self.cls(content)
        if status is not None and (status < 200 or status in (204, 205, 304)):
            resp.body = b""
        if sub is not None:
            resp.raw_headers.extend(sub.raw_headers)
        return resp


class _NothingInjected:
    response = None


_NOTHING_INJECTED: Any = _NothingInjected()


# -- the endpoints ------------------------------------------------------------------------------

def _sync_endpoint(func: Callable[..., Any], plan: EndpointPlan, solver: StraightSolver, finish: Finisher,
                   from_bytes: Any) -> Callable[..., Any]:
    solve = solver.solve_sync
    app = solver.provider
    wants_body = plan.wants_body
    is_form = plan.body_is_form

    def endpoint(raw: Any) -> Any:
        state = State(raw, app)
        if wants_body:
            if is_form:
                state.body = _parse_form(raw)
                _close_later(state)
            else:
                state.body = read_json_body(raw.body, raw.header("content-type"), from_bytes)
        try:
            result = func(**solve(state))
            response = finish(result, state)
        except BaseException as exc:
            if state.stack is not None or state.fstack is not None:
                run_sync(_unwind(state, exc))
            raise
        if state.fstack is not None or state.stack is not None or state.background is not None:
            return _after_sync(response, state)
        return response

    return endpoint


def _async_endpoint(func: Callable[..., Any], plan: EndpointPlan, solver: StraightSolver, finish: Finisher,
                    from_bytes: Any) -> Callable[..., Any]:
    solve = solver.solve
    app = solver.provider
    wants_body = plan.wants_body
    is_form = plan.body_is_form
    is_async = plan.is_async

    async def endpoint(raw: Any) -> Any:
        state = State(raw, app)
        if wants_body:
            if is_form:
                state.body = await _read_form(raw)
                _close_later(state)
            else:
                state.body = read_json_body(await raw.read_body(), raw.header("content-type"), from_bytes)
        try:
            values = await solve(state)
            result = await func(**values) if is_async else func(**values)
            response = finish(result, state)
        except BaseException as exc:
            if state.stack is not None or state.fstack is not None:
                await _unwind(state, exc)
            raise
        if state.fstack is not None:
            await state.fstack.aclose()
        if state.stack is not None or state.background is not None:
            return await _after_async(response, state)
        return response

    return endpoint


async def _unwind(state: State, exc: BaseException) -> None:
    """Throws the handler's exception into the yield dependencies (innermost first); what
    comes out of them (the same, another, or a RuntimeError if one swallowed it) is raised."""
    for stack in (state.fstack, state.stack):
        if stack is None:
            continue
        try:
            if await stack.__aexit__(type(exc), exc, exc.__traceback__):
                exc = RuntimeError(_SWALLOWED)
        except BaseException as raised:  # noqa: BLE001 - whatever the exits raise goes on
            exc = raised
    raise exc


def _materialize(response: Any, state: State) -> Response:
    """A Response to hang the background work on (a plain result becomes the JSONResponse the
    core would have made of it); the injected BackgroundTasks unless it has its own."""
    if not isinstance(response, Response):
        response = JSONResponse(response)
    if response.background is None:
        response.background = state.background
    return response


def _after_sync(response: Any, state: State) -> Any:
    if state.fstack is not None:
        run_sync(state.fstack.aclose())
    return _chain(_materialize(response, state), state)


async def _after_async(response: Any, state: State) -> Any:
    return _chain(_materialize(response, state), state)


def _chain(response: Response, state: State) -> Response:
    """The response's background runs its own tasks first, then the yield dependencies' exits
    (FastAPI sends the response, background tasks included, inside the dependencies' scope)."""
    tasks = response.background
    stack = state.stack
    if stack is None:
        return response

    async def background() -> None:
        try:
            if tasks is not None:
                await tasks()
        finally:
            await stack.aclose()

    response.background = background
    return response


# -- bodies -------------------------------------------------------------------------------------

def read_json_body(body: bytes, content_type: str | None, from_bytes: Any) -> Any:
    """The body as `parse_json_body` reads it, or, when the route plans it (`from_bytes`, the
    body parameter's `validate_json`) and it succeeds, already validated from the bytes. A
    failure says nothing yet: FastAPI's way runs again and reports what FastAPI would."""
    if from_bytes is not None and body and is_json(content_type):
        try:
            return PreValidated(body, from_bytes(body))
        except ValidationError:
            pass
    return parse_json_body(body, content_type)


def parse_json_body(body: bytes, content_type: str | None) -> Any:
    """FastAPI's reading of a JSON body: parsed only if the content type says JSON
    (`application/json` or `application/*+json`), else left as bytes; empty means absent."""
    if not body:
        return NOTHING
    if not is_json(content_type):
        return body
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        raise RequestValidationError([{"type": "json_invalid", "loc": ["body", e.pos], "msg": "JSON decode error",
                                      "input": {}, "ctx": {"error": e.msg}}], body=e.doc) from None
    except Exception:
        raise HTTPException(400, "There was an error parsing the body") from None


def _close_later(state: State) -> None:
    """The form's files close once everything else is done (FastAPI closes them last too).
    Closed directly, not with `await form.close()`: closing a spooled file is one quick call,
    and an error on a sync route unwinds without a loop (`run_sync`), where nothing may wait."""
    state.stack = AsyncExitStack()
    state.stack.callback(_close_files, state.body)


def _close_files(form: Any) -> None:
    for _, value in form.multi_items():
        file = getattr(value, "file", None)
        if file is not None:
            file.close()

"""Plan → keyword arguments, once per request (FastAPI's `solve_dependencies` rules).

`Solver(plan, overrides_provider)` is built once per route. Per request, `solve(state)` walks
the dependant tree: each sub-dependency's own parameters first, then (if they validated) the
dependency is called, or its cached result reused; then the dependant's path, query, header,
cookie and body parameters are validated with their pydantic adapters. Errors are collected
in FastAPI's order and raised together as one `RequestValidationError`.

`solve` is a coroutine; a plan with nothing to await (`plan.needs_async` false) uses
`solve_sync`, the same walk as plain calls (an `async def` that never suspends, such as
fastcore's security schemes, is driven to its end by `run_sync`), so sync routes pay no loop.
Generator dependencies enter the request's `AsyncExitStack` (`state.stack`), whose exits the
handler runs once the response is done (or with the handler's exception).
"""
from __future__ import annotations

import copy
import http.cookies
import json
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any, Callable, Coroutine

from pydantic import ValidationError

from ..datastructures import FormData, UploadFile
from ..encoders import jsonable_encoder
from ..exceptions import RequestValidationError
from ..requests import Request
from ..responses import Response
from ..security.oauth2 import SecurityScopes
from .analyze import get_dependant
from .models import Dependant, EndpointPlan, ParamField
from .special import BackgroundTasks

# A value the request does not carry: the parameter's default applies (or it is missing).
NOTHING: Any = object()


class PreValidated:
    """A JSON body the handler already validated from its bytes (`value`, pydantic-core parsing
    them), kept with those bytes: parsed again with `json.loads` only when an error report
    needs the body, or when the generic walk (dependency overrides) validates it itself."""

    __slots__ = ("data", "value")

    def __init__(self, data: bytes, value: Any) -> None:
        self.data = data
        self.value = value


def error_body(state: "State") -> Any:
    """The body a RequestValidationError carries: the parsed JSON (or form, or bytes), None if absent."""
    body = state.body
    if body is NOTHING:
        return None
    if type(body) is PreValidated:
        return json.loads(body.data)
    return body

_IMMUTABLE = (type(None), str, int, float, bool, bytes, tuple, frozenset)


class State:
    """One request's solving state: lazily decoded sources and what dependencies share."""

    __slots__ = ("raw", "app", "body", "request", "websocket", "response", "background", "cache", "stack", "fstack",
                 "_query", "_headers", "_cookies")

    def __init__(self, raw: Any, app: Any = None) -> None:
        self.raw = raw
        self.app = app  # the app serving the request (request.app, request.state)
        self.body: Any = NOTHING
        self.request: Request | None = None
        self.websocket: Any = None  # the WebSocket, on a WebSocket route
        self.response: Response | None = None
        self.background: Any = None
        self.cache: dict[Any, Any] = {}
        self.stack: AsyncExitStack | None = None  # exits after the response (scope "request")
        self.fstack: AsyncExitStack | None = None  # exits when the handler returns (scope "function")
        self._query: dict[str, list[str]] | None = None
        self._headers: dict[str, list[str]] | None = None
        self._cookies: dict[str, str] | None = None

    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = self.raw.query_lists()  # decoded in Rust, once
        return self._query

    def headers(self) -> dict[str, list[str]]:
        if self._headers is None:
            self._headers = self.raw.header_lists()  # names lower-case, values latin-1
        return self._headers

    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = parse_cookie_header(self.headers().get("cookie", [""])[0])
        return self._cookies

    def get_request(self) -> Request:
        if self.request is None:
            self.request = Request(self.raw, self.app)
        return self.request

    def get_response(self) -> Response:
        """The `Response` a handler or dependency may ask for, to set headers, cookies or the
        status on: applied to the final response. Its status stays None unless set."""
        if self.response is None:
            resp = Response()
            resp.raw_headers = [(k, v) for k, v in resp.raw_headers if k.lower() != "content-length"]
            resp.status_code = None  # type: ignore[assignment]
            self.response = resp
        return self.response


def parse_cookie_header(header: str) -> dict[str, str]:
    """Starlette's lenient `Cookie:` parsing, so values match FastAPI's."""
    out: dict[str, str] = {}
    for chunk in header.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            key, value = "", chunk
        key, value = key.strip(), value.strip()
        if key or value:
            out[key] = http.cookies._unquote(value)  # type: ignore[attr-defined]
    return out


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Runs a coroutine that never suspends (a plan with nothing to await) to its result."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a dependency awaited something in a route planned as synchronous")


class _Node:
    """A dependant with what calling it needs, prepared once."""

    __slots__ = ("dep", "subs", "call", "scopes", "has_fields")

    def __init__(self, dep: Dependant) -> None:
        self.dep = dep
        self.subs = [_Node(d) for d in dep.dependencies]
        call = dep.call
        if dep.kind == "gen":
            call = contextmanager(call)  # type: ignore[arg-type]
        elif dep.kind == "asyncgen":
            call = asynccontextmanager(call)  # type: ignore[arg-type]
        self.call = call
        self.scopes = dep.oauth_scopes
        self.has_fields = bool(dep.path_params or dep.query_params or dep.header_params or dep.cookie_params
                               or dep.body_params)


class Solver:
    def __init__(self, plan: EndpointPlan, overrides_provider: Any = None) -> None:
        self.plan = plan
        self.root = _Node(plan.dependant)
        self.provider = overrides_provider
        self.embed = plan.embed_body_fields
        self._overridden: dict[tuple[int, Any], _Node] = {}

    async def solve(self, state: State) -> dict[str, Any]:
        """The endpoint's keyword arguments; raises RequestValidationError listing every error."""
        errors: list[dict[str, Any]] = []
        overrides = getattr(self.provider, "dependency_overrides", None) if self.provider is not None else None
        values = await self._solve(self.root, state, errors, overrides or None)
        if errors:
            raise RequestValidationError(jsonable_encoder(errors), body=error_body(state))
        return values

    async def _solve(self, node: _Node, state: State, errors: list[dict[str, Any]], overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        before = len(errors)
        for sub in node.subs:
            use = sub
            if overrides is not None and sub.dep.call in overrides:
                use = self._override(sub, overrides[sub.dep.call])
            sub_values = await self._solve(use, state, errors, overrides)
            if len(errors) != before:
                before = len(errors)
                continue
            dep = sub.dep
            key = dep.cache_key
            if dep.use_cache and key in state.cache:
                result = state.cache[key]
            else:
                result = await _call(use, sub_values, state)
            if dep.name is not None:
                values[dep.name] = result
            if key not in state.cache:
                state.cache[key] = result
        return self._own(node, state, values, errors)

    def solve_sync(self, state: State) -> dict[str, Any]:
        """`solve` for plans with nothing to await, as plain calls (no coroutine per level)."""
        errors: list[dict[str, Any]] = []
        overrides = getattr(self.provider, "dependency_overrides", None) if self.provider is not None else None
        values = self._solve_sync(self.root, state, errors, overrides or None)
        if errors:
            raise RequestValidationError(jsonable_encoder(errors), body=error_body(state))
        return values

    def _solve_sync(self, node: _Node, state: State, errors: list[dict[str, Any]], overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        before = len(errors)
        for sub in node.subs:
            use = sub
            if overrides is not None and sub.dep.call in overrides:
                use = self._override(sub, overrides[sub.dep.call])
            sub_values = self._solve_sync(use, state, errors, overrides)
            if len(errors) != before:
                before = len(errors)
                continue
            dep = sub.dep
            key = dep.cache_key
            if dep.use_cache and key in state.cache:
                result = state.cache[key]
            elif use.dep.kind == "sync":
                result = use.call(**sub_values)
            else:
                result = run_sync(_call(use, sub_values, state))
            if dep.name is not None:
                values[dep.name] = result
            if key not in state.cache:
                state.cache[key] = result
        return self._own(node, state, values, errors)

    def _own(self, node: _Node, state: State, values: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
        """The dependant's own parameters and injected objects."""
        dep = node.dep
        if node.has_fields:
            _fields(dep, state, values, errors, self.embed)
        if dep.request_param_name is not None:
            values[dep.request_param_name] = state.get_request()
        if dep.websocket_param_name is not None:
            values[dep.websocket_param_name] = state.websocket
        if dep.background_tasks_param_name is not None:
            if state.background is None:
                state.background = BackgroundTasks()
            values[dep.background_tasks_param_name] = state.background
        if dep.response_param_name is not None:
            values[dep.response_param_name] = state.get_response()
        if dep.security_scopes_param_name is not None:
            values[dep.security_scopes_param_name] = SecurityScopes(scopes=list(node.scopes))
        return values

    def _override(self, sub: _Node, call: Callable[..., Any]) -> _Node:
        key = (id(sub), call)
        node = self._overridden.get(key)
        if node is None:
            dep = sub.dep
            node = _Node(get_dependant(path=dep.path or "", call=call, name=dep.name,
                                       parent_oauth_scopes=sub.scopes, scope=dep.scope))
            self._overridden[key] = node
        return node


async def _call(node: _Node, values: dict[str, Any], state: State) -> Any:
    limiter = node.dep.limiter
    if limiter is not None:
        return await _call_limited(node, values, state, limiter)
    kind = node.dep.kind
    if kind == "sync":
        return node.call(**values)
    if kind == "async":
        return await node.call(**values)
    return await _enter(node, values, _exit_stack(node, state))


def _exit_stack(node: _Node, state: State) -> AsyncExitStack:
    """The stack a yield dependency exits with: the handler's (scope "function") or the
    request's (after the response)."""
    if node.dep.scope == "function":
        if state.fstack is None:
            state.fstack = AsyncExitStack()
        return state.fstack
    if state.stack is None:
        state.stack = AsyncExitStack()
    return state.stack


async def _enter(node: _Node, values: dict[str, Any], stack: AsyncExitStack) -> Any:
    if node.dep.kind == "gen":
        return stack.enter_context(node.call(**values))
    return await stack.enter_async_context(node.call(**values))


async def _call_limited(node: _Node, values: dict[str, Any], state: State, limiter: Any) -> Any:
    """`Depends(max_concurrency=n)`: the call holds a permit; a yield dependency holds it until
    its exit code has run."""
    kind = node.dep.kind
    if kind in ("sync", "async"):
        async with limiter:
            result = node.call(**values)
            return await result if kind == "async" else result
    stack = _exit_stack(node, state)
    await limiter.acquire()
    stack.callback(limiter.release)  # after the dependency's own exit, which is pushed next
    return await _enter(node, values, stack)


# -- parameters ---------------------------------------------------------------------------------

def _fields(dep: Dependant, state: State, values: dict[str, Any], errors: list[dict[str, Any]], embed: bool) -> None:
    if dep.path_params:
        path = state.raw.path_params
        for f in dep.path_params:
            value = path.get(f.alias, NOTHING)
            if f.adapter is None and value is not NOTHING:
                values[f.name] = value
            else:
                _validate(f, value, ("path", f.alias), values, errors)
    if dep.query_params:
        query = state.query()
        for f in dep.query_params:
            if f.param_model_fields is not None:
                _param_model(f, query, -1, values, errors)
                continue
            got = query.get(f.alias)
            value = NOTHING if not got else (got if f.sequence else got[-1])
            _validate(f, value, ("query", f.alias), values, errors)
    if dep.header_params:
        headers = state.headers()
        for f in dep.header_params:
            if f.param_model_fields is not None:
                _param_model(f, headers, 0, values, errors)
                continue
            got = headers.get(f.key)
            value = NOTHING if not got else (got if f.sequence else got[0])
            _validate(f, value, ("header", f.alias), values, errors)
    if dep.cookie_params:
        cookies = state.cookies()
        for f in dep.cookie_params:
            if f.param_model_fields is not None:
                _param_model(f, {k: [v] for k, v in cookies.items()}, -1, values, errors)
                continue
            value = cookies.get(f.alias, NOTHING)
            _validate(f, NOTHING if value is None else value, ("cookie", f.alias), values, errors)
    if dep.body_params:
        _body(dep.body_params, state.body, embed, values, errors)


def _param_model(f: ParamField, source: dict[str, list[str]], pick: int, values: dict[str, Any],
                 errors: list[dict[str, Any]]) -> None:
    """A Query/Header/Cookie model: its fields by their request keys, then every other key (the
    model's `extra` policy decides), validated as one value located at the source."""
    data: dict[str, Any] = {}
    processed: set[str] = set()
    renamed: dict[str, str] = {}
    for alias, key, many in f.param_model_fields:  # type: ignore[union-attr]
        processed.add(key)
        got = source.get(key)
        if got:
            data[alias] = got if many else got[pick]
        if alias.lower() != key:
            renamed[alias] = key
    for key, got in source.items():
        if key not in processed:
            data[key] = got[0] if len(got) == 1 else got
    supplied = any(key in source for key in processed) or (f.model_takes_extra and data)
    value: Any = data if supplied or not f.model_optional else NOTHING
    count = len(errors)
    _validate(f, value, (f.source,), values, errors)
    if f.source == "header" and renamed:  # report the header names that were looked for
        for err in errors[count:]:
            loc = err["loc"]
            if len(loc) > 1 and loc[1] in renamed:
                err["loc"] = (loc[0], renamed[loc[1]], *loc[2:])


def _body(fields: list[ParamField], body: Any, embed: bool, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    if type(body) is PreValidated:
        body = json.loads(body.data)
    if type(body) is FormData:  # exact type: an ABC isinstance costs more, on every JSON body
        _form(fields, body, values, errors)
        return
    if not embed:  # one parameter: the whole body
        _validate(fields[0], body, ("body",), values, errors)
        return
    for f in fields:
        loc = ("body", f.alias)
        value = NOTHING
        if body is not NOTHING and not isinstance(body, bytes):
            try:
                value = body.get(f.alias, NOTHING)
            except AttributeError:  # embedded fields need an object, not a list, scalar or null
                errors.append(missing(loc))
                continue
        _validate(f, value, loc, values, errors)


def _form(fields: list[ParamField], form: FormData, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    for f in fields:
        if f.form_model_fields is None:
            value = form_value(form, f.alias, f.sequence)
            if f.reads_bytes and value is not NOTHING:
                value = [_read(v) for v in value] if isinstance(value, list) else _read(value)
            _validate(f, value, ("body", f.alias), values, errors)
            continue
        own = {key for key, _ in f.form_model_fields}
        if f.nullable_model and not own.intersection(form.keys()):
            value = NOTHING
        else:  # the model's fields, then the other keys (the model's `extra` policy decides)
            value = {}
            for key, many in f.form_model_fields:
                got = form_value(form, key, many)
                if got is not NOTHING:
                    value[key] = got
            for key in dict.fromkeys(k for k, _ in form.multi_items() if k not in own):
                got = form.getlist(key)
                value[key] = got[0] if len(got) == 1 else got
        _validate(f, value, ("body",), values, errors)


def form_value(form: FormData, key: str, many: bool) -> Any:
    """A form field's value, FastAPI's way: lists take every repeat, empty strings and empty
    file inputs count as absent."""
    if many:
        value = [v for v in form.getlist(key) if not _empty_file(v)]
        return value if value else NOTHING
    value = form.get(key)
    if value is None or value == "" or _empty_file(value):
        return NOTHING
    return value


def _read(value: Any) -> Any:
    """A file declared as `bytes`: its content, leaving the file where it was."""
    if not isinstance(value, UploadFile):
        return value
    position = value.file.tell()
    try:
        return value.file.read()
    finally:
        value.file.seek(position)


def _empty_file(value: Any) -> bool:
    return getattr(value, "filename", None) == "" and getattr(value, "size", None) == 0


def _validate(f: ParamField, value: Any, loc: tuple[Any, ...], values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    if value is NOTHING:
        if f.required:
            errors.append(missing(loc))
            return
        value = f.default()
        if not isinstance(value, _IMMUTABLE):
            value = copy.deepcopy(value)
        if not f.validate_default:
            values[f.name] = value
            return
    try:
        values[f.name] = f.adapter.validate_python(value, from_attributes=True)  # type: ignore[union-attr]
    except ValidationError as exc:
        errors.extend(located(exc, loc))


def missing(loc: tuple[Any, ...]) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


def located(exc: ValidationError, prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    """pydantic's errors with the source prefixed to each location (FastAPI's shape)."""
    return [{**err, "loc": prefix + tuple(err["loc"])} for err in exc.errors(include_url=False)]

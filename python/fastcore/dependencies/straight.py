"""Plan → a straight-line solver: Python source generated per route at start-up, compiled once.

`StraightSolver(plan, overrides_provider)` is a `Solver` whose `solve_sync` (and `solve`) is the
walk `Solver` makes, unrolled for this one dependant tree: every parameter's lookup and
validation, every dependency call, cache read and error check written out in order, with the
adapters, locations and defaults bound as constants. Per request there is then no loop over
nodes or fields, no attribute reads of the plan and no per-level dict of values; on 3.13t,
whose free-threaded build does not specialise generic code, that is most of the solving cost.

The rules are `solve`'s (FastAPI's): sub-dependencies first, each called only if its own
parameters validated; then the dependant's path, query, header, cookie and body parameters;
errors collected in that order and raised together. What is rare keeps `solve`'s helpers
(parameter models, forms, embedded bodies, defaults that are validated or built by a factory).
While the app has dependency overrides, the generic walk runs instead (they can change at any
time, and replace parts of the tree).

For example (the bench route; `pager` a class dependency with two query parameters):

    def solve_sync(state):
        if getattr(PROVIDER, 'dependency_overrides', None):
            return GENERIC_SYNC(state)
        errors = []
        query = state.query()
        ...
        g = query.get('skip')
        if g:
            try:
                f2 = V2(g[-1], from_attributes=True)
            except ValidationError as exc:
                errors.extend(located(exc, L2))
        else:
            f2 = 0
        ...
        if len(errors) == e3:
            r3 = C3(skip=f2, limit=f4)
        ...
"""
from __future__ import annotations

import linecache
import itertools
from typing import Any

from pydantic import ValidationError
from pydantic_core import SchemaValidator

from ..datastructures import FormData
from ..encoders import jsonable_encoder
from ..exceptions import RequestValidationError
from ..security.base import SecurityBase
from ..security.oauth2 import SecurityScopes
from .models import ParamField
from .solve import (_IMMUTABLE, NOTHING, PreValidated, Solver, _body, _call, _form, _Node, _param_model,
                    _validate, error_body, located, missing, run_sync)
from .special import BackgroundTasks

_serial = itertools.count()


class StraightSolver(Solver):
    """A `Solver` whose `solve_sync`/`solve` are generated for its plan (see the module doc)."""

    def __init__(self, plan: Any, overrides_provider: Any = None) -> None:
        super().__init__(plan, overrides_provider)
        self.source_sync = _Writer(self, is_async=False).source()
        self.source_async = _Writer(self, is_async=True).source()
        self.solve_sync = self._compile(self.source_sync, "solve_sync", Solver.solve_sync)  # type: ignore[method-assign]
        self.solve = self._compile(self.source_async, "solve", Solver.solve)  # type: ignore[method-assign]

    def _compile(self, source: tuple[str, dict[str, Any]], name: str, generic: Any) -> Any:
        text, env = source
        env["GENERIC"] = generic.__get__(self, Solver)
        return self._exec(text, env, name, self.plan.path)

    @staticmethod
    def _exec(text: str, env: dict[str, Any], name: str, path: str) -> Any:
        """Compiles generated source (kept in `linecache`, so tracebacks show its lines) and
        returns the function `name` it defines."""
        filename = f"<fastcore solver {next(_serial)}: {path}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        exec(compile(text, filename, "exec"), env)  # noqa: S102 - our own generated source
        return env[name]


def validator_of(f: ParamField) -> Any:
    """The adapter's pydantic-core validator method, without `TypeAdapter`'s Python wrapper
    (the wrapper itself when the validator is not built yet, e.g. a deferred forward ref)."""
    adapter = f.adapter
    core = getattr(adapter, "validator", None)
    if isinstance(core, SchemaValidator):
        return core.validate_python
    return adapter.validate_python  # type: ignore[union-attr]


def _direct(call: Any) -> bool:
    """fastcore's own security schemes read the request without awaiting anything: called
    through their `_from_state` (no Request object, no coroutine), which the class that
    defines `__call__` must define too; a subclass with its own `__call__` is called as written."""
    if not isinstance(call, SecurityBase):
        return False
    owner = next((c for c in type(call).__mro__ if "__call__" in vars(c)), None)
    return (owner is not None and "_from_state" in vars(owner)
            and owner.__module__.startswith("fastcore.security."))


class _Writer:
    def __init__(self, solver: Solver, is_async: bool) -> None:
        self.solver = solver
        self.is_async = is_async
        self.lines: list[str] = []
        self.env: dict[str, Any] = {
            "NOTHING": NOTHING, "ValidationError": ValidationError, "located": located, "missing": missing,
            "RequestValidationError": RequestValidationError, "jsonable_encoder": jsonable_encoder,
            "error_body": error_body, "run_sync": run_sync, "_call": _call, "_body": _body, "_form": _form,
            "_param_model": _param_model, "_validate": _validate, "FormData": FormData,
            "PreValidated": PreValidated, "BackgroundTasks": BackgroundTasks, "SecurityScopes": SecurityScopes,
            "PROVIDER": solver.provider,
        }
        self.n = 0
        tree = solver.plan.dependant.walk()
        keys = [d.cache_key for d in tree[1:]]
        self.shared = {k for k in keys if keys.count(k) > 1}  # cache keys met more than once
        self.seen: set[Any] = set()

    def const(self, prefix: str, value: Any) -> str:
        self.n += 1
        name = f"{prefix}{self.n}"
        self.env[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def source(self) -> tuple[str, dict[str, Any]]:
        solver = self.solver
        plan = solver.plan
        tree = plan.dependant.walk()
        head = "async def solve(state):" if self.is_async else "def solve_sync(state):"
        self.emit(0, head)
        if solver.provider is not None:
            self.emit(1, "if getattr(PROVIDER, 'dependency_overrides', None):")
            self.emit(2, "return await GENERIC(state)" if self.is_async else "return GENERIC(state)")
        self.emit(1, "errors = []")
        if any(d.path_params for d in tree):
            self.emit(1, "path = state.raw.path_params")
        if any(d.query_params for d in tree):
            self.emit(1, "query = state.query()")
        if any(d.header_params for d in tree):
            self.emit(1, "headers = state.headers()")
        if any(d.cookie_params for d in tree):
            self.emit(1, "cookies = state.cookies()")
        if self.shared:
            self.emit(1, "cache = state.cache")
        values = self.node(solver.root, 1)
        self.emit(1, "if errors:")
        self.emit(2, "raise RequestValidationError(jsonable_encoder(errors), body=error_body(state))")
        self.emit(1, "return " + _dict(values))
        return "\n".join(self.lines) + "\n", self.env

    # -- one dependant: its sub-dependencies, then its own parameters ---------------------------

    def node(self, node: _Node, depth: int) -> dict[str, str]:
        """Emits the lines solving `node`'s subtree; returns its keyword arguments as
        expressions (valid once no error was recorded)."""
        values: dict[str, str] = {}
        for sub in node.subs:
            k = self.n = self.n + 1
            fallible = _fallible(sub)
            if fallible:
                self.emit(depth, f"e{k} = len(errors)")
            args = self.node(sub, depth)
            inner = depth
            if fallible:
                self.emit(depth, f"if len(errors) == e{k}:")
                inner = depth + 1
            call = self.call(sub, args)
            dep = sub.dep
            key = dep.cache_key
            if dep.use_cache and key in self.seen:
                kname = self.const("K", key)
                self.emit(inner, f"r{k} = cache.get({kname}, NOTHING)")
                self.emit(inner, f"if r{k} is NOTHING:")
                self.emit(inner + 1, f"r{k} = {call}")
            else:
                self.emit(inner, f"r{k} = {call}")
            if key in self.shared:
                self.emit(inner, f"cache.setdefault({self.const('K', key)}, r{k})")
            self.seen.add(key)
            if dep.name is not None:
                values[dep.name] = f"r{k}"
        self.own(node, depth, values)
        return values

    def call(self, node: _Node, args: dict[str, str]) -> str:
        dep = node.dep
        aw = "await " if self.is_async else ""
        if dep.limiter is None and dep.kind == "sync":
            return f"{self.const('C', node.call)}({_kwargs(args)})"
        if dep.limiter is None and dep.kind == "async":
            if _direct(node.call):
                return f"{self.const('C', node.call)}._from_state(state)"
            target = f"{self.const('C', node.call)}({_kwargs(args)})"
            return f"{aw}{target}" if self.is_async else f"run_sync({target})"
        target = f"_call({self.const('N', node)}, {_dict(args)}, state)"
        return f"{aw}{target}" if self.is_async else f"run_sync({target})"

    def own(self, node: _Node, depth: int, values: dict[str, str]) -> None:
        dep = node.dep
        for f in dep.path_params:
            loc = self.const("L", ("path", f.alias))
            self.emit(depth, f"v = path.get({f.alias!r}, NOTHING)")
            if f.adapter is None:
                x = self.var(values, f)
                self.emit(depth, "if v is not NOTHING:")
                self.emit(depth + 1, f"{x} = v")
                self.emit(depth, "else:")
                self.absent(f, loc, x, depth + 1)
            else:
                self.check(f, "v", loc, depth, values, test="v is not NOTHING")
        for f in dep.query_params:
            if f.param_model_fields is not None:
                self.helper(f, values, depth, f"_param_model({self.const('F', f)}, query, -1, d, errors)")
                continue
            loc = self.const("L", ("query", f.alias))
            self.emit(depth, f"g = query.get({f.alias!r})")
            self.check(f, "g" if f.sequence else "g[-1]", loc, depth, values, test="g")
        for f in dep.header_params:
            if f.param_model_fields is not None:
                self.helper(f, values, depth, f"_param_model({self.const('F', f)}, headers, 0, d, errors)")
                continue
            loc = self.const("L", ("header", f.alias))
            self.emit(depth, f"g = headers.get({f.key!r})")
            self.check(f, "g" if f.sequence else "g[0]", loc, depth, values, test="g")
        for f in dep.cookie_params:
            if f.param_model_fields is not None:
                self.helper(f, values, depth, f"_param_model({self.const('F', f)}, "
                                              "{k: [v] for k, v in cookies.items()}, -1, d, errors)")
                continue
            loc = self.const("L", ("cookie", f.alias))
            self.emit(depth, f"v = cookies.get({f.alias!r})")
            self.check(f, "v", loc, depth, values, test="v is not None")
        if dep.body_params:
            self.body(dep.body_params, depth, values)
        if dep.request_param_name is not None:
            values[dep.request_param_name] = "state.get_request()"
        if dep.websocket_param_name is not None:
            values[dep.websocket_param_name] = "state.websocket"
        if dep.background_tasks_param_name is not None:
            self.emit(depth, "if state.background is None:")
            self.emit(depth + 1, "state.background = BackgroundTasks()")
            values[dep.background_tasks_param_name] = "state.background"
        if dep.response_param_name is not None:
            values[dep.response_param_name] = "state.get_response()"
        if dep.security_scopes_param_name is not None:
            values[dep.security_scopes_param_name] = f"SecurityScopes(scopes=list({self.const('S', node.scopes)}))"

    def body(self, fields: list[ParamField], depth: int, values: dict[str, str]) -> None:
        names = self.const("B", fields)
        if self.solver.embed:
            self.emit(depth, "d = {}")
            self.emit(depth, f"_body({names}, state.body, True, d, errors)")
            for f in fields:
                x = self.var(values, f)
                self.emit(depth, f"{x} = d.get({f.name!r})")
            return
        f = fields[0]
        x = self.var(values, f)
        self.emit(depth, "b = state.body")
        self.emit(depth, "if type(b) is PreValidated:")
        self.emit(depth + 1, f"{x} = b.value")
        self.emit(depth, "elif type(b) is FormData:")
        self.emit(depth + 1, "d = {}")
        self.emit(depth + 1, f"_form({names}, b, d, errors)")
        self.emit(depth + 1, f"{x} = d.get({f.name!r})")
        self.emit(depth, "else:")
        self.check(f, "b", self.const("L", ("body",)), depth + 1, values, test="b is not NOTHING", x=x)

    # -- one parameter ----------------------------------------------------------------------------

    def var(self, values: dict[str, str], f: ParamField) -> str:
        self.n += 1
        values[f.name] = name = f"f{self.n}"
        return name

    def check(self, f: ParamField, expr: str, loc: str, depth: int, values: dict[str, str], *, test: str,
              x: str | None = None) -> None:
        """`if test: validate expr, else: the parameter is absent`."""
        x = x or self.var(values, f)
        if expr in ("v", "g[-1]", "g[0]") and _plain_str(f):
            # One path, query or header value (a str) for a plain `str`: validation would hand
            # back the same str, so it is taken as it is.
            self.emit(depth, f"if {test}:")
            self.emit(depth + 1, f"{x} = {expr}")
            self.emit(depth, "else:")
            self.absent(f, loc, x, depth + 1)
            return
        validate = self.const("V", validator_of(f))
        self.emit(depth, f"if {test}:")
        self.emit(depth + 1, "try:")
        self.emit(depth + 2, f"{x} = {validate}({expr}, from_attributes=True)")
        self.emit(depth + 1, "except ValidationError as exc:")
        self.emit(depth + 2, f"errors.extend(located(exc, {loc}))")
        self.emit(depth, "else:")
        self.absent(f, loc, x, depth + 1)

    def absent(self, f: ParamField, loc: str, x: str, depth: int) -> None:
        """What `_validate` does with NOTHING: missing, the default, or the default validated."""
        if f.required:
            self.emit(depth, f"errors.append(missing({loc}))")
            return
        info = f.field_info
        if info.default_factory is None and not f.validate_default and isinstance(info.default, _IMMUTABLE):
            self.emit(depth, f"{x} = {self.const('D', info.default)}")
            return
        self.emit(depth, "d = {}")
        self.emit(depth, f"_validate({self.const('F', f)}, NOTHING, {loc}, d, errors)")
        self.emit(depth, f"{x} = d.get({f.name!r})")

    def helper(self, f: ParamField, values: dict[str, str], depth: int, call: str) -> None:
        x = self.var(values, f)
        self.emit(depth, "d = {}")
        self.emit(depth, call)
        self.emit(depth, f"{x} = d.get({f.name!r})")


def _plain_str(f: ParamField) -> bool:
    """The parameter is `str` (or `str | None`) with no constraint, no strictness, no config:
    pydantic's validation of a str is then the identity."""
    if f.source not in ("path", "query", "header") or f.sequence or getattr(f.adapter, "_config", None):
        return False
    try:
        schema = f.adapter.core_schema  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - no adapter, or one whose schema cannot be built yet
        return False
    if isinstance(schema, dict) and schema.get("type") == "nullable" and set(schema) <= {"type", "schema"}:
        schema = schema["schema"]
    return isinstance(schema, dict) and set(schema) <= {"type", "metadata"} and schema.get("type") == "str"


def _fallible(node: _Node) -> bool:
    """Whether solving the subtree can record an error (only parameters can)."""
    return node.has_fields or any(_fallible(s) for s in node.subs)


def _kwargs(args: dict[str, str]) -> str:
    return ", ".join(f"{name}={expr}" for name, expr in args.items())


def _dict(args: dict[str, str]) -> str:
    return "{" + ", ".join(f"{name!r}: {expr}" for name, expr in args.items()) + "}"

"""A whole endpoint generated for plain routes: the solver, the handler call and the finish in one
function, with no per-request `State`.

`fused_endpoint(func, plan, finish, from_bytes)` returns None unless the route is plain: a sync
handler with no dependencies, taking only path, query and header parameters (no parameter
models) and at most one JSON body parameter (not embedded, not a form), nothing injected
(Request, Response, BackgroundTasks, SecurityScopes). Those are the routes most APIs are made
of, and for them `handler._sync_endpoint`'s steps (a `State`, a call to the generated solver, a
dict of values spread into the call, a call to the finisher that looks at `state.response`)
are all overhead. The lines that look up and validate each parameter are `straight`'s own
(`_Writer.own`), so the rules (FastAPI's) are the same; the body is read as
`handler.read_json_body` reads it; the finish is `Finisher.plain` (the finisher without an
injected `Response`). Dependency overrides cannot apply: there is no dependency to override.

For the bench's `read_user(user_id: int, q: str | None = None)`:

    def endpoint(raw):
        errors = []
        path = raw.path_params
        query = raw.query_lists()
        v = path.get('user_id', NOTHING)
        if v is not NOTHING:
            try:
                f1 = V2(v, from_attributes=True)
            ...
        g = query.get('q')
        if g:
            f3 = g[-1]          # `str` from a query string: validating it changes nothing
        else:
            f3 = D5
        if errors:
            raise RequestValidationError(jsonable_encoder(errors), body=None)
        return FUNC(user_id=f1, q=f3)
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .models import EndpointPlan, ParamField
from .solve import NOTHING, PreValidated
from .straight import StraightSolver, _kwargs, _Writer


def plain(plan: EndpointPlan) -> bool:
    """Whether the route's endpoint can be fused (see the module summary)."""
    dep = plan.dependant
    params = dep.path_params + dep.query_params + dep.header_params
    return (not plan.needs_async and not dep.dependencies and not dep.cookie_params
            and dep.request_param_name is None and dep.websocket_param_name is None
            and dep.response_param_name is None and dep.background_tasks_param_name is None
            and dep.security_scopes_param_name is None
            and all(f.param_model_fields is None for f in params)
            and len(dep.body_params) <= 1 and not plan.embed_body_fields and not plan.body_is_form)


def fused_endpoint(func: Callable[..., Any], plan: EndpointPlan, finish: Any, from_bytes: Any,
                   read_json_body: Callable[..., Any]) -> Callable[..., Any] | None:
    if not plain(plan):
        return None
    writer = _FusedWriter(StraightSolver.__new__(StraightSolver), plan, func, finish, from_bytes, read_json_body)
    text, env = writer.fused_source()
    return StraightSolver._exec(text, env, "endpoint", plan.path)


class _FusedWriter(_Writer):
    def __init__(self, solver: Any, plan: EndpointPlan, func: Any, finish: Any, from_bytes: Any,
                 read_json_body: Any) -> None:
        # `_Writer` reads the plan, the provider and the tree from its solver; a fused route has
        # no provider to consult and no tree below the endpoint.
        solver.plan, solver.provider, solver.embed = plan, None, False
        super().__init__(solver, is_async=False)
        self.func, self.finish, self.from_bytes, self.read = func, finish, from_bytes, read_json_body

    def fused_source(self) -> tuple[str, dict[str, Any]]:
        dep = self.solver.plan.dependant
        self.emit(0, "def endpoint(raw):")
        self.emit(1, "errors = []")
        if dep.path_params:
            self.emit(1, "path = raw.path_params")
        if dep.query_params:
            self.emit(1, "query = raw.query_lists()")
        if dep.header_params:
            self.emit(1, "headers = raw.header_lists()")
        body = "None"
        if dep.body_params:
            # As `handler._sync_endpoint`: the body is read (and a malformed one refused) first.
            read, from_bytes = self.const("READ", self.read), self.const("FB", self.from_bytes)
            self.emit(1, f"b = {read}(raw.body, raw.header('content-type'), {from_bytes})")
            body = "error_body_of(b)"
            self.env["error_body_of"] = _error_body
        values: dict[str, str] = {}
        self.own_params(dep, values)
        self.emit(1, "if errors:")
        self.emit(2, f"raise RequestValidationError(jsonable_encoder(errors), body={body})")
        call = f"{self.const('FUNC', self.func)}({_kwargs(values)})"
        if self.finish.trivial:
            self.emit(1, f"return {call}")
        else:
            self.emit(1, f"return {self.const('FINISH', self.finish.plain)}({call})")
        return "\n".join(self.lines) + "\n", self.env

    def own_params(self, dep: Any, values: dict[str, str]) -> None:
        self.own(_Root(dep), 1, values)

    def body(self, fields: list[ParamField], depth: int, values: dict[str, str]) -> None:
        f = fields[0]
        x = self.var(values, f)
        self.emit(depth, "if type(b) is PreValidated:")
        self.emit(depth + 1, f"{x} = b.value")
        self.emit(depth, "else:")
        self.check(f, "b", self.const("L", ("body",)), depth + 1, values, test="b is not NOTHING", x=x)


class _Root:
    """The one node `_Writer.own` reads: the endpoint's own parameters (scopes unused here)."""

    def __init__(self, dep: Any) -> None:
        self.dep = dep
        self.scopes = ()


def _error_body(body: Any) -> Any:
    """What `solve.error_body` gives for this body (no `State` here)."""
    if body is NOTHING:
        return None
    if type(body) is PreValidated:
        return json.loads(body.data)
    return body

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

from .._core import JsonReply
from .json_body import is_json
from .models import EndpointPlan, ParamField
from .solve import NOTHING
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
        values: dict[str, str] = {}
        self.body_var: str | None = None
        if dep.body_params:
            body = "error_body_of(b, data)"
            self.env["error_body_of"] = _error_body
            self.read_body(dep.body_params[0], values)
        self.own_params(dep, values)
        self.emit(1, "if errors:")
        self.emit(2, f"raise RequestValidationError(jsonable_encoder(errors), body={body})")
        call = f"{self.const('FUNC', self.func)}({_kwargs(values)})"
        finish = self.finish
        if finish.trivial:
            self.emit(1, f"return {call}")
        elif finish.exact is not None:
            # `Finisher.plain`'s first case written out: an instance of exactly the model is
            # only serialised, with the arguments that differ from `to_json`'s defaults.
            self.emit(1, f"r = {call}")
            self.emit(1, f"if type(r) is {self.const('EXACT', finish.exact)}:")
            args = "".join(f", {k}={self.const('A', v)}" for k, v in finish.dump_args.items())
            reply = self.const("JsonReply", JsonReply)
            self.emit(2, f"return {reply}({self.const('TO_JSON', finish.to_json)}(r{args}), {finish.status_code or 200})")
            self.emit(1, f"return {self.const('FINISH', finish.plain)}(r)")
        else:
            self.emit(1, f"return {self.const('FINISH', finish.plain)}({call})")
        return "\n".join(self.lines) + "\n", self.env

    def read_body(self, f: ParamField, values: dict[str, str]) -> None:
        """As `handler._sync_endpoint`: the body is read (and a malformed one refused) before
        the parameters are validated. Where the route validates it from its bytes
        (`read_json_body`'s `from_bytes`) that is written out here: its value goes straight
        into the body parameter and `b` is VALIDATED; otherwise `b` is what `parse_json_body`
        (via `read_json_body`) gives, validated with the other parameters."""
        self.body_var = x = self.var(values, f)
        self.emit(1, "data = raw.body")
        self.emit(1, "ct = raw.header('content-type')")
        read = self.const("READ", self.read)
        if self.from_bytes is None:
            self.emit(1, f"b = {read}(data, ct, None)")
            return
        self.env["VALIDATED"], self.env["IS_JSON"] = _VALIDATED, is_json
        self.emit(1, "if data and (ct == 'application/json' or IS_JSON(ct)):")
        self.emit(2, "try:")
        self.emit(3, f"{x} = {self.const('FB', self.from_bytes)}(data)")
        self.emit(3, "b = VALIDATED")
        self.emit(2, "except ValidationError:")
        self.emit(3, f"b = {read}(data, ct, None)")
        self.emit(1, "else:")
        self.emit(2, f"b = {read}(data, ct, None)")

    def own_params(self, dep: Any, values: dict[str, str]) -> None:
        self.own(_Root(dep), 1, values)

    def body(self, fields: list[ParamField], depth: int, values: dict[str, str]) -> None:
        f = fields[0]
        x = self.body_var
        assert x is not None
        loc = self.const("L", ("body",))
        if self.from_bytes is None:
            self.check(f, "b", loc, depth, values, test="b is not NOTHING", x=x)
            return
        self.emit(depth, "if b is not VALIDATED:")
        self.check(f, "b", loc, depth + 1, values, test="b is not NOTHING", x=x)


class _Root:
    """The one node `_Writer.own` reads: the endpoint's own parameters (scopes unused here)."""

    def __init__(self, dep: Any) -> None:
        self.dep = dep
        self.scopes = ()


# `b` when the body parameter was validated straight from the bytes.
_VALIDATED: Any = type("Validated", (), {"__repr__": lambda self: "VALIDATED"})()


def _error_body(body: Any, data: bytes) -> Any:
    """What `solve.error_body` gives for this body (no `State` here)."""
    if body is NOTHING:
        return None
    if body is _VALIDATED:
        return json.loads(data)
    return body

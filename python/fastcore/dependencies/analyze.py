"""Signature → plan, once per route when it is registered (FastAPI's `get_dependant` rules).

    @app.get("/users/{user_id}")
    def read_user(user_id: int, q: str | None = None, x_token: str = Header(),
                  db=Depends(get_db), request: Request = None): ...

- a name in the path is a path parameter (`int`, `float` and `str` without constraints are
  converted by the Rust router, anything else validated here with pydantic);
- a marker (`Query()`, `Header()`, `Body()`... in the default or in `Annotated`) says where;
- `Depends(...)` is a sub-dependency, analysed the same way, recursively;
- `Request`, `Response`, `BackgroundTasks` and `SecurityScopes` annotations are injected;
- otherwise a scalar (or `Optional`, `Enum`, `Literal`...) is a query parameter, and a pydantic
  model, dataclass, `dict` or sequence is (a key of) the JSON body; `UploadFile` is a file.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Callable, Sequence

from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from .. import params
from ..requests import Request
from ..websockets import WebSocket
from ..responses import Response
from ..security.base import SecurityBase
from ..security.oauth2 import SecurityScopes
from .models import CallKind, Dependant, EndpointPlan, ParamField
from .special import BackgroundTasks, UploadFile

_PARAM = re.compile(r"\{([^{}:]+)(?::([^{}]+))?\}")
_CONVERTERS = {int: "int", float: "float", str: "str"}
_SEQUENCES = (list, tuple, set, frozenset, Sequence)
_UNIONS = (typing.Union, types.UnionType)


def analyze(func: Callable[..., Any], path: str, dependencies: Sequence[params.Depends] = ()) -> EndpointPlan:
    """The plan of a route: the endpoint's dependant, with `dependencies=[...]` first."""
    declared = {m.group(1): m.group(2) for m in _PARAM.finditer(path)}
    dependant = get_dependant(path=path, call=func, scope="function", path_names=declared)
    for depends in reversed(list(dependencies)):
        assert callable(depends.dependency), "A parameter-less dependency must have a callable dependency"
        own = list(depends.scopes or []) if isinstance(depends, params.Security) else []
        sub = get_dependant(path=path, call=depends.dependency, own_oauth_scopes=own, use_cache=depends.use_cache,
                            scope=depends.scope, path_names=declared)
        sub.limiter = depends.limiter()
        dependant.dependencies.insert(0, sub)
    tree = dependant.walk()
    awaited = [d for d in tree if d.kind == "asyncgen" or d.limiter is not None
               or (d.kind == "async" and not _never_suspends(d.call))]
    if not dependant.path_only():
        # Solved in Python anyway: validate there too, so a bad path value is reported with
        # every other error of the request, as FastAPI does (the router would answer alone).
        for d in tree:
            for p in d.path_params:
                if p.adapter is None and p.annotation in (int, float) and declared.get(p.name) is None:
                    p.adapter, p.converter = TypeAdapter(p.annotation), "str"
    converters: dict[str, str] = {}
    for d in reversed(tree):  # the endpoint's own declaration wins
        converters.update((p.name, p.converter or "str") for p in d.path_params)
    router_path = _PARAM.sub(lambda m: "{%s:%s}" % (m.group(1), converters.get(m.group(1), m.group(2) or "str")), path)
    body = tuple(p for d in tree for p in d.body_params)
    return EndpointPlan(
        path=path, router_path=router_path, dependant=dependant, body_params=body,
        embed_body_fields=_should_embed(body),
        is_async=dependant.kind == "async",
        needs_async=bool(awaited),
        has_exits=any(d.kind in ("gen", "asyncgen") for d in tree))


def get_dependant(*, path: str, call: Callable[..., Any], name: str | None = None,
                  own_oauth_scopes: list[str] | None = None, parent_oauth_scopes: list[str] | None = None,
                  use_cache: bool = True, scope: Any = None, path_names: Mapping[str, Any] | None = None) -> Dependant:
    if path_names is None:
        path_names = {m.group(1): m.group(2) for m in _PARAM.finditer(path)}
    dep = Dependant(call=call, name=name, path=path, own_oauth_scopes=list(own_oauth_scopes or []),
                    parent_oauth_scopes=list(parent_oauth_scopes or []), use_cache=use_cache, scope=scope,
                    kind=call_kind(call))
    unwrapped = _unwrap(call)
    if isinstance(unwrapped, SecurityBase):
        dep.security_scheme = unwrapped
    scopes = dep.oauth_scopes
    for pname, param in _typed_parameters(call):
        annotation, depends, fi, validated = analyze_param(pname, param.annotation, param.default, path_names)
        if depends is not None:
            own = list(depends.scopes or []) if isinstance(depends, params.Security) else []
            sub = get_dependant(
                path=path, call=depends.dependency, name=pname, own_oauth_scopes=own, parent_oauth_scopes=scopes,
                use_cache=depends.use_cache, scope=depends.scope, path_names=path_names)
            sub.limiter = depends.limiter()
            dep.dependencies.append(sub)
        elif fi is None:
            _add_special(dep, pname, annotation)
        else:
            _add_field(dep, pname, annotation, validated, fi, path_names)
    dep.cache_key = (call, tuple(sorted(set(dep.oauth_scopes))) if _uses_scopes(dep) else ())
    return dep


def call_kind(call: Any) -> CallKind:
    """How a dependency is called; classes are plain calls, callable instances by `__call__`."""
    for target in (call, _unwrap(call)):
        if inspect.isasyncgenfunction(target):
            return "asyncgen"
        if inspect.isgeneratorfunction(target):
            return "gen"
        if inspect.iscoroutinefunction(target):
            return "async"
    if inspect.isclass(_unwrap(call)):
        return "sync"
    dunder = getattr(_unwrap(call), "__call__", None)  # noqa: B004
    if dunder is not None and not inspect.isfunction(call) and not inspect.ismethod(call):
        for target in (dunder, _unwrap(dunder)):
            if inspect.isasyncgenfunction(target):
                return "asyncgen"
            if inspect.isgeneratorfunction(target):
                return "gen"
            if inspect.iscoroutinefunction(target):
                return "async"
    return "sync"


def analyze_param(name: str, annotation: Any, value: Any, path_names: Mapping[str, Any]
                  ) -> tuple[Any, params.Depends | None, FieldInfo | None, Any]:
    """(type annotation, Depends or None, FieldInfo marker or None, the annotation to validate
    with: the declared one with any `Annotated` metadata other than the marker)."""
    is_path = name in path_names
    if type(annotation).__name__ == "TypeAliasType":  # `type X = Annotated[...]` (PEP 695)
        annotation = annotation.__value__
    type_ann = Any if annotation is inspect.Parameter.empty else annotation
    full_ann = type_ann
    marker: Any = None
    if typing.get_origin(type_ann) is Annotated:
        args = typing.get_args(type_ann)
        type_ann = args[0]
        ours = [a for a in args[1:] if isinstance(a, (params.Param, params.Body, params.Depends))]
        marker = ours[-1] if ours else None
    depends: params.Depends | None = None
    fi: FieldInfo | None = None
    if isinstance(marker, params.Depends):
        depends = marker
    elif isinstance(marker, FieldInfo):
        assert marker.default is params.Undefined or marker.default is ..., (
            f"`{type(marker).__name__}` default value cannot be set in `Annotated` for {name!r}. "
            "Set the default value with `=` instead.")
        fi = _copy(marker)
        if value is not inspect.Parameter.empty:
            assert not is_path, "Path parameters cannot have default values"
            fi.default = value
        else:
            fi.default = params.Undefined
    if isinstance(value, params.Depends):
        assert depends is None and fi is None, f"Cannot specify `Depends` in `Annotated` and default value together for {name!r}"
        depends = value
    elif isinstance(value, FieldInfo):
        assert fi is None, f"Cannot specify FastAPI annotations in `Annotated` and default value together for {name!r}"
        fi = _copy(value)
        if fi.default is ...:
            fi.default = params.Undefined
    if depends is not None:
        if depends.dependency is None:
            limiter = depends.limiter()
            depends = dataclasses.replace(depends, dependency=type_ann)
            if limiter is not None:  # one limit per declaration, however many routes use it
                object.__setattr__(depends, "_limiter", limiter)
        return type_ann, depends, None, None
    if _lenient_issubclass(type_ann, (Request, WebSocket, Response, BackgroundTasks, SecurityScopes)):
        assert fi is None, f"Cannot specify FastAPI annotation for type {type_ann!r}"
        return type_ann, None, None, None
    if fi is None:
        default = params.Undefined if value is inspect.Parameter.empty else value
        if is_path:
            fi = params.Path()
        elif _is_uploadfile(type_ann):
            fi = params.File(default)
        elif not is_scalar(type_ann):
            fi = params.Body(default)
        else:
            fi = params.Query(default)
    if is_path:
        assert isinstance(fi, params.Path), f"Cannot use `{type(fi).__name__}` for path param {name!r}"
    return type_ann, None, fi, (_strip_marker(full_ann, marker) if marker is not None else full_ann)


def is_scalar(annotation: Any) -> bool:
    """FastAPI's rule: not a model, mapping, sequence, dataclass or UploadFile (also inside a
    union or `Annotated`)."""
    return annotation is Ellipsis or not _is_complex(annotation)


def is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return is_sequence(typing.get_args(annotation)[0])
    if origin in _UNIONS:
        return any(is_sequence(a) for a in typing.get_args(annotation))
    return _seq_type(annotation) or _seq_type(origin)


# -- helpers ----------------------------------------------------------------------------------

def _add_field(dep: Dependant, name: str, annotation: Any, ann: Any, fi: FieldInfo,
               path_names: Mapping[str, Any]) -> None:
    if isinstance(fi, params.Header) and not fi.alias and fi.convert_underscores:
        alias = name.replace("_", "-")
    else:
        alias = fi.alias or name
    if isinstance(fi.validation_alias, str) and fi.validation_alias:
        alias = fi.validation_alias  # FastAPI reads (and reports) a parameter by it
    required = fi.is_required()
    if isinstance(fi, params.Path):
        declared = path_names.get(name)
        if ann is Any and not fi.metadata:  # no annotation: the string as the router gives it
            adapter, converter = None, declared or "str"
        elif ann in _CONVERTERS and not fi.metadata and declared in (None, _CONVERTERS[ann], "path"):
            adapter, converter = None, declared or _CONVERTERS[ann]  # converted in Rust
        else:
            adapter, converter = _adapter(ann, fi), declared if declared == "path" else "str"
        dep.path_params.append(ParamField(name, "path", alias, fi, annotation, adapter, True, converter=converter))
        return
    field = ParamField(name, "body", alias, fi, annotation, _adapter(ann, fi), required,
                       sequence=is_sequence(annotation))
    if isinstance(fi, params.Body):
        field.embed = fi.embed
        field.is_form = isinstance(fi, params.Form)
        field.is_file = isinstance(fi, params.File)
        if field.is_form:
            _form_details(field, annotation)
        dep.body_params.append(field)
        return
    field.source = fi.in_.value  # type: ignore[attr-defined]
    field.key = alias.lower() if field.source == "header" else alias
    model = _model_type(annotation)
    if model is not None:
        convert = field.source == "header" and getattr(fi, "convert_underscores", True)
        pairs = []
        for fname, info in model.model_fields.items():
            key = info.validation_alias if isinstance(info.validation_alias, str) else (info.alias or fname)
            request_key = key.replace("_", "-") if convert and key == fname else key
            pairs.append((key, request_key.lower() if field.source == "header" else request_key,
                          is_sequence(info.annotation)))
        field.param_model_fields = tuple(pairs)
        field.model_optional = _base(annotation) is not model
        field.model_takes_extra = model.model_config.get("extra") in ("allow", "forbid")
    if field.source == "query":
        assert is_scalar(annotation) or _scalar_sequence(annotation) or model is not None, (
            f"Query parameter {name!r} must be one of the supported types")
        dep.query_params.append(field)
    elif field.source == "header":
        dep.header_params.append(field)
    else:
        dep.cookie_params.append(field)


def _model_type(annotation: Any) -> Any:
    """The pydantic model of `Model` or `Model | None` (for Query/Header/Cookie models)."""
    annotation = _base(annotation)
    if typing.get_origin(annotation) in _UNIONS:
        args = typing.get_args(annotation)
        if len(args) == 2 and type(None) in args:
            annotation = next(a for a in args if a is not type(None))
    return annotation if _lenient_issubclass(annotation, BaseModel) else None


def _form_details(field: ParamField, annotation: Any) -> None:
    base = _base(annotation)
    args = typing.get_args(base) if typing.get_origin(base) in _UNIONS else ()
    model = base
    if args and len(args) == 2 and type(None) in args:
        model = next(a for a in args if a is not type(None))
        field.nullable_model = _lenient_issubclass(model, BaseModel)
    if _lenient_issubclass(model, BaseModel) and not field.embed:
        pairs = []
        for name, info in model.model_fields.items():
            key = info.validation_alias if isinstance(info.validation_alias, str) else (info.alias or name)
            pairs.append((key, is_sequence(info.annotation)))
        field.form_model_fields = tuple(pairs)
    if field.is_file:
        field.reads_bytes = _mentions_bytes(base)


def _mentions_bytes(annotation: Any) -> bool:
    if _lenient_issubclass(annotation, bytes):
        return True
    origin = typing.get_origin(annotation)
    if origin in _UNIONS or is_sequence(annotation):
        return any(_mentions_bytes(a) for a in typing.get_args(annotation))
    return False


def _add_special(dep: Dependant, name: str, annotation: Any) -> None:
    if _lenient_issubclass(annotation, Request):
        dep.request_param_name = name
    elif _lenient_issubclass(annotation, WebSocket):
        dep.websocket_param_name = name
    elif _lenient_issubclass(annotation, Response):
        dep.response_param_name = name
    elif _lenient_issubclass(annotation, BackgroundTasks):
        dep.background_tasks_param_name = name
    elif _lenient_issubclass(annotation, SecurityScopes):
        dep.security_scopes_param_name = name


def _adapter(annotation: Any, fi: FieldInfo) -> TypeAdapter:
    """Validates like FastAPI's field: the annotation plus the marker's constraints."""
    extra = list(fi.metadata)
    return TypeAdapter(Annotated[(annotation, *extra)] if extra else annotation)


def _strip_marker(annotation: Any, marker: Any) -> Any:
    args = typing.get_args(annotation)
    rest = [a for a in args[1:] if a is not marker]
    return Annotated[(args[0], *rest)] if rest else args[0]


def _copy(fi: FieldInfo) -> FieldInfo:
    """A copy to set the default on: one marker object may serve several parameters."""
    new = copy.copy(fi)
    new.metadata = list(fi.metadata)
    return new


def _typed_parameters(call: Callable[..., Any]) -> list[tuple[str, inspect.Parameter]]:
    target = call
    if inspect.isclass(_unwrap(call)):
        target = _unwrap(call)
    try:
        sig = inspect.signature(target, eval_str=True)
    except NameError:
        sig = inspect.signature(target)
    return [(n, p) for n, p in sig.parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _never_suspends(call: Any) -> bool:
    """fastcore's own security schemes are `async def` (as FastAPI's, for code that awaits
    them) but await nothing: a plan they are the only async part of still runs without a loop
    (`solve.run_sync` drives their coroutines to the end). A subclass's own `__call__` does not
    count."""
    method = getattr(type(call), "__call__", None)
    return isinstance(call, SecurityBase) and getattr(method, "__module__", "").startswith("fastcore.security.")


def _unwrap(call: Any) -> Any:
    while isinstance(call, functools.partial):
        call = call.func
    return inspect.unwrap(call) if callable(call) else call


def _uses_scopes(dep: Dependant) -> bool:
    return bool(dep.own_oauth_scopes or dep.security_scopes_param_name or dep.security_scheme is not None
                or any(_uses_scopes(s) for s in dep.dependencies))


def _should_embed(fields: tuple[ParamField, ...]) -> bool:
    """FastAPI's rule: several body parameters, `embed=True`, or a lone non-model form field."""
    if not fields:
        return False
    if len({f.name for f in fields}) > 1:
        return True
    first = fields[0]
    if first.embed:
        return True
    return first.is_form and first.form_model_fields is None


def _base(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _lenient_issubclass(cls: Any, types_: Any) -> bool:
    return isinstance(cls, type) and not isinstance(cls, types.GenericAlias) and issubclass(cls, types_)


def _seq_type(annotation: Any) -> bool:
    if _lenient_issubclass(annotation, (str, bytes)):
        return False
    return _lenient_issubclass(annotation, _SEQUENCES)


def _is_complex(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in _UNIONS:
        return any(_is_complex(a) for a in typing.get_args(annotation))
    if origin is Annotated:
        return _is_complex(typing.get_args(annotation)[0])
    for a in (annotation, origin):
        if _lenient_issubclass(a, (BaseModel, Mapping, UploadFile)) or _seq_type(a) or dataclasses.is_dataclass(a):
            return True
    return hasattr(origin, "__pydantic_core_schema__") or hasattr(origin, "__get_pydantic_core_schema__")


def _scalar_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _scalar_sequence(typing.get_args(annotation)[0])
    if origin in _UNIONS:
        found = False
        for a in typing.get_args(annotation):
            if _scalar_sequence(a):
                found = True
            elif not is_scalar(a):
                return False
        return found
    return is_sequence(annotation) and all(is_scalar(a) for a in typing.get_args(annotation))


def _is_uploadfile(annotation: Any) -> bool:
    if _lenient_issubclass(annotation, UploadFile):
        return True
    origin = typing.get_origin(annotation)
    if origin in _UNIONS:
        return any(_is_uploadfile(a) for a in typing.get_args(annotation))
    if is_sequence(annotation):
        return any(_is_uploadfile(a) for a in typing.get_args(annotation))
    return False

"""The OpenAPI document of an app, read from its routes' plans, as FastAPI 0.165 writes it.

    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)

Each `APIRoute` contributes one operation per method: its parameters (every dependency's, once
per dependency, model parameters expanded into their fields), its request body (one parameter,
or a `Body_<operationId>` model of several), its responses (the status code with the response
model, `responses=`, a 422 when anything is validated) and the security schemes found along its
dependency chain. The rules, names and order are FastAPI's (`fastapi/openapi/utils.py`), so a
ported app's document is the same document. Run once per app (`FastCore.openapi()` caches it).
"""
from __future__ import annotations

import copy
import http.client
import inspect
import warnings
from typing import Any, Sequence

from pydantic_core import PydanticUndefined

from ..dependencies.models import Dependant
from ..encoders import jsonable_encoder
from ..responses import JSONResponse
from .fields import REF_PREFIX, FieldCache, SchemaField, body_field, definitions, field_schema, param_model, response_field
from .models import ordered

METHODS_WITH_BODY = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}

validation_error_definition = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        "loc": {"title": "Location", "type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
    "required": ["loc", "msg", "type"],
}
validation_error_response_definition = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "array", "items": {"$ref": REF_PREFIX + "ValidationError"}}},
}
status_code_ranges = {"1XX": "Information", "2XX": "Success", "3XX": "Redirection", "4XX": "Client Error",
                      "5XX": "Server Error", "DEFAULT": "Default Response"}


def is_body_allowed_for_status_code(status_code: int | str | None) -> bool:
    if status_code is None or status_code in {"default", "1XX", "2XX", "3XX", "4XX", "5XX"}:
        return True
    code = int(status_code)
    return not (code < 200 or code in {204, 205, 304})


def deep_dict_update(main: dict[Any, Any], update: dict[Any, Any]) -> None:
    for key, value in update.items():
        if key in main and isinstance(main[key], dict) and isinstance(value, dict):
            deep_dict_update(main[key], value)
        elif key in main and isinstance(main[key], list) and isinstance(value, list):
            main[key] = main[key] + value
        else:
            main[key] = value


class _RouteData:
    """What one route contributes, gathered from its plan (FastAPI's dependency walk)."""

    def __init__(self, route: Any, cache: FieldCache) -> None:
        self.route = route
        plan = _plan(route)
        self.params: dict[str, list[SchemaField]] = {"path": [], "query": [], "header": [], "cookie": []}
        self.security: list[tuple[Dependant, list[str]]] = []
        visited: list[Any] = []
        stack: list[tuple[Dependant, list[str], bool]] = [(plan.dependant, [], True)]
        while stack:
            dep, parent_scopes, is_root = stack.pop()
            key = dep.cache_key or (dep.call, ())
            if key in visited:
                continue
            visited.append(key)
            for source in ("path", "query", "header", "cookie"):
                self.params[source].extend(cache.param(p) for p in getattr(dep, f"{source}_params"))
            scopes = list(parent_scopes)
            scopes.extend(s for s in dep.oauth_scopes if s not in scopes)
            if not is_root and dep.security_scheme is not None:
                self.security.append((dep, scopes))
            stack.extend((sub, scopes, False) for sub in reversed(dep.dependencies))
        self.body = body_field(cache, plan.body_params, plan.embed_body_fields, route.unique_id)
        model = _response_model(route)
        self.response = response_field("Response_" + route.unique_id, model) if model is not None else None
        self.responses = {code: response_field(f"Response_{code}_{route.unique_id}", r["model"])
                          for code, r in route.responses.items() if isinstance(r, dict) and r.get("model")}
        self.callbacks = [_RouteData(cb, cache) for cb in (route.callbacks or []) if _is_api_route(cb)]

    def fields(self, cache: FieldCache) -> list[SchemaField]:
        """FastAPI's order: callbacks', body, responses, then the (flat) parameters."""
        out: list[SchemaField] = []
        for cb in self.callbacks:
            if cb.route.include_in_schema:
                out.extend(cb.fields(cache))
        if self.body is not None:
            out.append(self.body)
        if self.response is not None:
            out.append(self.response)
        out.extend(self.responses.values())
        for source in ("path", "query", "header", "cookie"):
            out.extend(cache.flat(self.params[source]))
        return out


def _is_api_route(route: Any) -> bool:
    from ..routing import APIRoute

    return isinstance(route, APIRoute)


def _plan(route: Any) -> Any:
    if route.compiled is None:  # a callback route: declared, never served
        from ..dependencies.analyze import analyze

        route.compiled = _Planned(analyze(route.endpoint, route.path, route.dependencies), route)
    return route.compiled.plan


class _Planned:
    def __init__(self, plan: Any, route: Any) -> None:
        from ..handler import infer_response_model

        self.plan = plan
        model = route.response_model
        self.response_model = infer_response_model(route.endpoint) if _is_default(model) else model


def _is_default(value: Any) -> bool:
    return type(value).__name__ in ("DefaultPlaceholder", "Infer")


def _response_model(route: Any) -> Any:
    model = route.compiled.response_model
    if model is None and not _is_default(route.response_model):
        model = route.response_model
    return model or None


def _response_class(route: Any) -> Any:
    cls = route.response_class
    return cls.value if _is_default(cls) else cls


def _default_status(cls: Any) -> str | None:
    param = inspect.signature(cls.__init__).parameters.get("status_code")
    if param is not None and isinstance(param.default, int):
        return str(param.default)
    return None


def _security(data: _RouteData) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    schemes: dict[str, Any] = {}
    merged: dict[str, list[str]] = {}
    for dep, scopes in data.security:
        scheme = dep.security_scheme
        schemes[scheme.scheme_name] = jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
        names = merged.setdefault(scheme.scheme_name, [])
        names.extend(s for s in scopes if s not in names)
    return schemes, [{name: scopes} for name, scopes in merged.items()]


class _Builder:
    """One document's state: the field schemas and the operation ids already used."""

    def __init__(self, cache: FieldCache, mapping: dict[Any, Any], separate: bool) -> None:
        self.cache, self.mapping, self.separate = cache, mapping, separate
        self.operation_ids: set[str] = set()

    def schema(self, field: SchemaField, alias: str | None = None) -> dict[str, Any]:
        return field_schema(field, self.mapping, self.separate, alias)

    def parameters(self, data: _RouteData) -> list[dict[str, Any]]:
        out = []
        for source in ("path", "query", "header", "cookie"):
            for parent in data.params[source]:
                if not getattr(parent.field_info, "include_in_schema", True):
                    continue
                model = param_model(parent)
                optional_model = (model is not None and parent.field_info.annotation is not model
                                  and not parent.field_info.is_required())
                for param in self.cache.flat([parent]):
                    info = param.field_info
                    convert = source == "header" and getattr(info, "convert_underscores",
                                                             getattr(parent.field_info, "convert_underscores", True))
                    alias = param.validation_alias or param.alias
                    name = alias.replace("_", "-") if convert and alias == param.name else alias
                    parameter: dict[str, Any] = {"name": name, "in": source,
                                                 "required": info.is_required() and not optional_model,
                                                 "schema": self.schema(param, alias)}
                    if info.description:
                        parameter["description"] = info.description
                    examples = getattr(info, "openapi_examples", None)
                    example = getattr(info, "example", PydanticUndefined)
                    if examples:
                        parameter["examples"] = jsonable_encoder(examples)
                    elif example is not PydanticUndefined:
                        parameter["example"] = jsonable_encoder(example)
                    if getattr(info, "deprecated", None):
                        parameter["deprecated"] = True
                    out.append(parameter)
        return out

    def request_body(self, field: SchemaField) -> dict[str, Any]:
        info: Any = field.field_info
        out: dict[str, Any] = {}
        if info.is_required():
            out["required"] = True
        content: dict[str, Any] = {"schema": self.schema(field)}
        if getattr(info, "openapi_examples", None):
            content["examples"] = jsonable_encoder(info.openapi_examples)
        elif getattr(info, "example", PydanticUndefined) is not PydanticUndefined:
            content["example"] = jsonable_encoder(info.example)
        out["content"] = {getattr(info, "media_type", "application/json"): content}
        return out

    def path(self, data: _RouteData) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        route = data.route
        path: dict[str, Any] = {}
        security_schemes: dict[str, Any] = {}
        defs: dict[str, Any] = {}
        if not route.include_in_schema:
            return path, security_schemes, defs
        cls = _response_class(route)
        media_type = cls.media_type
        any_params = any(self.cache.flat(data.params[s]) for s in data.params)
        for method in route.methods:
            op: dict[str, Any] = {}
            if route.tags:
                op["tags"] = [t.value if hasattr(t, "value") else t for t in route.tags]
            op["summary"] = route.summary or route.name.replace("_", " ").title()
            if route.description:
                op["description"] = route.description
            op_id = route.operation_id or route.unique_id
            if op_id in self.operation_ids:
                warnings.warn(f"Duplicate Operation ID {op_id} for function "
                              f"{getattr(route.endpoint, '__name__', '<unnamed_endpoint>')}", stacklevel=1)
            self.operation_ids.add(op_id)
            op["operationId"] = op_id
            if route.deprecated:
                op["deprecated"] = route.deprecated
            schemes, op_security = _security(data)
            if op_security:
                op.setdefault("security", []).extend(op_security)
            security_schemes.update(schemes)
            parameters = self.parameters(data)
            if parameters:
                everything = {(p["in"], p["name"]): p for p in parameters}
                everything.update({(p["in"], p["name"]): p for p in parameters if p.get("required")})
                op["parameters"] = list(everything.values())
            if method in METHODS_WITH_BODY and data.body is not None:
                op["requestBody"] = self.request_body(data.body)
            if data.callbacks:
                callbacks = {}
                for cb in data.callbacks:
                    cb_path, _, _ = self.path(cb)
                    callbacks[cb.route.name] = {cb.route.path: cb_path}
                op["callbacks"] = callbacks
            status = str(route.status_code) if route.status_code is not None else _default_status(cls)
            responses = op.setdefault("responses", {})
            responses.setdefault(status, {})["description"] = route.response_description
            if is_body_allowed_for_status_code(route.status_code) and media_type:
                schema: dict[str, Any] = {"type": "string"}
                if isinstance(cls, type) and issubclass(cls, JSONResponse):
                    schema = self.schema(data.response) if data.response is not None else {}
                responses[status].setdefault("content", {}).setdefault(media_type, {})["schema"] = schema
            for code, extra in route.responses.items():
                process = copy.deepcopy(extra)
                process.pop("model", None)
                key = str(code).upper()
                if key == "DEFAULT":
                    key = "default"
                response = responses.setdefault(key, {})
                field = data.responses.get(code)
                if field is not None:
                    target = process.setdefault("content", {}).setdefault(media_type or "application/json", {})
                    deep_dict_update(target.setdefault("schema", {}), self.schema(field))
                text = status_code_ranges.get(str(code).upper()) or (
                    http.client.responses.get(int(code)) if str(code).isdigit() else None)
                description = process.get("description") or response.get("description") or text or "Additional Response"
                deep_dict_update(response, process)
                response["description"] = description
            if (any_params or data.body is not None) and not any(s in responses for s in ("422", "4XX", "default")):
                responses["422"] = {"description": "Validation Error", "content": {
                    "application/json": {"schema": {"$ref": REF_PREFIX + "HTTPValidationError"}}}}
                defs.setdefault("ValidationError", validation_error_definition)
                defs.setdefault("HTTPValidationError", validation_error_response_definition)
            if route.openapi_extra:
                deep_dict_update(op, route.openapi_extra)
            path[method.lower()] = op
        return path, security_schemes, defs


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document, FastAPI's `get_openapi` with the same keywords."""
    info: dict[str, Any] = {"title": title, "version": version}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = contact
    if license_info:
        info["license"] = license_info
    output: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        output["servers"] = servers
    cache = FieldCache()
    api_routes = [_RouteData(r, cache) for r in routes if _is_api_route(r)]
    api_hooks = [_RouteData(r, cache) for r in webhooks or [] if _is_api_route(r)]
    fields: list[SchemaField] = []
    for data in [*api_routes, *api_hooks]:
        if data.route.include_in_schema:
            fields.extend(data.fields(cache))
    mapping, defs = definitions(fields, separate_input_output_schemas)
    builder = _Builder(cache, mapping, separate_input_output_schemas)
    components: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {"paths": {}, "webhooks": {}}
    for section, datas in (("paths", api_routes), ("webhooks", api_hooks)):
        for data in datas:
            path, schemes, path_defs = builder.path(data)
            if path:
                sections[section].setdefault(data.route.path_format, {}).update(path)
            if schemes:
                components.setdefault("securitySchemes", {}).update(schemes)
            defs.update(path_defs)
    if defs:
        components["schemas"] = {k: defs[k] for k in sorted(defs)}
    if components:
        output["components"] = components
    output["paths"] = sections["paths"]
    if sections["webhooks"]:
        output["webhooks"] = sections["webhooks"]
    if tags:
        output["tags"] = tags
    if external_docs:
        output["externalDocs"] = external_docs
    return ordered(jsonable_encoder(output))

"""The document's final shape: key order, number types and `None`s as FastAPI serves them.

FastAPI validates its document with pydantic models of the OpenAPI objects and dumps them with
`exclude_none`: each object's keys come out in the specification's order (declared fields, then
extensions), JSON Schema's numeric keywords become floats (`"minimum": 0.0`) in component
schemas, and `None` values vanish from every mapping. Paths are kept as built (FastAPI's model
lets them through as they are). fastcore keeps plain dicts and applies the same rules once, when
the document is generated, so the bytes served match.
"""
from __future__ import annotations

from typing import Any

# Each object's keys, in the OpenAPI 3.1 / JSON Schema 2020-12 order.
SCHEMA_KEYS = (
    "$schema", "$vocabulary", "$id", "$anchor", "$dynamicAnchor", "$ref", "$dynamicRef", "$defs", "$comment",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items",
    "contains", "properties", "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
    "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "maxContains", "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "format",
    "contentEncoding", "contentMediaType", "contentSchema", "title", "description", "default", "deprecated",
    "readOnly", "writeOnly", "examples", "discriminator", "xml", "externalDocs", "example")
OPENAPI_KEYS = ("openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security",
                "tags", "externalDocs")
INFO_KEYS = ("title", "summary", "description", "termsOfService", "contact", "license", "version")
COMPONENTS_KEYS = ("schemas", "responses", "parameters", "examples", "requestBodies", "headers", "securitySchemes",
                   "links", "callbacks", "pathItems")
SECURITY_KEYS = {
    "apiKey": ("type", "description", "in", "name"),
    "http": ("type", "description", "scheme", "bearerFormat"),
    "oauth2": ("type", "description", "flows"),
    "openIdConnect": ("type", "description", "openIdConnectUrl"),
}
FLOWS_KEYS = ("implicit", "password", "clientCredentials", "authorizationCode")
FLOW_KEYS = ("refreshUrl", "scopes", "authorizationUrl", "tokenUrl")
_FLOATS = frozenset({"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"})
# Keywords whose values are schemas, one (`items`), a list (`anyOf`) or a mapping (`properties`).
_ONE = frozenset({"not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames",
                  "unevaluatedItems", "unevaluatedProperties", "contentSchema"})
_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_MAP = frozenset({"$defs", "dependentSchemas", "properties", "patternProperties"})


def drop_none(value: Any) -> Any:
    """`None` values removed from every mapping (not from lists), as `exclude_none` does."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def _in_order(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {k: obj[k] for k in keys if k in obj}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out


def schema(obj: Any) -> Any:
    """A JSON schema as FastAPI's `Schema` model dumps it."""
    if not isinstance(obj, dict):
        return obj
    out = _in_order(obj, SCHEMA_KEYS)
    for key, value in out.items():
        if key in _FLOATS and isinstance(value, int) and not isinstance(value, bool):
            out[key] = float(value)
        elif key in _ONE:
            out[key] = schema(value)
        elif key in _LIST and isinstance(value, list):
            out[key] = [schema(v) for v in value]
        elif key in _MAP and isinstance(value, dict):
            out[key] = {k: schema(v) for k, v in value.items()}
    return out


def _security_scheme(obj: dict[str, Any]) -> dict[str, Any]:
    out = _in_order(obj, SECURITY_KEYS.get(obj.get("type", ""), ("type", "description")))
    flows = out.get("flows")
    if isinstance(flows, dict):
        out["flows"] = {k: _in_order(v, FLOW_KEYS) if isinstance(v, dict) else v
                        for k, v in _in_order(flows, FLOWS_KEYS).items()}
    return out


PATH_ITEM_KEYS = ("$ref", "summary", "description", "get", "put", "post", "delete", "options", "head", "patch",
                  "trace", "servers", "parameters")
OPERATION_KEYS = ("tags", "summary", "description", "externalDocs", "operationId", "parameters", "requestBody",
                  "responses", "callbacks", "deprecated", "security", "servers")
REQUEST_BODY_KEYS = ("description", "content", "required")
MEDIA_TYPE_KEYS = ("schema", "example", "examples", "encoding")
RESPONSE_KEYS = ("description", "headers", "content", "links")
_METHODS = PATH_ITEM_KEYS[3:11]


def _content(content: Any) -> Any:
    if not isinstance(content, dict):
        return content
    out = {}
    for media_type, media in content.items():
        if isinstance(media, dict):
            media = _in_order(media, MEDIA_TYPE_KEYS)
            if "schema" in media:
                media["schema"] = schema(media["schema"])
        out[media_type] = media
    return out


PARAMETER_KEYS = ("description", "required", "deprecated", "style", "explode", "allowReserved", "schema", "example",
                  "examples", "content", "name", "in")


def _parameter(param: Any) -> Any:
    if not isinstance(param, dict) or "$ref" in param:
        return param
    param = _in_order(param, PARAMETER_KEYS)
    if "schema" in param:
        param["schema"] = schema(param["schema"])
    return param


def _operation(op: Any) -> Any:
    if not isinstance(op, dict):
        return op
    op = _in_order(op, OPERATION_KEYS)
    if isinstance(op.get("parameters"), list):  # only in callbacks and webhooks (see path_item)
        op["parameters"] = [_parameter(p) for p in op["parameters"]]
    body = op.get("requestBody")
    if isinstance(body, dict) and "$ref" not in body:
        body = _in_order(body, REQUEST_BODY_KEYS)
        body["content"] = _content(body.get("content"))
        op["requestBody"] = body
    responses = op.get("responses")
    if isinstance(responses, dict):
        for code, response in responses.items():
            if isinstance(response, dict) and "description" in response:
                response = _in_order(response, RESPONSE_KEYS)
                if "content" in response:
                    response["content"] = _content(response["content"])
                responses[code] = response
    callbacks = op.get("callbacks")
    if isinstance(callbacks, dict):
        op["callbacks"] = {name: {p: path_item(item, always=True) for p, item in cb.items()}
                           if isinstance(cb, dict) else cb for name, cb in callbacks.items()}
    return op


def path_item(item: Any, always: bool = False) -> Any:
    """FastAPI's document types a path item `PathItem | Any`, and pydantic's smart union keeps
    the dict as it is when strict validation of the model fails: it fails on any parameter (its
    `in` is an enum, given as a string). So a path item whose operations take parameters stays
    as built; any other is the model's dump (the specification's key order)."""
    if not isinstance(item, dict):
        return item
    if not always and any(isinstance(op, dict) and op.get("parameters") for k, op in item.items() if k in _METHODS):
        return item
    item = _in_order(item, PATH_ITEM_KEYS)
    return {k: _operation(v) if k in _METHODS else v for k, v in item.items()}


def _url(value: Any) -> Any:
    """An `AnyUrl` field as pydantic normalises it (`https://example.com` gains its `/`)."""
    from pydantic import AnyUrl

    return str(AnyUrl(value)) if isinstance(value, str) else value


def _docs(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    out = _in_order(obj, ("description", "url"))
    if "url" in out:
        out["url"] = _url(out["url"])
    return out


def _info(info: dict[str, Any]) -> dict[str, Any]:
    info = _in_order(info, INFO_KEYS)
    for key, keys in (("contact", ("name", "url", "email")), ("license", ("name", "identifier", "url"))):
        if isinstance(info.get(key), dict):
            info[key] = _in_order(info[key], keys)
            if "url" in info[key]:
                info[key]["url"] = _url(info[key]["url"])
    return info


def ordered(document: dict[str, Any]) -> dict[str, Any]:
    doc = _in_order(drop_none(document), OPENAPI_KEYS)
    doc["info"] = _info(doc["info"])
    if isinstance(doc.get("tags"), list):
        doc["tags"] = [_in_order(t, ("name", "description", "externalDocs")) if isinstance(t, dict) else t
                       for t in doc["tags"]]
        for tag in doc["tags"]:
            if isinstance(tag, dict) and "externalDocs" in tag:
                tag["externalDocs"] = _docs(tag["externalDocs"])
    if "externalDocs" in doc:
        doc["externalDocs"] = _docs(doc["externalDocs"])
    doc["paths"] = {path: path_item(item) for path, item in doc.get("paths", {}).items()}
    if "webhooks" in doc:  # typed `PathItem | Reference`: always the model's dump
        doc["webhooks"] = {name: path_item(item, always=True) for name, item in doc["webhooks"].items()}
    components = doc.get("components")
    if components:
        components = _in_order(components, COMPONENTS_KEYS)
        if "schemas" in components:
            components["schemas"] = {k: schema(v) for k, v in components["schemas"].items()}
        if "securitySchemes" in components:
            components["securitySchemes"] = {k: _security_scheme(v) for k, v in components["securitySchemes"].items()}
        doc["components"] = components
    return doc

"""Which JSON bodies can be validated straight from their bytes, planned once per route.

FastAPI reads a JSON body with `json.loads`, then validates the Python value. pydantic-core can
do both in one pass from the bytes (`validate_json`, parsing in Rust), which gives the same
value whenever the type accepts JSON's values the same way in both modes: models, typed dicts,
lists, dicts, `str`, `int`, `float`, `bool`, `None`, `Any`, optionals of these, defaults and
simple constraints, nothing strict, no custom validator or `__init__`. Anything else (a
`Decimal`, whose value would come from the number's text rather than from a float; a datetime,
which strict models parse from JSON strings only; a function validator...) keeps the two steps.

Only success is taken from `validate_json`: on any error (malformed JSON, a UTF-16 body or one
with a BOM, which `json.loads` accepts, or an invalid value) the handler parses and validates
again FastAPI's way, so error bodies stay FastAPI's (see `handler.py`).
"""
from __future__ import annotations

from typing import Any, Callable

from pydantic_core import SchemaValidator

from .models import ParamField

_SAFE = frozenset({"model", "model-fields", "typed-dict", "str", "int", "float", "bool", "none", "nullable",
                   "list", "dict", "default", "any", "definitions", "definition-ref"})
_FIELD_TYPES = frozenset({"model-field", "typed-dict-field"})
_CHILDREN = ("schema", "items_schema", "keys_schema", "values_schema")
# Switches under which the two modes differ (or which could run user code on the value).
_UNSAFE_KEYS = ("strict", "coerce_numbers_to_str", "custom_init", "post_init", "extras_schema", "extras_keys_schema")


def json_validator(f: ParamField) -> Callable[[bytes], Any] | None:
    """`validate_json` of the parameter's adapter when it gives what `validate_python` of
    `json.loads(...)` would, else None."""
    adapter = f.adapter
    core = getattr(adapter, "validator", None)
    if not isinstance(core, SchemaValidator):
        return None
    try:
        safe = _safe(adapter.core_schema)  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError):
        return None
    return core.validate_json if safe else None


def _safe(schema: Any) -> bool:
    if not isinstance(schema, dict) or schema.get("type") not in _SAFE:
        return False
    if any(schema.get(key) for key in _UNSAFE_KEYS):
        return False
    config = schema.get("config") or {}
    if any(config.get(key) for key in _UNSAFE_KEYS) or config.get("extra_fields_behavior") == "allow":
        return False
    kind = schema["type"]
    if kind == "definitions":
        return _safe(schema["schema"]) and all(_safe(d) for d in schema["definitions"])
    if kind in ("model-fields", "typed-dict"):
        fields = schema["fields"].values()
        return (not schema.get("computed_fields") and all(
            field.get("type") in _FIELD_TYPES and not any(field.get(key) for key in _UNSAFE_KEYS) and _safe(field["schema"])
            for field in fields))
    return all(_safe(schema[key]) for key in _CHILDREN if key in schema)


def is_json(content_type: str | None) -> bool:
    """`application/json` or `application/*+json`, parameters and case aside (FastAPI's test)."""
    if content_type == "application/json":
        return True
    if not content_type:
        return False
    main, _, sub = content_type.partition(";")[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))

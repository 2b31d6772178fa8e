"""Schema fields: what OpenAPI generates a JSON schema for, FastAPI's `ModelField` in its v2 form.

Each parameter of a route plan (`dependencies.models.ParamField`), each combined request body,
each response model becomes a `SchemaField`: a name, a pydantic `FieldInfo` as FastAPI merges it
(the marker's attributes over the `Annotated` metadata) and a mode (validation for what comes in,
serialization for what goes out). `definitions(fields)` asks pydantic for every schema at once,
so component names (`Item`, `Item-Input`/`Item-Output`, `Body_...`) are pydantic's, as FastAPI's
are. Built only when the document is generated, once per app.
"""
from __future__ import annotations

import copy
import dataclasses
import typing
import warnings
from enum import Enum
from typing import Annotated, Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema as _GenerateJsonSchema
from pydantic_core import PydanticUndefined

from .. import params

Mode = Literal["validation", "serialization"]
REF_PREFIX = "#/components/schemas/"
REF_TEMPLATE = "#/components/schemas/{model}"
_UNIONS = (typing.Union, __import__("types").UnionType)
# FieldInfo attributes carried into the field's own `Field(...)` (pydantic's `asdict` list).
_ATTRS = ("default", "default_factory", "alias", "alias_priority", "validation_alias", "serialization_alias",
          "title", "field_title_generator", "description", "examples", "exclude", "exclude_if",
          "discriminator", "deprecated", "json_schema_extra", "frozen", "validate_default", "repr", "init",
          "init_var", "kw_only")


class GenerateJsonSchema(_GenerateJsonSchema):
    """`bytes` as FastAPI describes them: an octet stream (base64 when the config says so)."""

    def bytes_schema(self, schema: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
        mode = self._config.ser_json_bytes if self.mode == "serialization" else self._config.val_json_bytes
        if mode == "base64":
            out["contentEncoding"] = "base64"
        self.update_with_validations(out, schema, self.ValidationsMapping.bytes)
        return out


def _attributes(info: FieldInfo) -> dict[str, Any]:
    out = {}
    for attr in _ATTRS:
        value = getattr(info, attr, PydanticUndefined)
        if value is not PydanticUndefined:
            out[attr] = value
    return out


class SchemaField:
    """One thing with a schema. Hashed by identity: the key of its schema in `definitions`."""

    __slots__ = ("name", "field_info", "mode", "adapter")

    def __init__(self, name: str, field_info: FieldInfo, mode: Mode = "validation",
                 config: ConfigDict | None = None) -> None:
        self.name, self.field_info, self.mode = name, field_info, mode
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydantic warns of field-only attributes in a TypeAdapter
            args = (field_info.annotation, *field_info.metadata, Field(**_attributes(field_info)))
            self.adapter: TypeAdapter[Any] = TypeAdapter(Annotated[args], config=config)  # type: ignore[valid-type]

    @property
    def alias(self) -> str:
        return self.field_info.alias if self.field_info.alias is not None else self.name

    @property
    def validation_alias(self) -> str | None:
        va = self.field_info.validation_alias
        return va if isinstance(va, str) and va else None

    @property
    def serialization_alias(self) -> str | None:
        return self.field_info.serialization_alias or None

    def required(self) -> bool:
        return self.field_info.is_required()


def merged_field_info(field_info: FieldInfo, annotation: Any) -> FieldInfo:
    """The marker as FastAPI keeps it: its class and default, with every `FieldInfo` of the
    `Annotated` annotation merged in and the annotation reduced to its base type."""
    if typing.get_origin(annotation) is not Annotated:
        new = copy.copy(field_info)
        new.annotation = annotation
        return new
    base, *extra = typing.get_args(annotation)
    marker = copy.copy(field_info)
    marker.default = PydanticUndefined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merged = FieldInfo.from_annotation(Annotated[(base, *extra, marker)])  # type: ignore[valid-type]
    new = copy.copy(field_info)
    for name, value in _attributes(merged).items():
        if name != "default":
            setattr(new, name, value)
    new._attributes_set = dict(merged._attributes_set)
    new.metadata = list(merged.metadata)
    new.annotation = merged.annotation
    new.default = field_info.default
    return new


def _lenient_issubclass(cls: Any, bases: Any) -> bool:
    return isinstance(cls, type) and not typing.get_args(cls) and issubclass(cls, bases)


def param_model(field: SchemaField) -> type[BaseModel] | None:
    """The model of a `Query()`/`Header()`/`Cookie()` model parameter (expanded into its fields)."""
    annotation = field.field_info.annotation
    if isinstance(field.field_info, (params.Query, params.Header, params.Cookie)):
        if typing.get_origin(annotation) in _UNIONS:
            args = typing.get_args(annotation)
            if len(args) == 2 and type(None) in args:
                annotation = next(a for a in args if a is not type(None))
    if _lenient_issubclass(annotation, BaseModel):
        return annotation
    return None


class FieldCache:
    """SchemaFields made once per document: the same object every time a route asks again."""

    def __init__(self) -> None:
        self.params: dict[Any, SchemaField] = {}
        self.models: dict[Any, list[SchemaField]] = {}

    def param(self, pf: Any) -> SchemaField:
        field = self.params.get(pf)
        if field is None:
            info = merged_field_info(pf.field_info, pf.annotation)
            if not info.alias:  # FastAPI names every parameter's field by its alias
                header = isinstance(info, params.Header) and info.convert_underscores
                info.alias = pf.name.replace("_", "-") if header else pf.name
            field = self.params[pf] = SchemaField(pf.name, info)
        return field

    def model_fields(self, model: type[BaseModel]) -> list[SchemaField]:
        fields = self.models.get(model)
        if fields is None:
            fields = self.models[model] = []
            for name, info in model.model_fields.items():
                plain = _lenient_issubclass(info.annotation, (BaseModel, dict)) or dataclasses.is_dataclass(
                    info.annotation)
                fields.append(SchemaField(name, info, config=None if plain else model.model_config))
        return fields

    def flat(self, fields: Sequence[SchemaField]) -> list[SchemaField]:
        out: list[SchemaField] = []
        for field in fields:
            model = param_model(field)
            out.extend(self.model_fields(model) if model is not None else [field])
        return out


def body_field(cache: FieldCache, body_params: Sequence[Any], embed: bool, unique_id: str) -> SchemaField | None:
    """The request body as one field: the only body parameter, or a `Body_<unique_id>` model of
    them all (FastAPI's `_get_body_field`)."""
    if not body_params:
        return None
    fields = [cache.param(p) for p in body_params]
    if not embed:
        return fields[0]
    model = create_model("Body_" + unique_id, **{  # type: ignore[call-overload]
        f.name: (f.field_info.annotation, f.field_info) for f in fields})
    kwargs: dict[str, Any] = {"annotation": model, "alias": "body"}
    if not any(f.required() for f in fields):
        kwargs["default"] = None
    infos = [f.field_info for f in fields]
    if any(isinstance(i, params.File) for i in infos):
        cls: type[params.Body] = params.File
    elif any(isinstance(i, params.Form) for i in infos):
        cls = params.Form
        if "multipart/form-data" in [i.media_type for i in infos if isinstance(i, params.Form)]:
            kwargs["media_type"] = "multipart/form-data"
    else:
        cls = params.Body
    if cls is not params.File and "media_type" not in kwargs:
        types = {i.media_type for i in infos if isinstance(i, cls)}
        if len(types) == 1:
            kwargs["media_type"] = types.pop()
    return SchemaField("body", cls(**kwargs))


def response_field(name: str, model: Any) -> SchemaField:
    return SchemaField(name, FieldInfo(annotation=model), mode="serialization")


# -- every schema at once ---------------------------------------------------------------------

def _flat_models(fields: Sequence[SchemaField], known: set[Any]) -> set[Any]:
    for field in fields:
        _flat_from_annotation(field.field_info.annotation, known, top=True)
    return known


def _flat_from_model(model: type[BaseModel], known: set[Any]) -> None:
    for info in model.model_fields.values():
        _flat_from_annotation(info.annotation, known, top=True)


def _flat_from_annotation(annotation: Any, known: set[Any], top: bool = False) -> None:
    if top and _lenient_issubclass(annotation, BaseModel):
        if annotation not in known:
            known.add(annotation)
            _flat_from_model(annotation, known)
        return
    if top and _lenient_issubclass(annotation, Enum):
        known.add(annotation)
        return
    if typing.get_origin(annotation) is None:
        return
    for arg in typing.get_args(annotation):
        if _lenient_issubclass(arg, (BaseModel, Enum)):
            if arg not in known:
                known.add(arg)
                if _lenient_issubclass(arg, BaseModel):
                    _flat_from_model(arg, known)
        else:
            _flat_from_annotation(arg, known)


def definitions(fields: Sequence[SchemaField], separate_input_output_schemas: bool = True,
                ) -> tuple[dict[tuple[SchemaField, str], dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every field's schema (by (field, mode)) and the shared component schemas, from one
    pydantic generator run, as FastAPI's `get_definitions` makes them."""
    extra: list[SchemaField] = []
    input_types = {f.field_info.annotation for f in fields}
    for mode in ("validation", "serialization"):
        for model in _flat_models([f for f in fields if f.mode == mode], set()):
            if model not in input_types:
                extra.append(SchemaField(model.__name__, FieldInfo(annotation=model), mode=mode))  # type: ignore[arg-type]
    inputs = [(f, f.mode if separate_input_output_schemas else "validation", f.adapter.core_schema)
              for f in [*fields, *extra]]
    mapping, defs = GenerateJsonSchema(ref_template=REF_TEMPLATE).generate_definitions(inputs=inputs)
    for item in defs.values():
        if "description" in item:
            item["description"] = item["description"].split("\f")[0]
    return mapping, defs  # type: ignore[return-value]


def field_schema(field: SchemaField, mapping: dict[tuple[SchemaField, str], dict[str, Any]],
                 separate_input_output_schemas: bool = True, alias: str | None = None) -> dict[str, Any]:
    """A field's schema; inline ones get FastAPI's title (the alias, title-cased)."""
    schema = mapping[(field, field.mode if separate_input_output_schemas else "validation")].copy()
    if "$ref" not in schema:
        if alias is None:
            alias = ((field.validation_alias or field.alias) if field.mode == "validation"
                     else (field.serialization_alias or field.alias))
        schema["title"] = field.field_info.title or alias.title().replace("_", " ")
    return schema

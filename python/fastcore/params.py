"""FastAPI's parameter marker classes: where a handler parameter comes from, and its rules.

    def search(q: Annotated[str, Query(min_length=2)], x_token: str = Header()): ...

`Path`, `Query`, `Header` and `Cookie` are `Param`s (pydantic `FieldInfo`s that know their
source); `Body`, `Form` and `File` describe the request body; `Depends` and `Security` name a
dependency. They are plain data read once per route by `fastcore.dependencies.analyze`; the
functions users call with FastAPI's signatures are in `fastcore.param_functions`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Literal, Sequence

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

Undefined: Any = PydanticUndefined


class ParamTypes(Enum):
    query = "query"
    header = "header"
    path = "path"
    cookie = "cookie"


# Keywords whose `None` means "not given" (FastAPI passes None for unset constraints).
_NONE_IS_UNSET = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern", "alias", "title",
                  "description", "validation_alias", "serialization_alias", "default_factory",
                  "examples", "json_schema_extra", "discriminator", "strict", "multiple_of",
                  "allow_inf_nan", "max_digits", "decimal_places", "alias_priority",
                  "validate_default", "union_mode", "fail_fast", "deprecated")


def _field_kwargs(default: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's keyword arguments → pydantic FieldInfo's (dropping unset ones, `regex` →
    `pattern`, `alias` also the validation and serialization alias)."""
    regex = kwargs.pop("regex", None)
    if regex is not None:
        warnings.warn("`regex` has been deprecated, please use `pattern` instead", DeprecationWarning, stacklevel=4)
        kwargs.setdefault("pattern", regex)
    out = {k: v for k, v in kwargs.items() if not (k in _NONE_IS_UNSET and v is None)}
    alias = out.get("alias")
    if isinstance(alias, str):
        out.setdefault("validation_alias", alias)
        out.setdefault("serialization_alias", alias)
    out["default"] = default
    return out


class Param(FieldInfo):  # type: ignore[misc]
    """A parameter read from the path, the query string, a header or a cookie."""

    in_: ParamTypes

    def __init__(self, default: Any = Undefined, *, include_in_schema: bool = True,
                 openapi_examples: dict[str, Any] | None = None, example: Any = Undefined,
                 annotation: Any = None, **kwargs: Any) -> None:
        self.include_in_schema = include_in_schema
        self.openapi_examples = openapi_examples
        self.example = example
        super().__init__(annotation=annotation, **_field_kwargs(default, kwargs))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.default})"


class Path(Param):  # type: ignore[misc]
    in_ = ParamTypes.path

    def __init__(self, default: Any = ..., **kwargs: Any) -> None:
        assert default is ..., "Path parameters cannot have a default value"
        super().__init__(default, **kwargs)


class Query(Param):  # type: ignore[misc]
    in_ = ParamTypes.query


class Header(Param):  # type: ignore[misc]
    in_ = ParamTypes.header

    def __init__(self, default: Any = Undefined, *, convert_underscores: bool = True, **kwargs: Any) -> None:
        self.convert_underscores = convert_underscores
        super().__init__(default, **kwargs)


class Cookie(Param):  # type: ignore[misc]
    in_ = ParamTypes.cookie


class Body(FieldInfo):  # type: ignore[misc]
    """The JSON body, or (with `embed=True` or beside other body parameters) one key of it."""

    def __init__(self, default: Any = Undefined, *, embed: bool | None = None,
                 media_type: str = "application/json", include_in_schema: bool = True,
                 openapi_examples: dict[str, Any] | None = None, example: Any = Undefined,
                 annotation: Any = None, **kwargs: Any) -> None:
        self.embed = embed
        self.media_type = media_type
        self.include_in_schema = include_in_schema
        self.openapi_examples = openapi_examples
        self.example = example
        super().__init__(annotation=annotation, **_field_kwargs(default, kwargs))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.default})"


class Form(Body):  # type: ignore[misc]
    """A field of a urlencoded or multipart form body."""

    def __init__(self, default: Any = Undefined, *, media_type: str = "application/x-www-form-urlencoded",
                 **kwargs: Any) -> None:
        super().__init__(default, media_type=media_type, **kwargs)


class File(Form):  # type: ignore[misc]
    """A file part of a multipart body (`bytes` or `UploadFile`)."""

    def __init__(self, default: Any = Undefined, *, media_type: str = "multipart/form-data", **kwargs: Any) -> None:
        super().__init__(default, media_type=media_type, **kwargs)


@dataclass(frozen=True)
class Depends:
    """`dependency` is called per request (its own parameters solved the same way) and its
    result passed in; `use_cache=False` calls it again even if another parameter already did.
    `max_concurrency=n`: at most n calls of it run at once in the process (for a `yield`
    dependency, from entering to exit); the others wait their turn."""

    dependency: Callable[..., Any] | None = None
    use_cache: bool = True
    scope: Literal["function", "request"] | None = None
    max_concurrency: int | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.max_concurrency is not None and (type(self.max_concurrency) is not int or self.max_concurrency < 1):
            raise ValueError("max_concurrency must be a positive integer or None")

    def limiter(self) -> Any:
        """The semaphore shared by every use of this declaration (None without a limit)."""
        if self.max_concurrency is None:
            return None
        sem = self.__dict__.get("_limiter")
        if sem is None:
            from ._core import Semaphore

            sem = Semaphore(self.max_concurrency)
            object.__setattr__(self, "_limiter", sem)
        return sem


@dataclass(frozen=True)
class Security(Depends):
    """A dependency that also declares the OAuth2 scopes it needs."""

    scopes: Sequence[str] | None = None

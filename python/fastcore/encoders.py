"""Turning Python values into JSON-ready ones, FastAPI's way.

- `jsonable(obj)`: the Rust JSON encoder's fallback, called for one value it does not know
  (the core serialises dict, list, tuple, str, int, float, bool and None itself); it returns
  something closer to JSON, which the core encodes in turn, or raises TypeError naming the type.
- `jsonable_encoder(obj, ...)`: FastAPI's public function, a whole value converted in Python
  (with include/exclude, by_alias, exclude_none... and custom encoders); used for validation
  errors and by users.

Both follow FastAPI's rules: pydantic models dump in JSON mode by alias, dataclasses as dicts,
datetimes ISO 8601, timedeltas in seconds, `Decimal` as int when it has no exponent (else
float), enums by value, sets and generators as lists, bytes decoded, UUIDs, paths, IP
addresses and URLs as strings.

    >>> jsonable(datetime.date(2024, 1, 2))
    '2024-01-02'
"""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import ipaddress
import re
import uuid
from collections import deque
from pathlib import PurePath
from types import GeneratorType
from typing import Any, Callable

from pydantic import BaseModel
from pydantic_core import PydanticUndefinedType, Url

try:
    from pydantic.networks import AnyUrl, NameEmail
    from pydantic.types import SecretBytes, SecretStr
except ImportError:  # pragma: no cover - pydantic v2 has them all
    AnyUrl = NameEmail = SecretBytes = SecretStr = ()  # type: ignore[assignment,misc]


def _decimal(value: decimal.Decimal) -> int | float:
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


def _isoformat(value: Any) -> str:
    return value.isoformat()


# Exact types first (one dict lookup), then isinstance in this order.
_BY_TYPE: dict[type, Callable[[Any], Any]] = {
    bytes: lambda o: o.decode(),
    datetime.date: _isoformat,
    datetime.datetime: _isoformat,
    datetime.time: _isoformat,
    datetime.timedelta: lambda td: td.total_seconds(),
    decimal.Decimal: _decimal,
    frozenset: list,
    set: list,
    deque: list,
    GeneratorType: list,
    uuid.UUID: str,
    re.Pattern: lambda p: p.pattern,
    Url: str,
}
_BY_CLASS: list[tuple[tuple[type, ...], Callable[[Any], Any]]] = [
    ((bytes,), lambda o: o.decode()),
    ((datetime.date, datetime.time), _isoformat),  # datetime is a date
    ((datetime.timedelta,), lambda td: td.total_seconds()),
    ((decimal.Decimal,), _decimal),
    ((frozenset, set, deque, GeneratorType), list),
    ((uuid.UUID, ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Interface,
      ipaddress.IPv6Interface, ipaddress.IPv4Network, ipaddress.IPv6Network, Url,
      *(t for t in (AnyUrl, NameEmail, SecretBytes, SecretStr) if isinstance(t, type))), str),
    ((re.Pattern,), lambda p: p.pattern),
]


def _convert(obj: Any) -> Any:
    """One value's JSON-closer form by type, or raise TypeError."""
    fn = _BY_TYPE.get(type(obj))
    if fn is not None:
        return fn(obj)
    for classes, fn in _BY_CLASS:
        if isinstance(obj, classes):
            return fn(obj)
    raise TypeError(f"Object of type {type(obj).__qualname__} is not JSON serializable")


def jsonable(obj: Any) -> Any:
    """The Rust encoder's fallback for a value it does not know (see the module docstring)."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", by_alias=True)
    if hasattr(obj, "model_dump") and hasattr(type(obj), "model_fields"):  # model-like, not pydantic's
        return obj.model_dump(mode="json")
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, int):  # subclasses the core does not take as they are
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, PydanticUndefinedType):
        return None
    return _convert(obj)


def jsonable_encoder(obj: Any, include: Any = None, exclude: Any = None, by_alias: bool = True,
                     exclude_unset: bool = False, exclude_defaults: bool = False, exclude_none: bool = False,
                     custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
                     sqlalchemy_safe: bool = True) -> Any:
    """FastAPI's `jsonable_encoder`: `obj` as dicts, lists, str, int, float, bool and None."""
    if custom_encoder:
        fn = custom_encoder.get(type(obj))
        if fn is not None:
            return fn(obj)
        for kind, fn in custom_encoder.items():
            if isinstance(obj, kind):
                return fn(obj)
    if include is not None and not isinstance(include, (set, dict)):
        include = set(include)
    if exclude is not None and not isinstance(exclude, (set, dict)):
        exclude = set(exclude)
    options = dict(by_alias=by_alias, exclude_unset=exclude_unset, exclude_defaults=exclude_defaults,
                   exclude_none=exclude_none, custom_encoder=custom_encoder, sqlalchemy_safe=sqlalchemy_safe)
    if isinstance(obj, BaseModel):
        dumped = obj.model_dump(mode="json", include=include, exclude=exclude, by_alias=by_alias,
                                exclude_unset=exclude_unset, exclude_none=exclude_none,
                                exclude_defaults=exclude_defaults)
        return jsonable_encoder(dumped, exclude_none=exclude_none, exclude_defaults=exclude_defaults,
                                sqlalchemy_safe=sqlalchemy_safe)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable_encoder(dataclasses.asdict(obj), include=include, exclude=exclude, **options)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (str, int, float, type(None))):
        return obj
    if isinstance(obj, PydanticUndefinedType):
        return None
    if isinstance(obj, dict):
        keys = set(obj)
        if include is not None:
            keys &= set(include)
        if exclude is not None:
            keys -= set(exclude)
        out = {}
        for key, value in obj.items():
            if sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"):
                continue
            if (value is None and exclude_none) or key not in keys:
                continue
            out[jsonable_encoder(key, **options)] = jsonable_encoder(value, **options)
        return out
    if isinstance(obj, (list, set, frozenset, GeneratorType, tuple, deque)):
        return [jsonable_encoder(item, include=include, exclude=exclude, **options) for item in obj]
    try:
        return _convert(obj)
    except TypeError:
        pass
    try:
        data = dict(obj)
    except Exception as e:
        errors: list[Exception] = [e]
        try:
            data = vars(obj)
        except Exception as e2:
            errors.append(e2)
            raise ValueError(errors) from e2
    return jsonable_encoder(data, include=include, exclude=exclude, **options)

"""The fallback for values the Rust JSON encoder does not know.

The Rust core serialises dict, list, tuple, str, int, float, bool and None itself. For anything
else it calls `jsonable(obj)`, which must return something closer to JSON (the core then
encodes that), or raise TypeError naming the type.

    >>> jsonable(datetime.date(2024, 1, 2))
    '2024-01-02'
"""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from pathlib import PurePath
from typing import Any


def jsonable(obj: Any) -> Any:
    if hasattr(obj, "model_dump") and hasattr(type(obj), "model_fields"):  # pydantic v2 model
        return obj.model_dump(mode="json")
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (uuid.UUID, PurePath)):
        return str(obj)
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, int):  # int subclasses that are not enums
        return int(obj)
    if isinstance(obj, str):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__qualname__} is not JSON serializable")

"""Read-only, multi-valued mappings for headers and query strings.

    >>> h = Headers([("accept", "text/html"), ("x-tag", "a"), ("x-tag", "b")])
    >>> h["Accept"], h.getlist("x-tag")
    ('text/html', ['a', 'b'])
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl


class _MultiMapping(Mapping[str, str]):
    """Keeps every pair; `[key]` gives the last value, `getlist(key)` all of them."""

    __slots__ = ("_list", "_dict")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._list = pairs
        self._dict = {self._key(k): v for k, v in pairs}

    @staticmethod
    def _key(key: str) -> str:
        return key

    def __getitem__(self, key: str) -> str:
        return self._dict[self._key(key)]

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and self._key(key) in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[str]:
        k = self._key(key)
        return [v for name, v in self._list if self._key(name) == k]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _MultiMapping):
            return sorted(self._list) == sorted(other._list)
        return super().__eq__(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class Headers(_MultiMapping):
    """Case-insensitive request headers."""

    __slots__ = ()

    @staticmethod
    def _key(key: str) -> str:
        return key.lower()


class QueryParams(_MultiMapping):
    __slots__ = ()

    def __init__(self, query: str | list[tuple[str, str]] = "") -> None:
        pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else query
        super().__init__(pairs)


def parse_cookies(header: str) -> dict[str, str]:
    """Lenient `Cookie:` parsing, as browsers send it (`a=1; b=2`)."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies[name] = value
    return cookies


class State:
    """Attributes set freely: `app.state.db = ...`, `request.state.user = ...`."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__setattr__("_state", dict(state or {}))

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'") from None

    def __delattr__(self, key: str) -> None:
        del self._state[key]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._state!r})"

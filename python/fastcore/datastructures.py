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


class MutableHeaders(Mapping[str, str]):
    """Response headers: a case-insensitive view over a list of `(name, value)` str pairs, which
    it changes in place (a `Response`'s `raw_headers`, what the core sends), with Starlette's
    `MutableHeaders` API. `[key]` is the first value; `getlist` gives all of them.

        >>> h = MutableHeaders(raw=[("content-type", "text/plain")])
        >>> h["X-Tag"] = "a"; h.append("x-tag", "b"); h.raw
        [('content-type', 'text/plain'), ('x-tag', 'a'), ('x-tag', 'b')]
    """

    __slots__ = ("_list",)

    def __init__(self, headers: Mapping[str, str] | None = None, raw: list[tuple[str, str]] | None = None) -> None:
        if headers is not None:
            assert raw is None, 'Cannot set both "headers" and "raw".'
            self._list = [(k.lower(), v) for k, v in headers.items()]
        else:
            self._list = raw if raw is not None else []

    @property
    def raw(self) -> list[tuple[str, str]]:
        return self._list

    def keys(self) -> list[str]:  # type: ignore[override]
        return [k for k, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [v for _, v in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._list)

    def getlist(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self._list if k == key]

    def mutablecopy(self) -> MutableHeaders:
        return MutableHeaders(raw=self._list[:])

    def __getitem__(self, key: str) -> str:
        wanted = key.lower()
        for k, v in self._list:
            if k == wanted:
                return v
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        wanted = key.lower()
        return any(k == wanted for k, _ in self._list)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MutableHeaders):
            return False
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def __setitem__(self, key: str, value: str) -> None:
        """Sets `key` to `value` in place of its first occurrence, dropping any others."""
        key = key.lower()
        found = [i for i, (k, _) in enumerate(self._list) if k == key]
        for i in reversed(found[1:]):
            del self._list[i]
        if found:
            self._list[found[0]] = (key, value)
        else:
            self._list.append((key, value))

    def __delitem__(self, key: str) -> None:
        key = key.lower()
        self._list[:] = [(k, v) for k, v in self._list if k != key]

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        new = self.mutablecopy()
        new.update(other)
        return new

    def setdefault(self, key: str, value: str) -> str:  # type: ignore[override]
        wanted = key.lower()
        for k, v in self._list:
            if k == wanted:
                return v
        self._list.append((wanted, value))
        return value

    def update(self, other: Mapping[str, str]) -> None:  # type: ignore[override]
        for key, value in other.items():
            self[key] = value

    def append(self, key: str, value: str) -> None:
        """Adds a value, keeping the ones already there."""
        self._list.append((key.lower(), value))

    def add_vary_header(self, vary: str) -> None:
        self["vary"] = ", ".join([*self.getlist("vary"), vary])

    def __repr__(self) -> str:
        as_dict = dict(self._list)
        if len(as_dict) == len(self._list):
            return f"{type(self).__name__}({as_dict!r})"
        return f"{type(self).__name__}(raw={self._list!r})"

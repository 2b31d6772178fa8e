"""The data types of requests and responses, under FastAPI's `datastructures` names: URL and Address,
multi-valued mappings for headers, query strings and forms (FormData, UploadFile), MutableHeaders,
State, and the Default placeholder of route options.

    >>> h = Headers([("accept", "text/html"), ("x-tag", "a"), ("x-tag", "b")])
    >>> h["Accept"], h.getlist("x-tag")
    ('text/html', ['a', 'b'])
"""
from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from http.cookies import _unquote as _unquote_cookie  # noqa: PLC2701 - the stdlib's own algorithm, as Starlette uses
from operator import itemgetter
from typing import Any, BinaryIO, NamedTuple, Sequence, TypeVar
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit


class Address(NamedTuple):
    host: str
    port: int


class URL(str):
    """A URL as a string, with its parts as attributes and Starlette's `URL` methods.

        >>> u = URL("https://example.com:8443/a/b?x=1")
        >>> u.hostname, u.port, u.path, u.is_secure, str(u.replace(path="/c"))
        ('example.com', 8443, '/a/b', True, 'https://example.com:8443/c?x=1')

    `URL(scheme, netloc, path, query)` builds one from its parts (how requests make theirs).
    """

    scheme: str
    netloc: str
    path: str
    query: str
    fragment: str

    def __new__(cls, url: str = "", netloc: str | None = None, path: str | None = None, query: str | None = None,
                **components: Any) -> "URL":
        if netloc is not None and "scheme" not in components:  # URL(scheme, netloc, path, query)
            parts = SplitResult(url, netloc, path or "", query or "", "")
        else:
            if netloc is not None:
                components["netloc"] = netloc
            if path is not None:
                components["path"] = path
            if query is not None:
                components["query"] = query
            parts = urlsplit(url)
            if components:
                parts = _replace_parts(parts, components)
        made = super().__new__(cls, parts.geturl() if parts.scheme or parts.netloc else _relative(parts))
        made.scheme, made.netloc, made.path, made.query, made.fragment = parts
        return made

    @property
    def components(self) -> SplitResult:
        return SplitResult(self.scheme, self.netloc, self.path, self.query, self.fragment)

    @property
    def username(self) -> str | None:
        return self.components.username

    @property
    def password(self) -> str | None:
        return self.components.password

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **kwargs: Any) -> "URL":
        """A copy with some parts changed: `scheme`, `netloc`, `path`, `query`, `fragment`, or
        `username`, `password`, `hostname`, `port` (which rebuild the netloc)."""
        return URL(str(_replace_parts(self.components, kwargs).geturl()))

    def include_query_params(self, **kwargs: Any) -> "URL":
        added = {str(k): str(v) for k, v in kwargs.items()}
        kept = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in added]
        return self.replace(query=urlencode(kept + list(added.items())))

    def replace_query_params(self, **kwargs: Any) -> "URL":
        return self.replace(query=urlencode([(str(k), str(v)) for k, v in kwargs.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> "URL":
        drop = {keys} if isinstance(keys, str) else set(keys)
        return self.replace(query=urlencode([(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True)
                                             if k not in drop]))

    def __repr__(self) -> str:
        shown = str(self)
        if self.password:
            shown = str(self.replace(password="********"))
        return f"{type(self).__name__}({shown!r})"


def _relative(parts: SplitResult) -> str:
    return parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _replace_parts(parts: SplitResult, changes: dict[str, Any]) -> SplitResult:
    if {"username", "password", "hostname", "port"} & changes.keys():
        hostname = changes.pop("hostname", parts.hostname) or ""
        port = changes.pop("port", parts.port)
        username = changes.pop("username", parts.username)
        password = changes.pop("password", parts.password)
        if ":" in hostname and not hostname.startswith("["):
            hostname = f"[{hostname}]"
        netloc = hostname if port is None else f"{hostname}:{port}"
        if username is not None:
            netloc = f"{username}:{password}@{netloc}" if password is not None else f"{username}@{netloc}"
        changes["netloc"] = netloc
    return parts._replace(**changes)


class DefaultPlaceholder:
    """An option left at its default, so that a router's or an include's value may fill it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultPlaceholder) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("DefaultPlaceholder", repr(self.value)))

    def __repr__(self) -> str:
        return f"Default({self.value!r})"


def Default(value: Any) -> Any:  # noqa: N802 - FastAPI's spelling
    return DefaultPlaceholder(value)


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
    """A `Cookie:` header as browsers send it and Starlette reads it: `;`-separated
    `name=value` pairs with the whitespace around each dropped; a pair without `=` is a value
    with an empty name (as browsers treat it); double-quoted values are unquoted as the stdlib's
    `http.cookies` does (backslash and octal escapes); a later name wins."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            name, value = "", name
        name, value = name.strip(), value.strip()
        if name or value:
            cookies[name] = _unquote_cookie(value)
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


# Forms (Starlette's API): `await request.form()` returns a FormData whose file parts are
# UploadFiles; python/fastcore/formparsers.py builds them from the Rust parser's parts.

_K = TypeVar("_K")
_V = TypeVar("_V", covariant=True)


class ImmutableMultiDict(Mapping[_K, _V]):
    """Every pair in order; `[key]` and `items()` give the last value per key, `getlist(key)`
    and `multi_items()` all of them. Built from pairs, a mapping, or another multidict."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > 1:
            raise TypeError("Too many arguments.")
        value: Any = args[0] if args else []
        if kwargs:
            value = ImmutableMultiDict(value).multi_items() + list(kwargs.items())
        if not value:
            items: list[tuple[Any, Any]] = []
        elif hasattr(value, "multi_items"):
            items = list(value.multi_items())
        elif hasattr(value, "items"):
            items = list(value.items())
        else:
            items = list(value)
        self._dict: dict[Any, Any] = {k: v for k, v in items}
        self._list = items

    def getlist(self, key: Any) -> list[_V]:
        return [v for k, v in self._list if k == key]

    def keys(self) -> KeysView[_K]:
        return self._dict.keys()

    def values(self) -> ValuesView[_V]:
        return self._dict.values()

    def items(self) -> ItemsView[_K, _V]:
        return self._dict.items()

    def multi_items(self) -> list[tuple[_K, _V]]:
        return list(self._list)

    def __getitem__(self, key: _K) -> _V:
        return self._dict[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[_K]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, self.__class__):
            return False
        return sorted(self._list, key=itemgetter(0)) == sorted(other._list, key=itemgetter(0))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


async def _blocking(func: Any, *args: Any) -> Any:
    """A file operation that may touch the disk: on the worker's thread pool inside a fastcore
    task (a handler), else (a plain asyncio loop, a test) in place."""
    import asyncio

    from ._core import Task, to_thread

    try:
        on_worker = isinstance(asyncio.current_task(), Task)
    except RuntimeError:
        on_worker = False
    if on_worker:
        return await to_thread(func, *args)
    return func(*args)


class UploadFile:
    """An uploaded file: `filename`, `content_type`, `headers`, `size`, and `file`, a
    `SpooledTemporaryFile` (in memory up to 1 MiB, then on disk). The async methods run disk
    operations on the worker's thread pool, as Starlette's run them in its thread pool."""

    def __init__(self, file: BinaryIO, *, size: int | None = None, filename: str | None = None,
                 headers: Headers | None = None) -> None:
        self.filename = filename
        self.file = file
        self.size = size
        self.headers = headers if headers is not None else Headers([])
        self._max_mem_size = getattr(self.file, "_max_size", 0)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type", None)

    @property
    def _in_memory(self) -> bool:
        return not getattr(self.file, "_rolled", True)

    def _will_roll(self, size_to_add: int) -> bool:
        if not self._in_memory:
            return True
        future = self.file.tell() + size_to_add
        return bool(future > self._max_mem_size) if self._max_mem_size else False

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        if self._will_roll(len(data)):
            await _blocking(self.file.write, data)
        else:
            self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        if self._in_memory:
            return self.file.read(size)
        return await _blocking(self.file.read, size)

    async def seek(self, offset: int) -> None:
        if self._in_memory:
            self.file.seek(offset)
        else:
            await _blocking(self.file.seek, offset)

    async def close(self) -> None:
        if self._in_memory:
            self.file.close()
        else:
            await _blocking(self.file.close)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"

    # pydantic: `file: UploadFile` validates by type, and is a binary string in JSON Schema
    # (FastAPI's UploadFile does the same).
    @classmethod
    def _validate(cls, value: Any, _info: Any) -> "UploadFile":
        if not isinstance(value, UploadFile):
            raise ValueError(f"Expected UploadFile, received: {type(value)}")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "contentMediaType": "application/octet-stream"}

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.with_info_plain_validator_function(cls._validate)


class FormData(ImmutableMultiDict[str, "UploadFile | str"]):
    """A form's fields (str) and files (UploadFile); `await form.close()` closes the files."""

    async def close(self) -> None:
        for _, value in self.multi_items():
            if isinstance(value, UploadFile):
                await value.close()

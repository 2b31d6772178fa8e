"""The functions users write in signatures: `Query()`, `Path()`, `Header()`, `Cookie()`,
`Body()`, `Form()`, `File()`, `Depends()` and `Security()`, with FastAPI's signatures.

    @app.get("/items/{item_id}")
    def read(item_id: int = Path(ge=1), q: str | None = Query(None, max_length=50),
             user=Depends(current_user)): ...

Each returns the marker object of `fastcore.params` that the plan builder reads.
"""
from __future__ import annotations

from typing import Any, Callable, Literal, Sequence

from . import params
from .params import Undefined


def Path(default: Any = ..., **kwargs: Any) -> Any:  # noqa: N802
    return params.Path(default, **kwargs)


def Query(default: Any = Undefined, **kwargs: Any) -> Any:  # noqa: N802
    return params.Query(default, **kwargs)


def Header(default: Any = Undefined, *, convert_underscores: bool = True, **kwargs: Any) -> Any:  # noqa: N802
    return params.Header(default, convert_underscores=convert_underscores, **kwargs)


def Cookie(default: Any = Undefined, **kwargs: Any) -> Any:  # noqa: N802
    return params.Cookie(default, **kwargs)


def Body(default: Any = Undefined, *, embed: bool | None = None, media_type: str = "application/json",  # noqa: N802
         **kwargs: Any) -> Any:
    return params.Body(default, embed=embed, media_type=media_type, **kwargs)


def Form(default: Any = Undefined, *, media_type: str = "application/x-www-form-urlencoded",  # noqa: N802
         **kwargs: Any) -> Any:
    return params.Form(default, media_type=media_type, **kwargs)


def File(default: Any = Undefined, *, media_type: str = "multipart/form-data", **kwargs: Any) -> Any:  # noqa: N802
    return params.File(default, media_type=media_type, **kwargs)


def Depends(dependency: Callable[..., Any] | None = None, *, use_cache: bool = True,  # noqa: N802
            scope: Literal["function", "request"] | None = None, max_concurrency: int | None = None) -> Any:
    return params.Depends(dependency=dependency, use_cache=use_cache, scope=scope, max_concurrency=max_concurrency)


def Security(dependency: Callable[..., Any] | None = None, *, scopes: Sequence[str] | None = None,  # noqa: N802
             use_cache: bool = True, max_concurrency: int | None = None) -> Any:
    return params.Security(dependency=dependency, scopes=scopes, use_cache=use_cache,
                           max_concurrency=max_concurrency)

"""OAuth2 security schemes (filled in below) and `SecurityScopes`."""
from __future__ import annotations


class SecurityScopes:
    """The OAuth2 scopes every `Security(...)` along the chain asked for; a dependency that
    declares a parameter of this type receives them."""

    def __init__(self, scopes: list[str] | None = None) -> None:
        self.scopes: list[str] = scopes or []
        self.scope_str: str = " ".join(self.scopes)

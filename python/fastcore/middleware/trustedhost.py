"""`TrustedHostMiddleware`, Starlette's, checked in Rust (`src/middleware/hosts.rs`): a `Host`
header that matches no allowed pattern gets a 400 `Invalid host header`, or, with
`www_redirect`, a 307 to `www.` + the host when that one is allowed."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."


class TrustedHostMiddleware:
    def __init__(self, app: Any, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]
        for pattern in allowed_hosts:
            assert "*" not in pattern[1:], ENFORCE_DOMAIN_WILDCARD
            if pattern.startswith("*") and pattern != "*":
                assert pattern.startswith("*."), ENFORCE_DOMAIN_WILDCARD
        self.app = app
        self.allowed_hosts = [pattern.lower() for pattern in allowed_hosts]
        self.allow_any = "*" in allowed_hosts
        self.www_redirect = www_redirect

    def _native(self) -> tuple[Any, ...] | None:
        return None if self.allow_any else ("trustedhost", self.allowed_hosts, self.www_redirect)

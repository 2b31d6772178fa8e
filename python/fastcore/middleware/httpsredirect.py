"""`HTTPSRedirectMiddleware`, Starlette's, in Rust (`src/middleware/hosts.rs`): an http (or ws)
request gets a 307 to the same URL on https (wss), without the port when it is 80 or 443.
Behind a proxy, the scheme is the trusted `X-Forwarded-Proto` (`--forwarded-allow-ips`)."""
from __future__ import annotations

from typing import Any


class HTTPSRedirectMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    def _native(self) -> tuple[Any, ...]:
        return ("httpsredirect",)

"""`CORSMiddleware`, Starlette's, answered in Rust (`src/middleware/cors.rs`).

The constructor works out what Starlette's works out (the fixed preflight and simple headers);
`_native()` hands that to the core once, when the server starts.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}


class CORSMiddleware:
    def __init__(
        self,
        app: Any,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        if "*" in allow_methods:
            allow_methods = ALL_METHODS
        allow_all_origins = "*" in allow_origins
        allow_all_headers = "*" in allow_headers
        explicit_origin = not allow_all_origins or allow_credentials

        simple: dict[str, str] = {}
        if allow_all_origins:
            simple["Access-Control-Allow-Origin"] = "*"
        if allow_credentials:
            simple["Access-Control-Allow-Credentials"] = "true"
        if expose_headers:
            simple["Access-Control-Expose-Headers"] = ", ".join(expose_headers)

        preflight: dict[str, str] = {
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
                    "Access-Control-Request-Private-Network"}
        if not explicit_origin:
            preflight["Access-Control-Allow-Origin"] = "*"
        preflight["Access-Control-Allow-Methods"] = ", ".join(allow_methods)
        preflight["Access-Control-Max-Age"] = str(max_age)
        headers = sorted(SAFELISTED_HEADERS | set(allow_headers))
        if headers and not allow_all_headers:
            preflight["Access-Control-Allow-Headers"] = ", ".join(headers)
        if allow_credentials:
            preflight["Access-Control-Allow-Credentials"] = "true"

        self.app = app
        self.allow_origins = allow_origins
        self.allow_methods = allow_methods
        self.allow_headers = [h.lower() for h in headers]
        self.allow_all_origins = allow_all_origins
        self.allow_all_headers = allow_all_headers
        self.allow_credentials = allow_credentials
        self.preflight_explicit_allow_origin = explicit_origin
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        self.allow_private_network = allow_private_network
        self.simple_headers = simple
        self.preflight_headers = preflight

    def _native(self) -> tuple[Any, ...]:
        return ("cors", self.allow_all_origins, list(self.allow_origins), self.allow_origin_regex,
                list(self.allow_methods), self.allow_all_headers, self.allow_headers, self.allow_credentials,
                self.allow_private_network, self.preflight_explicit_allow_origin,
                list(self.simple_headers.items()), list(self.preflight_headers.items()))

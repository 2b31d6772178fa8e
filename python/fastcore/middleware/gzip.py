"""`GZipMiddleware`, Starlette's, compressing in Rust with zlib (`src/middleware/gzip.rs`).

`thread_minimum_size` is accepted for compatibility: fastcore compresses on the worker that
serves the request, chunk by chunk for streams.
"""
from __future__ import annotations

from typing import Any

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc", "application/gzip", "application/x-gzip", "application/zip", "audio/*", "font/woff",
    "font/woff2", "image/avif", "image/gif", "image/jpeg", "image/png", "image/webp", "text/event-stream",
    "video/*",
)


class GZipMiddleware:
    def __init__(
        self,
        app: Any,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 128 * 1024,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        if not -1 <= compresslevel <= 9:
            raise ValueError(f"compresslevel must be between -1 and 9, not {compresslevel}")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = tuple(t.partition(";")[0].strip().lower() for t in exclude_content_types)

    def _native(self) -> tuple[Any, ...]:
        return ("gzip", max(0, self.minimum_size), self.compresslevel, list(self.exclude_content_types))

"""Routing: today the endpoint compiler, which lives in `fastcore.handler`.

Re-exported here until `APIRouter`/`APIRoute` move in (the app workstream).
"""
from __future__ import annotations

from .handler import INFER, Compiled, compile_endpoint

__all__ = ["INFER", "Compiled", "compile_endpoint"]

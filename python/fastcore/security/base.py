"""The base of every security scheme: a dependency that also describes itself for OpenAPI.

A scheme instance is called as a dependency (`Depends(oauth2_scheme)`); `model` holds the
OpenAPI security scheme object (plain data) and `scheme_name` its name in the document.
"""
from __future__ import annotations

from typing import Any


class SecurityBase:
    model: Any
    scheme_name: str

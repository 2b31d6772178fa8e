"""Security schemes as dependencies, with FastAPI's names, statuses and `WWW-Authenticate` headers."""
from .oauth2 import SecurityScopes

__all__ = ["SecurityScopes"]

"""Import paths: what a FastAPI app imports exists under the same path in fastcore, so that porting
is a change of package name. The names are FastAPI 0.165's public, user-facing ones; on the GIL
venv each is also checked to exist in FastAPI, so this list cannot drift from what it mirrors."""
from __future__ import annotations

import importlib

import pytest

# module (relative to the package) -> names users import from it. Not yet here: WebSocket and
# WebSocketDisconnect (the protocols issue), OpenAPI-only helpers (API part 2).
PUBLIC = {
    "": ["FastAPI", "APIRouter", "BackgroundTasks", "Body", "Cookie", "Depends", "File", "Form", "Header",
         "HTTPException", "Path", "Query", "Request", "Response", "Security", "UploadFile", "WebSocketException",
         "status", "__version__"],
    "applications": ["FastAPI"],
    "responses": ["Response", "JSONResponse", "HTMLResponse", "PlainTextResponse", "RedirectResponse",
                  "StreamingResponse", "FileResponse"],
    "security": ["APIKeyCookie", "APIKeyHeader", "APIKeyQuery", "HTTPAuthorizationCredentials", "HTTPBasic",
                 "HTTPBasicCredentials", "HTTPBearer", "HTTPDigest", "OAuth2", "OAuth2AuthorizationCodeBearer",
                 "OAuth2PasswordBearer", "OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict",
                 "SecurityScopes"],
    "params": ["Param", "ParamTypes", "Path", "Query", "Header", "Cookie", "Body", "Form", "File", "Depends",
               "Security"],
    "param_functions": ["Path", "Query", "Header", "Cookie", "Body", "Form", "File", "Depends", "Security"],
    "exceptions": ["HTTPException", "RequestValidationError", "ResponseValidationError", "ValidationException",
                   "WebSocketRequestValidationError", "WebSocketException", "FastAPIError", "StarletteHTTPException",
                   "FastAPIDeprecationWarning"],
    "exception_handlers": ["http_exception_handler", "request_validation_exception_handler"],
    "encoders": ["jsonable_encoder"],
    "routing": ["APIRouter", "APIRoute", "Mount"],
    "staticfiles": ["StaticFiles"],
    "testclient": ["TestClient"],
    "background": ["BackgroundTasks"],
    "datastructures": ["UploadFile", "Default", "DefaultPlaceholder", "URL", "Address", "FormData", "Headers",
                       "QueryParams", "State"],
    "requests": ["Request"],
    "middleware": ["Middleware"],
    "middleware.cors": ["CORSMiddleware"],
    "middleware.gzip": ["GZipMiddleware"],
    "middleware.trustedhost": ["TrustedHostMiddleware"],
    "middleware.httpsredirect": ["HTTPSRedirectMiddleware"],
    "templating": ["Jinja2Templates"],
    "status": ["HTTP_200_OK", "HTTP_201_CREATED", "HTTP_204_NO_CONTENT", "HTTP_404_NOT_FOUND",
               "HTTP_422_UNPROCESSABLE_ENTITY", "HTTP_422_UNPROCESSABLE_CONTENT", "WS_1008_POLICY_VIOLATION"],
}


def _module(package: str, sub: str):
    if not sub:
        return importlib.import_module(package)
    try:
        return importlib.import_module(f"{package}.{sub}")
    except ModuleNotFoundError:  # FastAPI's `status` is an attribute (Starlette's module), not a file
        return getattr(importlib.import_module(package), sub)


@pytest.mark.parametrize("sub", sorted(PUBLIC))
def test_fastapi_import_paths_exist_in_fastcore(sub: str) -> None:
    ours = _module("fastcore", sub)
    missing = [name for name in PUBLIC[sub] if not hasattr(ours, name)]
    assert not missing, f"fastcore.{sub or ''} lacks {missing}"


@pytest.mark.parametrize("sub", sorted(PUBLIC))
def test_the_list_mirrors_fastapi(sub: str) -> None:
    fastapi = pytest.importorskip("fastapi")
    theirs = _module(fastapi.__name__, sub)
    assert not [name for name in PUBLIC[sub] if not hasattr(theirs, name)]


def test_status_names_are_fastapis() -> None:
    starlette_status = pytest.importorskip("starlette.status")
    from fastcore import status

    names = set(starlette_status.__all__) | set(getattr(starlette_status, "__deprecated__", {}))
    ours = {n for n in dir(status) if n.startswith(("HTTP_", "WS_"))}
    assert ours == names
    assert all(getattr(status, n) == getattr(starlette_status, n) for n in starlette_status.__all__)


def test_fastapi_is_fastcore() -> None:
    import fastcore

    assert fastcore.FastAPI is fastcore.FastCore

"""Security schemes written with FastAPI's imports (tests/test_security.py); served unchanged by
FastAPI and, imports renamed, by fastcore (tests/compat.py)."""
from __future__ import annotations

from typing import Annotated, Optional

from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2PasswordBearer,
    OpenIdConnect,
    SecurityScopes,
)

app = FastAPI()

oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items": "Read items", "me": "Read me"})
oauth2_optional = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)
bearer = HTTPBearer()
bearer_optional = HTTPBearer(auto_error=False)
basic = HTTPBasic()
basic_realm = HTTPBasic(realm="simple")
digest = HTTPDigest()
key_header = APIKeyHeader(name="X-API-Key")
key_query = APIKeyQuery(name="api_key", auto_error=False)
key_cookie = APIKeyCookie(name="session")


@app.get("/oauth2")
def read_oauth2(token: Annotated[str, Depends(oauth2)]):
    return {"token": token}


@app.get("/oauth2-optional")
async def read_oauth2_optional(token: Optional[str] = Depends(oauth2_optional)):
    return {"token": token}


@app.get("/bearer")
def read_bearer(credentials: HTTPAuthorizationCredentials = Depends(bearer)):
    return {"scheme": credentials.scheme, "credentials": credentials.credentials}


@app.get("/bearer-optional")
def read_bearer_optional(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer_optional)):
    return {"credentials": credentials}


@app.get("/basic")
def read_basic(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]):
    return {"username": credentials.username, "password": credentials.password}


@app.get("/basic-realm")
async def read_basic_realm(credentials: HTTPBasicCredentials = Depends(basic_realm)):
    return {"username": credentials.username}


@app.get("/digest")
def read_digest(credentials: HTTPAuthorizationCredentials = Depends(digest)):
    return {"credentials": credentials.credentials}


@app.get("/key-header")
def read_key_header(key: str = Depends(key_header)):
    return {"key": key}


@app.get("/key-query")
def read_key_query(key: Optional[str] = Depends(key_query)):
    return {"key": key}


@app.get("/key-cookie")
async def read_key_cookie(key: str = Security(key_cookie)):
    return {"key": key}


def current_user(scopes: SecurityScopes, token: str = Depends(oauth2)):
    granted = token.split(",")
    for scope in scopes.scopes:
        if scope not in granted:
            raise HTTPException(status_code=401, detail="Not enough permissions",
                                headers={"WWW-Authenticate": f'Bearer scope="{scopes.scope_str}"'})
    return {"token": token, "scopes": scopes.scopes}


@app.get("/scoped/items")
def read_scoped_items(user: dict = Security(current_user, scopes=["items"])):
    return user


@app.get("/scoped/me")
def read_scoped_me(user: Annotated[dict, Security(current_user, scopes=["me", "items"])]):
    return user


oidc = OpenIdConnect(openIdConnectUrl="https://issuer.example/.well-known/openid-configuration")
oidc_optional = OpenIdConnect(openIdConnectUrl="https://issuer.example/.well-known/openid-configuration",
                              auto_error=False)


@app.get("/oidc")
def read_oidc(authorization: Annotated[str, Depends(oidc)]):
    return {"authorization": authorization}


@app.get("/oidc-optional")
async def read_oidc_optional(authorization: Annotated[Optional[str], Depends(oidc_optional)]):
    return {"authorization": authorization}

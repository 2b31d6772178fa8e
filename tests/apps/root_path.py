"""An app served behind a root path (tests/test_root_path.py), written with FastAPI's imports:
what a handler sees of it (`scope["root_path"]`, `url`, `base_url`, `url_for`), the OpenAPI
`servers` and the docs pages. `app` takes the root path from the server (`--root-path`);
`app_own` sets its own (`FastAPI(root_path=...)`, deprecated in FastAPI 0.165)."""
import warnings

from fastapi import APIRouter, FastAPI, Request

router = APIRouter()


@router.get("/info")
def info(request: Request):
    return {
        "root_path": request.scope["root_path"],
        "path": request.scope["path"],
        "url": str(request.url),
        "base_url": str(request.base_url),
        "item": str(request.url_for("read_item", item_id=7)),
        "info": str(request.url_for("info")),
        "item_path": str(request.app.url_path_for("read_item", item_id=7)),
    }


@router.get("/items/{item_id}")
def read_item(item_id: int, request: Request):
    return {"item_id": item_id, "self": str(request.url_for("read_item", item_id=item_id))}


@router.get("/missing")
def missing(request: Request):
    return {"url": str(request.url_for("nothing_has_this_name"))}


@router.get("/slash/")
def slash():
    return {"slash": True}


app = FastAPI(title="Behind a proxy", servers=[{"url": "https://api.example.com", "description": "prod"}])
app.include_router(router)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # FastAPIDeprecationWarning: the server should set it
    app_own = FastAPI(title="Own root path", root_path="/own")
app_own.include_router(router)

app_no_servers = FastAPI(title="Root path kept out of servers", root_path_in_servers=False)
app_no_servers.include_router(router)

"""FastAPI idioms for the app object: routers, exception handlers, lifespan and state.
Written against `fastapi` only; tests/test_applications.py serves it on both frameworks."""
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.exceptions import StarletteHTTPException  # FastAPI's own re-export of Starlette's

events: list[str] = []


@asynccontextmanager
async def lifespan(app: FastAPI):
    events.append("lifespan start")
    app.state.started = True
    yield {"greeting": "hello from lifespan"}
    events.append("lifespan stop")


class ItemMissing(Exception):
    def __init__(self, item_id: int) -> None:
        self.item_id = item_id


class Teapot(ItemMissing):
    pass


app = FastAPI(lifespan=lifespan)
items = APIRouter(prefix="/items", tags=["items"])
admin = APIRouter()


@app.on_event("startup")
def not_run() -> None:  # an app with a lifespan runs no on_event handlers (FastAPI's rule)
    app.state.started = "by on_event"


@app.exception_handler(ItemMissing)
async def item_missing(request: Request, exc: ItemMissing):
    return JSONResponse({"missing": exc.item_id, "path": request.url.path}, status_code=404)


@app.exception_handler(RequestValidationError)
def validation_as_text(request: Request, exc: RequestValidationError):
    return PlainTextResponse(f"bad request: {len(exc.errors())} error(s)", status_code=400)


@app.exception_handler(409)
def conflict(request: Request, exc: HTTPException):
    return JSONResponse({"conflict": exc.detail}, status_code=409, headers={"x-conflict": "yes"})


@items.get("/{item_id}")
def read_item(item_id: int):
    if item_id == 0:
        raise ItemMissing(item_id)
    if item_id == 418:
        raise Teapot(item_id)
    return {"item_id": item_id}


@items.get("/check/validated")
def validated(limit: int):
    return {"limit": limit}


@items.put("/{item_id}/lock")
async def lock_item(item_id: int):
    raise HTTPException(status_code=409, detail={"item": item_id, "state": "locked"})


@admin.get("/state")
def state(request: Request):
    return {"greeting": request.state.greeting, "started": request.app.state.started}


@admin.get("/errors/{kind}")
async def errors(kind: str):
    if kind == "plain":
        raise HTTPException(status_code=403)
    if kind == "headers":
        raise HTTPException(status_code=401, detail=["a", 1, None], headers={"WWW-Authenticate": "Bearer"})
    if kind == "no-content":
        raise HTTPException(status_code=304)
    raise RuntimeError("unexpected " + kind)


@admin.get("/urls")
def urls(request: Request):
    return {"item": str(request.app.url_path_for("read_item", item_id=7))}


app.include_router(items)
app.include_router(admin, prefix="/admin", tags=["admin"])


# A second app: its own 404 handler and a (Starlette) HTTPException override reach the router's
# own answers too (route not found, method not allowed, a path parameter that does not convert).
custom = FastAPI()


@custom.exception_handler(404)
async def not_found(request: Request, exc: HTTPException):
    return JSONResponse({"nothing at": request.url.path}, status_code=404)


@custom.exception_handler(StarletteHTTPException)
def http_error_as_text(request: Request, exc: StarletteHTTPException):
    return PlainTextResponse(f"{exc.status_code}: {exc.detail}", status_code=exc.status_code,
                             headers=exc.headers)


@custom.exception_handler(RequestValidationError)
def validation_listing(request: Request, exc: RequestValidationError):
    return JSONResponse({"errors": [e["loc"] for e in exc.errors()]}, status_code=422)


@custom.get("/items/{item_id}")
def custom_item(item_id: int):
    return {"item_id": item_id}


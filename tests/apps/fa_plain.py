"""Plain routes (python/fastcore/dependencies/fused.py: no dependencies, path/query/header
parameters, at most one JSON body), written with FastAPI's imports; compared in tests/test_fused.py.

`app` serves them as they are; `mw_app` serves the same routes behind an HTTP middleware (which
sees each answer as a Response) and with a validation-error handler that shows the request body
FastAPI hands it (`exc.body`)."""
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

app = FastAPI()
router = APIRouter()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class Secret(Item):
    secret: str = "hidden"


@router.get("/users/{user_id}")
def read_user(user_id: int, q: str | None = None):
    return {"user_id": user_id, "q": q}


@router.get("/headers")
def headers(x_token: str = Header(), q: Annotated[str, Query(max_length=3)] = "abc", n: int = 1,
            tags: Annotated[list[str], Query()] = []):
    return {"x_token": x_token, "q": q, "n": n, "tags": tags}


@router.post("/items", response_model=Item, status_code=201)
def create_item(item: Item):
    return item


@router.post("/items/secret", response_model=Item)
def create_secret(item: Item):
    return Secret(**item.model_dump(), secret="leak")  # a subclass: filtered by the response model


@router.post("/items/dict", response_model=Item)
def create_from_dict(item: Item):
    return {"name": item.name, "price": item.price, "extra": 1}


@router.post("/items/accepted", response_model=Item, status_code=202)
def accept_item(item: Item):
    return item


@router.put("/items/{item_id}")
def update_item(item_id: int, item: Item, q: str | None = None):
    return {"item_id": item_id, "item": item, "q": q}


@router.post("/maybe")
def maybe(item: Item | None = None):
    return {"item": item}


app.include_router(router)

mw_app = FastAPI()
mw_app.include_router(router)


@mw_app.middleware("http")
async def tag(request: Request, call_next):
    response = await call_next(request)
    response.headers["x-seen"] = f"{response.status_code} {response.headers.get('content-length')}"
    return response


@mw_app.exception_handler(RequestValidationError)
async def show_body(request: Request, exc: RequestValidationError):
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": exc.errors(), "body": exc.body}))

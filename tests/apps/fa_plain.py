"""Plain routes (python/fastcore/dependencies/fused.py: no dependencies, path/query/header
parameters, at most one JSON body), written with FastAPI's imports; compared in tests/test_fused.py."""
from typing import Annotated

from fastapi import FastAPI, Header, Query
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class Secret(Item):
    secret: str = "hidden"


@app.get("/users/{user_id}")
def read_user(user_id: int, q: str | None = None):
    return {"user_id": user_id, "q": q}


@app.get("/headers")
def headers(x_token: str = Header(), q: Annotated[str, Query(max_length=3)] = "abc", n: int = 1,
            tags: Annotated[list[str], Query()] = []):
    return {"x_token": x_token, "q": q, "n": n, "tags": tags}


@app.post("/items", response_model=Item, status_code=201)
def create_item(item: Item):
    return item


@app.post("/items/secret", response_model=Item)
def create_secret(item: Item):
    return Secret(**item.model_dump(), secret="leak")  # a subclass: filtered by the response model


@app.post("/items/dict", response_model=Item)
def create_from_dict(item: Item):
    return {"name": item.name, "price": item.price, "extra": 1}


@app.post("/items/accepted", response_model=Item, status_code=202)
def accept_item(item: Item):
    return item


@app.put("/items/{item_id}")
def update_item(item_id: int, item: Item, q: str | None = None):
    return {"item_id": item_id, "item": item, "q": q}


@app.post("/maybe")
def maybe(item: Item | None = None):
    return {"item": item}

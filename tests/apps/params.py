"""Query parameters, request bodies, response_model and status_code (tests/test_params.py)."""
import uuid
from typing import Optional

from pydantic import BaseModel, Field

import fastcore
from fastcore import Request, Response

app = fastcore.FastCore()


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []


class ItemOut(BaseModel):
    name: str
    price: float


@app.get("/search")
def search(q: str, limit: int = 10, exact: bool = False, ratio: float = 0.5):
    return {"q": q, "limit": limit, "exact": exact, "ratio": ratio}


@app.get("/optional")
def optional(q: str | None = None, n: Optional[int] = None):
    return {"q": q, "n": n}


@app.get("/tags")
def tags(tag: list[str] = fastcore.Query([]), n: list[int] = fastcore.Query([])):
    return {"tag": tag, "n": n}


@app.get("/optional-tags")
def optional_tags(tag: list[str] | None = fastcore.Query(None)):
    return {"tag": tag}


@app.get("/typed-path/{item_id}")
def typed_path(item_id: uuid.UUID):
    return {"item_id": str(item_id), "type": type(item_id).__name__}


@app.get("/users/{user_id}/items")
def user_items(user_id: int, request: Request, page: int = 1):
    return {"user_id": user_id, "page": page, "path": request.path}


@app.post("/items")
def create_item(item: Item):
    return {"received": item.model_dump(), "type": type(item).__name__}


@app.put("/items/{item_id}")
def update_item(item_id: int, item: Item, q: str | None = None):
    return {"item_id": item_id, "name": item.name, "price": item.price, "q": q}


@app.post("/items/optional-body")
def optional_body(item: Item = None):  # type: ignore[assignment]
    return {"item": item.model_dump() if item is not None else None}


@app.post("/items/optional-union-body")
def optional_union_body(item: Item | None = None):
    return {"item": item.model_dump() if item is not None else None}


@app.post("/items/batch")
def create_batch(items: list[Item]):
    return {"names": [i.name for i in items]}


@app.post("/raw-dict")
def raw_dict(payload: dict):
    return {"keys": sorted(payload)}


@app.post("/created", status_code=201)
def created(item: Item):
    return {"name": item.name}


@app.post("/filtered", response_model=ItemOut)
def filtered(item: Item):
    return {"name": item.name, "price": item.price, "secret": "do-not-leak", "tags": item.tags}


@app.get("/filtered-model", response_model=ItemOut, status_code=201)
def filtered_model():
    return Item(name="widget", price=9.5, tags=["hidden"])


@app.get("/filtered-list", response_model=list[ItemOut])
def filtered_list():
    return [{"name": "a", "price": 1, "secret": 1}, {"name": "b", "price": 2.5, "secret": 2}]


@app.get("/bad-response-model", response_model=ItemOut)
def bad_response_model():
    return {"name": "no price"}


@app.get("/response-wins", status_code=201)
def response_wins():
    return Response("explicit", status_code=200, media_type="text/plain")


@app.delete("/things/{thing_id}", status_code=204)
def delete_thing(thing_id: int):
    return None

"""A small API for tests/test_docs.py to open in a real browser at /docs and /redoc."""
from typing import Annotated

from fastcore import FastAPI, Query
from pydantic import BaseModel

app = FastAPI(title="Docs demo", version="1.0.0")
calls: list[str] = []


class Item(BaseModel):
    name: str
    price: float


@app.get("/items", tags=["items"], summary="List the items")
def list_items(limit: Annotated[int, Query(le=10)] = 3) -> list[Item]:
    return [Item(name=f"item {i}", price=i + 0.5) for i in range(limit)]


@app.post("/items", tags=["items"], status_code=201)
def create_item(item: Item) -> Item:
    return item

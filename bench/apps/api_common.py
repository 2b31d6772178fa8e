"""The API benchmark's app (bench/api.py), written once against FastAPI's API and built for each
framework: `build(fastapi)` and `build(fastcore)` are the same code, as a ported app is.

    POST /items/{item_id}?q=&skip=&limit=   X-API-Key header -> owner (a Depends chain through
                                            APIKeyHeader), a Pager class dependency, a Pydantic
                                            body, response_model filtering, status 201
    GET  /                                  JSON hello (the ratio to raw hyper, same run)
    GET  /plaintext                         readiness probe
"""

from types import ModuleType
from typing import Annotated, Any

from pydantic import BaseModel, Field

HELLO = {"message": "Hello, World!"}
API_KEY = "bench-key"
ITEM = {"name": "widget", "price": 9.5, "tags": ["a", "b"]}
PATH = "/items/42?q=search&skip=5&limit=20"
# What a correct answer to PATH with ITEM is (the owner and pager echoed, "internal" filtered out).
EXPECT = {"id": 42, "name": "widget", "price": 9.5, "tags": ["a", "b"], "owner": "bench", "q": "search",
          "skip": 5, "limit": 20}


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str
    price: float
    tags: list[str]
    owner: str
    q: str | None
    skip: int
    limit: int


def build(fw: ModuleType) -> Any:
    """The app on framework `fw` (the `fastapi` or the `fastcore` module)."""
    from importlib import import_module

    security = import_module(f"{fw.__name__}.security")
    responses = import_module(f"{fw.__name__}.responses")
    Depends, Query, HTTPException = fw.Depends, fw.Query, fw.HTTPException
    header_key = security.APIKeyHeader(name="X-API-Key")

    def owner(key: Annotated[str, Depends(header_key)]) -> str:
        if key != API_KEY:
            raise HTTPException(status_code=403, detail="unknown key")
        return "bench"

    class Pager:
        def __init__(self, skip: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=100)] = 10):
            self.skip, self.limit = skip, limit

    app = fw.FastAPI()

    @app.post("/items/{item_id}", response_model=ItemOut, status_code=201)
    def create_item(item_id: int, item: ItemIn, who: Annotated[str, Depends(owner)],
                    pager: Annotated[Pager, Depends()], q: str | None = None):
        return {"id": item_id, **item.model_dump(), "owner": who, "q": q, "skip": pager.skip,
                "limit": pager.limit, "internal": "filtered out by the response model"}

    @app.get("/")
    def hello():
        return HELLO

    @app.get("/plaintext")
    def plaintext():
        return responses.PlainTextResponse("Hello, World!")

    return app

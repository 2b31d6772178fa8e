"""A small service written purely with FastAPI idioms; tests/test_porting.py runs it unchanged on
FastAPI and, with the import renamed, on fastcore, and compares every answer."""
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Body, Cookie, Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

app = FastAPI()
api_key = APIKeyHeader(name="X-API-Key")


class Tier(str, Enum):
    free = "free"
    pro = "pro"


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    price: float = Field(gt=0)
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str
    price: float
    tags: list[str]


class Pager:
    def __init__(self, skip: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(le=100)] = 10):
        self.skip, self.limit = skip, limit


def owner(key: Annotated[str, Depends(api_key)]) -> str:
    if key != "secret":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad key")
    return "alice"


items = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(owner)])


@items.post("/{item_id}", response_model=ItemOut, status_code=status.HTTP_201_CREATED)
async def create_item(item_id: Annotated[int, Path(ge=1)], item: ItemIn, pager: Annotated[Pager, Depends()],
                      q: str | None = None):
    return {"id": item_id, **item.model_dump(), "secret": "filtered out"}


@items.get("/{item_id}")
def read_item(item_id: int, user: Annotated[str, Depends(owner)], tier: Tier = Tier.free,
              tags: Annotated[list[str], Query()] = []):
    return {"item_id": item_id, "user": user, "tier": tier, "tags": tags}


@app.get("/headers")
def headers(user_agent: Annotated[str | None, Header()] = None,
            x_token: Annotated[list[str] | None, Header()] = None,
            session: Annotated[str | None, Cookie()] = None):
    return {"agent": user_agent, "tokens": x_token, "session": session}


@app.put("/embed")
def embed(item: Annotated[ItemIn, Body(embed=True)], importance: Annotated[int, Body()]):
    return {"item": item, "importance": importance}


@app.get("/set-cookie")
def set_cookie(response: Response):
    response.set_cookie("session", "abc", httponly=True)
    response.headers["X-Extra"] = "1"
    return {"ok": True}


@app.get("/raw")
def raw(request: Request):
    return JSONResponse({"method": request.method, "q": request.query_params.get("q")}, status_code=202)


app.include_router(items)

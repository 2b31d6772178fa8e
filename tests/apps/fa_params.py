"""Parameters, bodies and response models written with FastAPI's imports (tests/test_params_compat.py).

Served unchanged by FastAPI and, with the imports renamed, by fastcore (tests/compat.py).
"""
from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional, Union

from fastapi import Body, Cookie, FastAPI, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

app = FastAPI()


class Color(str, enum.Enum):
    red = "red"
    green = "green"


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []
    description: Optional[str] = None


class User(BaseModel):
    username: str
    full_name: Optional[str] = None


class ItemOut(BaseModel):
    name: str
    price: float
    tax: float = 10.5
    tags: list[str] = []
    note: Optional[str] = None


class Aliased(BaseModel):
    item_name: str = Field(alias="itemName")
    count: int = 0


@dataclass
class Point:
    x: int
    y: int


# -- path ---------------------------------------------------------------------------------------

@app.get("/path/int/{item_id}")
def path_int(item_id: int):
    return {"item_id": item_id}


@app.get("/path/ge/{item_id}")
def path_ge(item_id: Annotated[int, Path(ge=1, le=1000, title="The ID")]):
    return {"item_id": item_id}


@app.get("/path/default-form/{item_id}")
async def path_default_form(item_id: int = Path(gt=0)):
    return {"item_id": item_id}


@app.get("/path/enum/{color}")
def path_enum(color: Color):
    return {"color": color, "is_red": color is Color.red}


@app.get("/path/uuid/{uid}")
def path_uuid(uid: uuid.UUID):
    return {"uid": uid}


@app.get("/path/float/{x}")
def path_float(x: float):
    return {"x": x}


@app.get("/path/two/{a}/{b}")
def path_two(a: int, b: float):
    return {"a": a, "b": b}


@app.get("/path/file/{file_path:path}")
def path_path(file_path: str):
    return {"file_path": file_path}


# -- query --------------------------------------------------------------------------------------

@app.get("/query/scalars")
def query_scalars(q: str, n: int = 10, f: float = 0.5, flag: bool = False, day: Optional[datetime.date] = None):
    return {"q": q, "n": n, "f": f, "flag": flag, "day": day}


@app.get("/query/constraints")
def query_constraints(q: Annotated[str, Query(min_length=3, max_length=5, pattern="^[a-z]+$")],
                      n: Annotated[int, Query(gt=0, lt=10)] = 1,
                      d: decimal.Decimal = Query(decimal.Decimal("1.5"), max_digits=4, decimal_places=2)):
    return {"q": q, "n": n, "d": d}


@app.get("/query/alias")
async def query_alias(item_query: str = Query(alias="item-query"), x: Optional[int] = Query(None, alias="X")):
    return {"item_query": item_query, "x": x}


@app.get("/query/list")
def query_list(tag: Annotated[list[str], Query()] = [], n: list[int] = Query(default=[1, 2])):  # noqa: B006
    return {"tag": tag, "n": n}


@app.get("/query/required-list")
def query_required_list(tag: list[str] = Query()):
    return {"tag": tag}


@app.get("/query/enum-literal")
def query_enum_literal(color: Color = Color.green, mode: Literal["fast", "slow"] = "fast"):
    return {"color": color, "mode": mode}


@app.get("/query/union")
def query_union(v: Union[int, str, None] = None):
    return {"v": v}


# -- headers and cookies -----------------------------------------------------------------------

@app.get("/headers")
def headers(user_agent: Annotated[Optional[str], Header()] = None, x_token: str = Header(),
            strange_header: Optional[str] = Header(None, convert_underscores=False),
            x_tag: list[str] = Header(default=[])):
    return {"user_agent": user_agent, "x_token": x_token, "strange_header": strange_header, "x_tag": x_tag}


@app.get("/headers/int")
async def headers_int(x_count: int = Header(ge=0)):
    return {"x_count": x_count}


@app.get("/cookies")
def cookies(session: str = Cookie(), theme: Annotated[Optional[str], Cookie()] = None, n: int = Cookie(0)):
    return {"session": session, "theme": theme, "n": n}


# -- bodies -------------------------------------------------------------------------------------

@app.post("/body/item")
def body_item(item: Item):
    return item


@app.post("/body/item-async")
async def body_item_async(item: Item, q: Optional[str] = None):
    return {"item": item, "q": q}


@app.put("/body/multi/{item_id}")
def body_multi(item_id: int, item: Item, user: User, importance: Annotated[int, Body(gt=0)] = 1):
    return {"item_id": item_id, "item": item, "user": user, "importance": importance}


class Document(BaseModel):
    """A body validated from its bytes on fastcore (dependencies/json_body.py)."""
    title: str = Field(min_length=1)
    score: float = 0
    count: int = 0
    anything: Any = None
    meta: dict[str, Any] = {}
    items: list[Item] = []
    parent: Optional["Document"] = None


class Precise(BaseModel):
    """Validated FastAPI's two-step way on fastcore too: a Decimal's value depends on the step."""
    amount: decimal.Decimal
    when: Optional[datetime.datetime] = None


@app.post("/body/document")
def body_document(doc: Document):
    return {"doc": doc, "set": sorted(doc.model_fields_set), "types": [type(doc.anything).__name__,
                                                                        type(doc.score).__name__]}


@app.post("/body/precise")
def body_precise(p: Precise):
    return {"amount": str(p.amount), "when": p.when}


@app.post("/body/embed")
async def body_embed(item: Annotated[Item, Body(embed=True)]):
    return {"item": item}


@app.post("/body/dict")
def body_dict(weights: dict[int, float]):
    return weights


@app.post("/body/list")
def body_list(items: list[Item]):
    return {"count": len(items), "names": [i.name for i in items]}


@app.post("/body/optional")
def body_optional(item: Optional[Item] = None):
    return {"item": item}


@app.post("/body/alias")
def body_alias(data: Aliased):
    return data


@app.post("/body/scalar")
def body_scalar(name: str = Body(), count: int = Body(3)):
    return {"name": name, "count": count}


# -- Request and Response injection -------------------------------------------------------------

@app.get("/inject/request/{item_id}")
def inject_request(item_id: str, request: Request):
    return {"item_id": item_id, "method": request.method, "q": request.query_params.get("q")}


@app.get("/inject/response")
def inject_response(response: Response):
    response.headers["x-extra"] = "yes"
    response.set_cookie(key="fresh", value="cookie")
    return {"ok": True}


@app.get("/inject/cookie")
async def inject_cookie(response: Response):
    response.set_cookie(key="fresh", value="cookie")
    return {"ok": True}


@app.post("/inject/status", status_code=201)
async def inject_status(response: Response, fail: bool = False):
    if fail:
        response.status_code = 400
    return {"failed": fail}


# -- response models ----------------------------------------------------------------------------

@app.get("/model/filter", response_model=ItemOut)
def model_filter():
    return {"name": "x", "price": 1.5, "secret": "no", "note": None}


@app.get("/model/unset", response_model=ItemOut, response_model_exclude_unset=True)
def model_unset():
    return ItemOut(name="x", price=1.5)


@app.get("/model/none", response_model=ItemOut, response_model_exclude_none=True)
def model_none():
    return {"name": "x", "price": 1.5, "note": None}


@app.get("/model/defaults", response_model=ItemOut, response_model_exclude_defaults=True)
def model_defaults():
    return {"name": "x", "price": 1.5, "tax": 10.5, "tags": ["a"]}


@app.get("/model/include", response_model=ItemOut, response_model_include={"name", "tax"})
def model_include():
    return {"name": "x", "price": 1.5}


@app.get("/model/exclude", response_model=ItemOut, response_model_exclude={"tax"})
async def model_exclude():
    return {"name": "x", "price": 1.5}


@app.get("/model/alias", response_model=Aliased)
def model_alias():
    return {"itemName": "n", "count": 2}


@app.get("/model/alias-off", response_model=Aliased, response_model_by_alias=False)
def model_alias_off():
    return {"itemName": "n", "count": 2}


@app.get("/model/list", response_model=list[ItemOut])
def model_list():
    return [{"name": "a", "price": 1}, {"name": "b", "price": 2, "extra": 1}]


@app.get("/model/annotation")
def model_annotation() -> ItemOut:
    return {"name": "from-annotation", "price": 2, "secret": "dropped"}  # type: ignore[return-value]


@app.get("/model/annotation-async")
async def model_annotation_async() -> list[User]:
    return [{"username": "u", "password": "p"}]  # type: ignore[list-item]


@app.get("/model/annotation-overridden", response_model=None)
def model_annotation_overridden() -> dict:
    return {"kept": {"everything": True}}


@app.get("/model/response-annotation")
def model_response_annotation() -> Response:
    return Response("plain", media_type="text/plain")


@app.get("/model/status", response_model=ItemOut, status_code=202)
def model_status():
    return {"name": "x", "price": 3}


@app.delete("/model/no-content", status_code=204)
def model_no_content():
    return None


# -- encoding without a response model ----------------------------------------------------------

@app.get("/encode/types")
def encode_types():
    return {
        "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, 600000),
        "date": datetime.date(2024, 1, 2),
        "time": datetime.time(10, 30),
        "delta": datetime.timedelta(hours=1, seconds=1.5),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "dec_int": decimal.Decimal("10"),
        "dec_float": decimal.Decimal("1.50"),
        "enum": Color.red,
        "set": {1},
        "frozenset": frozenset({"a"}),
        "bytes": b"raw",
        "tuple": (1, "two"),
        "dataclass": Point(1, 2),
        "model": Aliased(itemName="m"),
        "nested": [{"when": datetime.date(2020, 2, 29)}],
    }


@app.get("/encode/model")
async def encode_model():
    return Item(name="thing", price=2)


# -- parameter models ---------------------------------------------------------------------------

class FilterParams(BaseModel):
    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


class StrictFilter(BaseModel):
    model_config = {"extra": "forbid"}
    q: str


class CommonHeaders(BaseModel):
    host: str
    save_data: bool = False
    x_tag: list[str] = []
    if_modified_since: Optional[str] = None


class SessionCookies(BaseModel):
    session_id: str
    tracker: Optional[str] = None


@app.get("/models/query")
def models_query(filters: Annotated[FilterParams, Query()]):
    return filters


@app.get("/models/query-strict")
async def models_query_strict(filters: StrictFilter = Query()):
    return filters


@app.get("/models/headers")
def models_headers(headers: Annotated[CommonHeaders, Header()]):
    return {"save_data": headers.save_data, "x_tag": headers.x_tag, "ims": headers.if_modified_since}


@app.get("/models/cookies")
def models_cookies(cookies: Annotated[SessionCookies, Cookie()]):
    return cookies


# -- response classes with and without a model --------------------------------------------------

@app.get("/class/json-model", response_model=ItemOut, response_class=JSONResponse)
def class_json_model():
    return {"name": "x", "price": 1e20, "secret": 1}


@app.get("/class/html", response_class=HTMLResponse)
def class_html():
    return "<b>bold</b>"


@app.get("/class/text", response_class=PlainTextResponse, status_code=202)
async def class_text():
    return "plain words"


@app.get("/class/floats")
def class_floats():
    return {"big": 1e20, "small": 1.5e-7, "plain": 0.25}


@app.get("/class/floats-model", response_model=dict[str, float])
def class_floats_model():
    return {"big": 1e20, "small": 1.5e-7, "plain": 0.25}


SmallInt = TypeAliasType("SmallInt", Annotated[int, Query(lt=10)])


@app.get("/alias-type")
def alias_type(n: SmallInt = 1):
    return {"n": n}



@app.get("/validation-alias")
def validation_alias(item_id: int = Query(validation_alias="item-id"), h: Optional[str] = Header(None, validation_alias="X-H")):
    return {"item_id": item_id, "h": h}

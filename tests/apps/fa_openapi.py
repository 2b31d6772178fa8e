"""Every route option OpenAPI reads, written with FastAPI's imports only; tests/test_openapi.py
serves it on both frameworks and compares the `/openapi.json` bytes."""
from datetime import datetime
from enum import Enum
from typing import Annotated, Optional, Union

from fastapi import APIRouter, Body, Cookie, Depends, FastAPI, File, Form, Header, Path, Query, Security, UploadFile, status
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.security import HTTPBasic, HTTPBearer, OAuth2PasswordBearer
from pydantic import BaseModel, Field, computed_field

app = FastAPI(
    title="Shop API",
    version="2.5.0",
    summary="Things for sale",
    description="The **shop**: items, users and orders.",
    terms_of_service="https://example.com/terms",
    contact={"name": "Shop team", "url": "https://example.com", "email": "shop@example.com"},
    license_info={"name": "MIT", "identifier": "MIT"},
    openapi_tags=[{"name": "items", "description": "Things for sale"},
                  {"name": "users", "externalDocs": {"url": "https://example.com/users", "description": "More"}}],
    servers=[{"url": "https://shop.example.com", "description": "production"}],
)
oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items:read": "Read items", "items:write": "Write items"})
basic = HTTPBasic(description="Basic auth")
bearer = HTTPBearer(bearerFormat="JWT", auto_error=False)


class Color(str, Enum):
    red = "red"
    blue = "blue"


class Tag(BaseModel):
    name: str = Field(max_length=10, description="A short tag")
    weight: float = Field(default=1.0, ge=0, le=10, multiple_of=0.5)


class Item(BaseModel):
    """An item.\fInternal notes that OpenAPI leaves out."""
    name: str = Field(min_length=1, examples=["widget"])
    price: float = Field(gt=0)
    color: Color = Color.red
    tags: list[Tag] = []
    created: Optional[datetime] = None

    @computed_field
    @property
    def label(self) -> str:
        return self.name.upper()


class User(BaseModel):
    username: str
    full_name: Union[str, None] = None


class Message(BaseModel):
    message: str


class Filters(BaseModel):
    limit: int = Field(100, gt=0, le=100)
    order_by: str = "created"


def current_user(token: Annotated[str, Security(oauth2, scopes=["items:read"])]) -> str:
    return token


items = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(current_user)],
                  responses={404: {"model": Message, "description": "Not found"}})


@items.get("/", summary="List items", response_description="The items")
def list_items(filters: Annotated[Filters, Query()], q: Annotated[Union[str, None], Query(
        alias="item-query", description="Search text", deprecated=True, min_length=3)] = None) -> list[Item]:
    """Lists the items.

    With **markdown**.
    \f
    Not in the document.
    """
    return []


@items.get("/{item_id}", response_model=Item, responses={418: {"description": "A teapot"}, "5XX": {"description": "Oops"}})
def read_item(item_id: Annotated[int, Path(ge=1, title="The item", examples=[3])], color: Color = Color.red,
              x_request_id: Annotated[Union[str, None], Header()] = None, session: Annotated[Union[str, None], Cookie()] = None):
    return {"name": "x", "price": 1}


@items.post("/", status_code=status.HTTP_201_CREATED, response_model=Item, operation_id="createItem",
            dependencies=[Security(current_user, scopes=["items:write"])])
def create_item(item: Item, user: Annotated[User, Body()], importance: Annotated[int, Body(gt=0)] = 1):
    return item


@items.put("/{item_id}", deprecated=True, openapi_extra={"x-internal": True, "responses": {"409": {"description": "Conflict"}}})
def replace_item(item_id: int, item: Annotated[Item, Body(embed=True, openapi_examples={
        "normal": {"summary": "A normal item", "value": {"name": "widget", "price": 3.5}}})]) -> Item:
    return item


@items.delete("/{item_id}", status_code=204)
def delete_item(item_id: int) -> None:
    return None


@app.get("/users/me", tags=["users"], response_model=User)
def read_me(credentials: Annotated[object, Depends(basic)]):
    return {"username": "me"}


@app.get("/users/token", tags=["users"])
def read_token(credentials: Annotated[object, Depends(bearer)]) -> dict[str, str]:
    return {}


@app.post("/files/", tags=["files"])
def upload(file: Annotated[UploadFile, File(description="The upload")], note: Annotated[str, Form()] = "",
           extra: Annotated[Union[list[bytes], None], File()] = None):
    return {"name": file.filename}


@app.post("/login", tags=["users"])
def login(username: Annotated[str, Form()], password: Annotated[str, Form(min_length=8)]):
    return {}


@app.get("/page", response_class=HTMLResponse, include_in_schema=True)
def page():
    return "<h1>hi</h1>"


@app.get("/text", response_class=PlainTextResponse, responses={200: {"content": {"text/csv": {}}}})
def text():
    return "hi"


@app.get("/go", response_class=RedirectResponse, status_code=307)
def go():
    return "/page"


@app.get("/hidden", include_in_schema=False)
def hidden():
    return {}


callbacks = APIRouter()


@callbacks.post("{$callback_url}/events", response_model=Message)
def event_callback(body: Message):
    pass


@app.post("/subscribe", callbacks=callbacks.routes, tags=["events"])
def subscribe(callback_url: str) -> Message:
    return Message(message="ok")


@app.webhooks.post("new-item")
def new_item(body: Item):
    pass


app.include_router(items)

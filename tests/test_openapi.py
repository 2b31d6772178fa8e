"""OpenAPI (python/fastcore/openapi/): `/openapi.json` generated from the route plans.

Each app under tests/apps/ written with FastAPI's imports is served by fastcore and, where FastAPI
is installed (the GIL venv), by FastAPI too: the documents must be the same bytes (tests/compat.py).
Every document is also checked against the OpenAPI 3.1 specification with openapi-spec-validator
where it is installed (GIL venv: its dependencies have no free-threaded wheels today). The
assertions on names and shapes run on both interpreters.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from fastcore import APIRouter, FastAPI, Query
from fastcore.testclient import TestClient

from .compat import Pair, serve_pair
from .conftest import ServerFactory

APPS = ["porting", "fa_params", "fa_deps", "fa_security", "fa_forms", "fa_responses", "application", "redirects",
        "fa_openapi"]


def validate(document: dict[str, Any]) -> None:
    try:
        from openapi_spec_validator import validate as spec_validate
    except ImportError:
        return
    spec_validate(document)


@pytest.fixture(scope="module", params=APPS)
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    yield from serve_pair(ServerFactory(tmp_path_factory.mktemp(request.param)), request.param)


def test_document_is_fastapis_and_valid(pair: Pair) -> None:
    r = pair.get("/openapi.json")  # same status, bytes and headers as FastAPI's
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    document = r.json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert pair.get("/openapi.json").content == r.content  # served again: the same bytes


def _document(pair: Pair) -> dict[str, Any]:
    return pair.get("/openapi.json").json()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    for p in serve_pair(ServerFactory(tmp_path_factory.mktemp("shop")), "fa_openapi"):
        yield _document(p)


def test_names_fastapi_gives(shop: dict[str, Any]) -> None:
    items = shop["paths"]["/items/{item_id}"]
    assert items["get"]["operationId"] == "read_item_items__item_id__get"
    assert items["put"]["deprecated"] is True and items["put"]["x-internal"] is True
    assert items["put"]["responses"]["409"] == {"description": "Conflict"}
    schemas = shop["components"]["schemas"]
    # several body parameters become one Body_<operationId> model; input and output schemas of a
    # model with a computed field differ, and pydantic names them apart.
    assert {"HTTPValidationError", "ValidationError", "Body_createItem", "Item-Input", "Item-Output",
            "Message", "Tag", "Color", "Body_upload_files__post", "Body_login_login_post"} <= set(schemas)
    create = shop["paths"]["/items/"]["post"]
    assert create["operationId"] == "createItem"
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Body_createItem"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item-Output"}
    assert create["security"] == [{"OAuth2PasswordBearer": ["items:read", "items:write"]}]
    assert schemas["Body_createItem"]["properties"]["importance"] == {
        "type": "integer", "exclusiveMinimum": 0.0, "title": "Importance", "default": 1}
    assert shop["paths"]["/files/"]["post"]["requestBody"]["content"].keys() == {"multipart/form-data"}
    assert shop["paths"]["/login"]["post"]["requestBody"]["content"].keys() == {"application/x-www-form-urlencoded"}


def test_parameters_responses_and_options(shop: dict[str, Any]) -> None:
    listing = shop["paths"]["/items/"]["get"]
    assert listing["summary"] == "List items" and listing["tags"] == ["items"]
    assert listing["description"] == "Lists the items.\n\nWith **markdown**."
    params = {p["name"]: p for p in listing["parameters"]}
    assert set(params) == {"limit", "order_by", "item-query"}  # the Query() model expanded
    assert params["item-query"]["deprecated"] is True and params["item-query"]["description"] == "Search text"
    assert listing["responses"]["200"]["description"] == "The items"
    assert listing["responses"]["404"]["description"] == "Not found"
    read = shop["paths"]["/items/{item_id}"]["get"]
    assert [(p["in"], p["name"]) for p in read["parameters"]] == [
        ("path", "item_id"), ("query", "color"), ("header", "x-request-id"), ("cookie", "session")]
    assert set(read["responses"]) == {"200", "404", "418", "5XX", "422"}
    assert "content" not in shop["paths"]["/items/{item_id}"]["delete"]["responses"]["204"]
    assert shop["paths"]["/page"]["get"]["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert "307" in shop["paths"]["/go"]["get"]["responses"]
    assert "/hidden" not in shop["paths"] and "/openapi.json" not in shop["paths"]
    assert shop["info"]["contact"]["url"] == "https://example.com/"
    assert [t["name"] for t in shop["tags"]] == ["items", "users"]
    assert shop["servers"] == [{"url": "https://shop.example.com", "description": "production"}]
    assert "new-item" in shop["webhooks"]
    assert "event_callback" in shop["paths"]["/subscribe"]["post"]["callbacks"]
    schemes = shop["components"]["securitySchemes"]
    assert schemes["HTTPBasic"] == {"type": "http", "description": "Basic auth", "scheme": "basic"}
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"] == {
        "scopes": {"items:read": "Read items", "items:write": "Write items"}, "tokenUrl": "token"}
    validate(shop)


def _app(**options: Any) -> FastAPI:
    app = FastAPI(**options)

    @app.get("/items/{item_id}")
    def read_item(item_id: int, q: str | None = Query(None, max_length=5)) -> dict[str, int]:
        return {"item_id": item_id}

    return app


def test_openapi_url_none_turns_it_off() -> None:
    app = _app(openapi_url=None)
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
    assert [r.path for r in app.routes] == ["/items/{item_id}"]


def test_custom_url_title_version_and_cache() -> None:
    app = _app(openapi_url="/api/v1/openapi.json", title="Mine", version="9.9", description="Hello")
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        document = client.get("/api/v1/openapi.json").json()
    assert document["info"] == {"title": "Mine", "description": "Hello", "version": "9.9"}
    assert app.openapi() is app.openapi_schema is app.openapi()  # generated once
    validate(document)


def test_override_pattern() -> None:
    """FastAPI's documented way to change the document: replace `app.openapi`."""
    app = _app()

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastcore.openapi.utils import get_openapi

        schema = get_openapi(title="Custom", version="3.0.0", routes=app.routes)
        schema["info"]["x-logo"] = {"url": "https://example.com/logo.png"}
        app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
        assert document["info"]["x-logo"] == {"url": "https://example.com/logo.png"}
        app.openapi_schema["info"]["title"] = "Changed"  # type: ignore[index]
        app.openapi_schema = dict(app.openapi_schema)  # type: ignore[arg-type]  # a new object: served anew
        assert client.get("/openapi.json").json()["info"]["title"] == "Changed"


def test_root_path_is_a_server() -> None:
    app = _app(root_path="/api", servers=[{"url": "https://a.example.com"}])
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    assert document["servers"] == [{"url": "/api"}, {"url": "https://a.example.com"}]
    assert "servers" not in json.dumps(app.openapi()["paths"])
    plain = _app(root_path="/api", root_path_in_servers=False)
    with TestClient(plain) as client:
        assert "servers" not in client.get("/openapi.json").json()


def test_routers_tags_and_include_in_schema() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/r", tags=["r"], include_in_schema=True)

    @router.get("/a", tags=["a"])
    def a() -> None:
        return None

    @router.get("/b", include_in_schema=False)
    def b() -> None:
        return None

    app.include_router(router, prefix="/v1", tags=["v1"])
    document = app.openapi()
    assert list(document["paths"]) == ["/v1/r/a"]
    assert document["paths"]["/v1/r/a"]["get"]["tags"] == ["v1", "r", "a"]
    assert document["paths"]["/v1/r/a"]["get"]["operationId"] == "a_v1_r_a_get"
    assert "components" not in document  # nothing validated: no 422, no schemas
    validate(document)

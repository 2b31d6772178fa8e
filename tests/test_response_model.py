"""response_model and its options, return annotations as models, status codes and FastAPI's
encoding of results without a model (python/fastcore/handler.py, encoders.py), compared with
FastAPI on the same app (tests/apps/fa_params.py via tests/compat.py)."""
from __future__ import annotations

import pytest

import fastcore


def test_response_model_filters_extra_fields(fa_params) -> None:
    assert fa_params.get("/model/filter").json() == {"name": "x", "price": 1.5, "tax": 10.5, "tags": [], "note": None}
    assert fa_params.get("/model/list").json() == [
        {"name": "a", "price": 1.0, "tax": 10.5, "tags": [], "note": None},
        {"name": "b", "price": 2.0, "tax": 10.5, "tags": [], "note": None}]


@pytest.mark.parametrize("url, expected", [
    ("/model/unset", {"name": "x", "price": 1.5}),
    ("/model/none", {"name": "x", "price": 1.5, "tax": 10.5, "tags": []}),
    ("/model/defaults", {"name": "x", "price": 1.5, "tags": ["a"]}),
    ("/model/include", {"name": "x", "tax": 10.5}),
    ("/model/exclude", {"name": "x", "price": 1.5, "tags": [], "note": None}),
    ("/model/alias", {"itemName": "n", "count": 2}),
    ("/model/alias-off", {"item_name": "n", "count": 2}),
])
def test_response_model_options(fa_params, url: str, expected: dict) -> None:
    r = fa_params.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == expected


def test_return_annotation_is_the_response_model(fa_params) -> None:
    assert fa_params.get("/model/annotation").json() == {
        "name": "from-annotation", "price": 2.0, "tax": 10.5, "tags": [], "note": None}
    assert fa_params.get("/model/annotation-async").json() == [{"username": "u", "full_name": None}]


def test_return_annotation_not_used(fa_params) -> None:
    """`response_model=None` turns it off; a Response annotation is not a model."""
    assert fa_params.get("/model/annotation-overridden").json() == {"kept": {"everything": True}}
    r = fa_params.get("/model/response-annotation")
    assert (r.text, r.headers["content-type"]) == ("plain", "text/plain; charset=utf-8")


def test_status_codes(fa_params) -> None:
    assert fa_params.get("/model/status").status_code == 202
    r = fa_params.check("DELETE", "/model/no-content")
    assert (r.status_code, r.content) == (204, b"")


def test_encoding_without_a_model(fa_params) -> None:
    assert fa_params.get("/encode/types").json() == {
        "dt": "2024-01-02T03:04:05.600000", "date": "2024-01-02", "time": "10:30:00", "delta": 3601.5,
        "uuid": "12345678-1234-5678-1234-567812345678", "dec_int": 10, "dec_float": 1.5, "enum": "red",
        "set": [1], "frozenset": ["a"], "bytes": "raw", "tuple": [1, "two"], "dataclass": {"x": 1, "y": 2},
        "model": {"itemName": "m", "count": 0}, "nested": [{"when": "2020-02-29"}]}
    assert fa_params.get("/encode/model").json() == {"name": "thing", "price": 2.0, "tags": [], "description": None}


def test_response_classes(fa_params) -> None:
    assert fa_params.get("/class/json-model").json()["price"] == 1e20
    r = fa_params.get("/class/html")
    assert (r.text, r.headers["content-type"]) == ("<b>bold</b>", "text/html; charset=utf-8")
    r = fa_params.get("/class/text")
    assert (r.status_code, r.text) == (202, "plain words")


def test_float_spelling_follows_the_encoder_fastapi_uses(fa_params) -> None:
    """Without a model FastAPI's JSONResponse writes Python's repr (1e+20); with one, pydantic's
    dump_json writes 1e20. fastcore writes each the same way."""
    assert fa_params.get("/class/floats").content == b'{"big":1e+20,"small":1.5e-07,"plain":0.25}'
    assert fa_params.get("/class/floats-model").content == b'{"big":1e20,"small":1.5e-7,"plain":0.25}'


def test_an_annotation_that_is_no_model_is_refused_at_registration() -> None:
    """FastAPI's FastAPIError, unless `response_model=None` turns the inference off."""
    from fastcore.exceptions import FastAPIError

    app = fastcore.FastAPI()
    with pytest.raises(FastAPIError, match="Invalid args for response field"):
        @app.get("/mixed")
        def mixed() -> fastcore.Response | dict:
            return {}

    @app.get("/mixed-allowed", response_model=None)
    def allowed() -> fastcore.Response | dict:
        return {}


def test_a_response_model_goes_to_bytes_without_an_intermediate_dict(monkeypatch) -> None:
    """The model instance goes to pydantic-core's serializer as is: no `model_dump`, no
    `jsonable_encoder`, no encoding of a Python dict (issue 13, part 2)."""
    from pydantic import BaseModel, TypeAdapter

    from fastcore import handler, responses
    from fastcore.dependencies.solve import State

    class Out(BaseModel):
        name: str
        price: float
        tags: list[str] = []

    def refuse(*args, **kwargs):
        raise AssertionError("an intermediate Python value was built")

    finish = handler.Finisher(Out, 201, None, dict(include=None, exclude=None, by_alias=True, exclude_unset=False,
                                                   exclude_defaults=False, exclude_none=False))
    assert finish.to_json.__self__ is finish.adapter.serializer  # pydantic-core's own method
    value = Out(name="caf\u00e9", price=1.0, tags=["a"])
    monkeypatch.setattr(Out, "model_dump", refuse)
    monkeypatch.setattr(handler, "jsonable_encoder", refuse)
    monkeypatch.setattr(responses, "encode_json", refuse)
    resp = finish(value, State(None))
    assert resp.status_code == 201
    assert resp.body == TypeAdapter(Out).dump_json(value) == '{"name":"café","price":1.0,"tags":["a"]}'.encode()
    assert resp.raw_headers == [("content-length", str(len(resp.body))), ("content-type", "application/json")]

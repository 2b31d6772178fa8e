"""Form and File parameters (python/fastcore/dependencies/solve.py's form path over
fastcore.formparsers): fields, models, bytes and UploadFile files, lists, the OAuth2 password
forms. tests/apps/fa_forms.py runs on FastAPI and on fastcore; answers must be identical."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("data", [
    {"username": "ann", "password": "secret"}, {"username": "ann", "password": "pw"}, {"username": "ann"}, {},
    {"username": "", "password": "secret"},
])
def test_form_fields(fa_forms, data) -> None:
    r = fa_forms.post("/form/login", data=data)
    if data == {"username": "ann", "password": "secret"}:
        assert r.json() == {"username": "ann", "password_length": 6}
    else:
        assert r.status_code == 422


def test_form_fields_async_with_lists(fa_forms) -> None:
    r = fa_forms.post("/form/async", data={"name": "n", "count": "2", "tags": ["a", "b"]})
    assert r.json() == {"name": "n", "count": 2, "tags": ["a", "b"]}
    assert fa_forms.post("/form/async", data={"name": "n", "count": "x"}).status_code == 422
    assert fa_forms.post("/form/async", files={"name": (None, "multi")}).json() == {"name": "multi", "count": 1, "tags": []}


def test_form_with_json_or_no_body(fa_forms) -> None:
    assert fa_forms.post("/form/login", json={"username": "a", "password": "secret"}).status_code == 422
    assert fa_forms.post("/form/optional").json() == {"note": None}
    assert fa_forms.post("/form/optional", data={"note": ""}).json() == {"note": None}


@pytest.mark.parametrize("data", [{"username": "u", "password": "pwd"}, {"username": "u", "password": "p"},
                                  {"username": "u", "password": "pwd", "remember": "yes", "extra": "x"}, {}])
def test_form_model(fa_forms, data) -> None:
    fa_forms.post("/form/model", data=data)


def test_files_as_bytes_and_uploads(fa_forms) -> None:
    payload = b"hello world" * 1000
    assert fa_forms.post("/file/bytes", files={"file": ("a.bin", payload)}).json() == {"size": 11000, "head": "hello"}
    r = fa_forms.post("/file/upload", files={"file": ("a.txt", b"abc", "text/plain")}, data={"note": "n"})
    assert r.json() == {"filename": "a.txt", "type": "text/plain", "size": 3, "note": "n"}
    assert fa_forms.post("/file/upload-sync", files={"file": ("b.txt", b"xyz")}).json() == {"filename": "b.txt", "size": 3}
    big = b"x" * (2 * 1024 * 1024 + 5)  # spilled to disk by the parser
    assert fa_forms.post("/file/upload-sync", files={"file": ("big", big)}).json() == {"filename": "big", "size": len(big)}


def test_file_lists_and_missing_files(fa_forms) -> None:
    files = [("files", ("1.txt", b"1")), ("files", ("2.txt", b"22"))]
    assert fa_forms.post("/file/many", files=files).json() == {"names": ["1.txt", "2.txt"]}
    assert fa_forms.post("/file/many-bytes", files=files).json() == {"sizes": [1, 2]}
    assert fa_forms.post("/file/many", data={"x": "y"}).status_code == 422
    assert fa_forms.post("/file/bytes").status_code == 422
    assert fa_forms.post("/file/upload", data={"file": "not a file"}).status_code == 422
    assert fa_forms.post("/file/optional").json() == {"file": None}
    assert fa_forms.post("/file/optional", files={"file": ("", b"")}).json() == {"file": None}


def test_oauth2_password_request_forms(fa_forms) -> None:
    r = fa_forms.post("/token", data={"username": "u", "password": "p", "scope": "a b", "client_id": "c"})
    assert r.json() == {"username": "u", "password": "p", "scopes": ["a", "b"], "grant_type": None, "client_id": "c"}
    assert fa_forms.post("/token", data={"username": "u"}).status_code == 422
    assert fa_forms.post("/token", data={"username": "u", "password": "p", "grant_type": "code"}).status_code == 422
    assert fa_forms.post("/token-strict", data={"username": "u", "password": "p"}).status_code == 422
    assert fa_forms.post("/token-strict", data={"username": "u", "password": "p", "grant_type": "password"}).json() == {
        "username": "u", "grant_type": "password"}


def test_malformed_multipart_is_400(fa_forms) -> None:
    r = fa_forms.post("/form/login", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400


def test_handler_error_after_a_spilled_upload(fa_forms) -> None:
    """A sync route that refuses a file spilled to disk: the HTTPException is the answer (the
    files are closed on the way out without waiting on anything)."""
    big = b"y" * (2 * 1024 * 1024)
    r = fa_forms.post("/file/refuse", files={"file": ("huge.bin", big)})
    assert (r.status_code, r.json()) == (413, {"detail": "huge.bin is too large"})

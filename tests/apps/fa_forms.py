"""Form and File parameters written with FastAPI's imports (tests/test_params.py, forms section);
served unchanged by FastAPI and, imports renamed, by fastcore (tests/compat.py)."""
from __future__ import annotations

from typing import Annotated, Optional

from fastapi import Depends, FastAPI, File, Form, HTTPException, UploadFile
from fastapi.security import OAuth2PasswordRequestForm, OAuth2PasswordRequestFormStrict
from pydantic import BaseModel, Field

app = FastAPI()


class Login(BaseModel):
    username: str
    password: str = Field(min_length=3)
    remember: bool = False


@app.post("/form/login")
def form_login(username: Annotated[str, Form()], password: str = Form(min_length=3)):
    return {"username": username, "password_length": len(password)}


@app.post("/form/async")
async def form_async(name: str = Form(), count: int = Form(1), tags: list[str] = Form([])):
    return {"name": name, "count": count, "tags": tags}


@app.post("/form/model")
def form_model(data: Annotated[Login, Form()]):
    return data


@app.post("/form/optional")
def form_optional(note: Optional[str] = Form(None)):
    return {"note": note}


@app.post("/file/bytes")
def file_bytes(file: bytes = File()):
    return {"size": len(file), "head": file[:5].decode("latin-1")}


@app.post("/file/upload")
async def file_upload(file: UploadFile, note: str = Form("none")):
    content = await file.read()
    return {"filename": file.filename, "type": file.content_type, "size": len(content), "note": note}


@app.post("/file/upload-sync")
def file_upload_sync(file: UploadFile = File(description="a file")):
    return {"filename": file.filename, "size": len(file.file.read())}


@app.post("/file/many")
def file_many(files: list[UploadFile] = File()):
    return {"names": [f.filename for f in files]}


@app.post("/file/many-bytes")
async def file_many_bytes(files: Annotated[list[bytes], File()]):
    return {"sizes": [len(f) for f in files]}


@app.post("/file/optional")
def file_optional(file: Optional[UploadFile] = None):
    return {"file": file.filename if file else None}


@app.post("/token")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    return {"username": form.username, "password": form.password, "scopes": form.scopes,
            "grant_type": form.grant_type, "client_id": form.client_id}


@app.post("/token-strict")
async def token_strict(form: OAuth2PasswordRequestFormStrict = Depends()):
    return {"username": form.username, "grant_type": form.grant_type}


@app.post("/file/refuse")
def file_refuse(file: UploadFile):
    raise HTTPException(status_code=413, detail=f"{file.filename} is too large")

"""CORSMiddleware as FastAPI apps configure it (tests/test_cors.py): `app` names its origins
(and a regex) and allows credentials; `app_any` allows every origin and header."""
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://example.org", "https://trusted.example.com"],
    allow_origin_regex=r"https://.*\.example\.net",
    allow_methods=["GET", "POST"],
    allow_headers=["X-Token"],
    allow_credentials=True,
    expose_headers=["X-Total", "X-Page"],
    max_age=300,
)


@app.get("/items")
def items():
    return {"items": [1, 2]}


@app.get("/vary")
def vary():
    return PlainTextResponse("varied", headers={"vary": "Accept-Language"})


app_any = FastAPI()
app_any.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])


@app_any.get("/items")
def any_items():
    return {"items": [1, 2]}


app_private = FastAPI()
app_private.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_private_network=True)


@app_private.get("/items")
def private_items():
    return {"items": []}

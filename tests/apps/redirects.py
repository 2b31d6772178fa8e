"""Trailing-slash redirects, written with FastAPI's imports (tests/test_redirects.py compares the
answers with FastAPI's)."""
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def root():
    return {"root": True}


@app.get("/items")
def items():
    return {"items": True}


@app.get("/users/")
def users():
    return {"users": True}


@app.post("/only-post")
def only_post():
    return {"posted": True}


@app.get("/deep/{name}/")
def deep(name: str):
    return {"name": name}


@app.get("/num/{n:int}")
def num(n: int):
    return {"n": n}

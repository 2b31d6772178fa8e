"""A small app for the malformed-request corpus (tests/test_malformed.py)."""
import threading

import fastcore
from fastcore import Request

app = fastcore.FastCore()


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.post("/echo")
def echo(request: Request):
    return {"size": len(request.body_bytes)}


@app.post("/echo-async")
async def echo_async(request: Request):
    return {"size": len(await request.body())}


@app.get("/q")
def query(request: Request):
    return {"path": request.url.path, "query": dict(request.query_params)}


@app.get("/p/{name}")
def named(name: str):
    return {"name": name}


@app.get("/n/{n:int}")
def number(n: int):
    return {"n": n}

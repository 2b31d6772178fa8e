"""Faults in HTTP middleware (tests/test_faults.py): a middleware that raises before calling
the app, one that raises after, and an app error passing through middleware."""
import threading

from fastapi import FastAPI, Request

app = FastAPI()


@app.middleware("http")
async def faulty(request: Request, call_next):
    if request.url.path == "/mw/before":
        raise RuntimeError("middleware failed before call_next")
    response = await call_next(request)
    if request.url.path == "/mw/after":
        raise RuntimeError("middleware failed after call_next")
    return response


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.get("/mw/before")
def before():
    return {"never": True}


@app.get("/mw/after")
async def after():
    return {"reached": True}


@app.get("/mw/handler")
def handler():
    raise LookupError("handler failed under middleware")

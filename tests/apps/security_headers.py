"""Handlers that try to put CR/LF into response headers, and ones that fail with internals in
their exception (tests/test_security_defaults.py)."""
import threading

import fastcore
from fastcore.responses import PlainTextResponse, RedirectResponse, Response

app = fastcore.FastCore()


@app.get("/whoami")
def whoami():
    return {"thread": threading.get_ident()}


@app.get("/crlf-value")
def crlf_value():
    return PlainTextResponse("x", headers={"X-Evil": "a\r\nSet-Cookie: injected=1"})


@app.get("/lf-value")
async def lf_value():
    return PlainTextResponse("x", headers={"X-Evil": "a\nSet-Cookie: injected=1"})


@app.get("/crlf-name")
def crlf_name():
    return Response(b"x", headers={"X-Evil\r\nSet-Cookie": "injected=1"})


@app.get("/crlf-bytes")
def crlf_bytes():
    resp = Response(b"x")
    resp.raw_headers.append((b"x-evil", b"a\r\nset-cookie: injected=1"))
    return resp


@app.get("/crlf-redirect")
def crlf_redirect():
    return RedirectResponse("/next\r\nSet-Cookie: injected=1")


@app.get("/crlf-cookie")
def crlf_cookie():
    resp = PlainTextResponse("x")
    resp.set_cookie("session", "a\r\nSet-Cookie: injected=1")
    return resp


@app.get("/boom")
def boom():
    raise RuntimeError("secret /srv/app/config.py password=hunter2")


@app.get("/boom-async")
async def boom_async():
    raise KeyError("/srv/app/internal/path")


@app.get("/client")
def client(request: fastcore.Request):
    return {"client": list(request.client), "scheme": request.url.scheme, "url": str(request.url)}

"""Response classes with Starlette's API: headers, cookies, redirects (tests/test_responses.py).

`cases(module)` builds the same responses from `fastcore.responses` or `starlette.responses`, so
the tests can compare the two; `/case/{name}` sends fastcore's over the wire."""
import datetime

import fastcore
from fastcore import responses as fastcore_responses

app = fastcore.FastCore()


def cases(m):
    out = {}
    out["plain"] = m.Response("hi")
    out["text-csv"] = m.Response("hi", media_type="text/csv")
    out["text-charset-given"] = m.Response("hi", media_type="text/csv; Charset=latin-1")
    out["no-length-204"] = m.Response(b"", status_code=204)
    out["no-length-304"] = m.Response(None, status_code=304)
    out["given-length"] = m.Response("x", headers={"Content-Length": "1", "X-A": "1"})
    out["given-type"] = m.Response("x", headers={"Content-Type": "a/b"}, media_type="text/html")
    out["plain-text"] = m.PlainTextResponse("ü")
    out["html"] = m.HTMLResponse("<p>")
    out["json"] = m.JSONResponse({"a": "ü", "b": [1, 2.5, None]})
    out["memoryview"] = m.Response(memoryview(b"abcdef")[1:4], media_type="application/x-thing")
    out["redirect-quoted"] = m.RedirectResponse("/a b/ü?x=1&y=ä#f")
    out["redirect-abs"] = m.RedirectResponse("https://e.com/p%20q", status_code=301, headers={"X-R": "1"})
    r = out["cookies"] = m.Response("c")
    r.set_cookie("session", "abc123", httponly=True)
    r.set_cookie("theme", "dark", max_age=60, samesite=None)
    r = out["cookie-all"] = m.Response("c")
    r.set_cookie("k", "v w;x", max_age=10, expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                 path="/p", domain="example.com", secure=True, httponly=True, samesite="strict")
    r = out["cookie-expires-str"] = m.Response("c")
    r.set_cookie("k", "v", expires="Thu, 01 Jan 2099 00:00:00 GMT", path=None, samesite="none")
    r = out["delete-cookie"] = m.Response("c")
    r.delete_cookie("k", path="/x", domain="d.org", secure=True)
    r = out["mutate"] = m.Response("h")
    r.headers["X-Multi"] = "1"
    r.headers.append("x-multi", "2")
    r.headers["x-single"] = "s"
    r.headers.setdefault("x-single", "t")
    r = out["set-dedups"] = m.Response("h")
    r.headers.append("x-m", "1")
    r.headers.append("X-M", "2")
    r.headers["x-m"] = "3"
    r = out["vary-del"] = m.Response("h", media_type="text/plain")
    r.headers.append("vary", "a")
    r.headers.add_vary_header("b")
    del r.headers["content-type"]
    return out


@app.get("/case/{name}")
def case(name: str):
    return cases(fastcore_responses)[name]


@app.get("/latin1")
def latin1():
    return fastcore.Response("x", headers={"x-name": "café"})


@app.get("/bad-header")
def bad_header():
    return fastcore.Response("x", headers={"x-bad": "line\nbreak"})

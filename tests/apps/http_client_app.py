"""Handlers that call an upstream server through fastcore.http (tests/test_http_client.py).

The upstream's base URL comes from the FASTCORE_TEST_UPSTREAM environment variable. Handlers
that expect a failure catch it and return its class and message, so the test sees exactly what
a handler would.
"""
import os

import fastcore
from fastcore import Request

app = fastcore.FastCore()
UPSTREAM = os.environ.get("FASTCORE_TEST_UPSTREAM", "http://127.0.0.1:9")

client = fastcore.http.Client(timeout=10, headers={"x-client": "fastcore-test", "x-override": "from-client"})


def failure(e: BaseException) -> dict:
    return {
        "error": type(e).__name__,
        "module": type(e).__module__,
        "message": str(e),
        "url": getattr(e, "url", None),
        "method": getattr(e, "method", None),
        "http_error": isinstance(e, fastcore.http.HTTPError),
        "builtin_timeout": isinstance(e, TimeoutError),
    }


@app.get("/get-json")
async def get_json():
    r = await fastcore.http.get(f"{UPSTREAM}/json")
    return {"status": r.status_code, "json": r.json(), "content_type": r.headers["Content-Type"],
            "x_upstream": r.headers.get("X-UPSTREAM"), "text": r.text, "length": len(r.content),
            "ok": r.is_success, "repr": repr(r)}


@app.post("/post-json")
async def post_json(request: Request):
    r = await fastcore.http.post(f"{UPSTREAM}/echo", json=await request.json())
    return {"status": r.status_code, "echo": r.json()}


@app.get("/methods")
async def methods():
    """Every verb once: module functions, the client, and `request` with a raw body."""
    calls = [
        fastcore.http.put(f"{UPSTREAM}/echo", json={"verb": "put"}),
        fastcore.http.patch(f"{UPSTREAM}/echo", content=b"raw patch", headers={"content-type": "text/plain"}),
        fastcore.http.delete(f"{UPSTREAM}/echo"),
        client.post(f"{UPSTREAM}/echo", content="text body"),
        fastcore.http.request("post", f"{UPSTREAM}/echo", json=[1, 2]),
    ]
    out = []
    for call in calls:
        r = await call
        out.append(r.json())
    return out


@app.get("/headers")
async def headers(marker: str):
    r = await client.get(f"{UPSTREAM}/headers?marker={marker}",
                         headers={"X-Marker": marker, "x-override": "from-request"})
    return {"seen": r.json()["seen"], "reply": r.headers["x-reply"], "multi": r.headers.getlist("X-Multi")}


@app.get("/status/{code}")
async def status(code: int):
    r = await fastcore.http.get(f"{UPSTREAM}/status/{code}")
    try:
        r.raise_for_status()
        raised = None
    except fastcore.http.HTTPStatusError as e:
        raised = {**failure(e), "response_status": e.response.status_code}
    return {"status": r.status_code, "body": r.json(), "raised": raised}


@app.get("/gather/{round_id}")
async def gather(round_id: str):
    # The upstream's /barrier answers passed=true only if both requests are there at once.
    a, b = await fastcore.gather(
        fastcore.http.get(f"{UPSTREAM}/barrier?round={round_id}&tag=a"),
        client.get(f"{UPSTREAM}/barrier?round={round_id}&tag=b"),
    )
    return [a.json(), b.json()]


@app.get("/pooled")
async def pooled():
    """Calls in a row from one handler, hence one worker: one kept-alive connection."""
    ports = []
    for _ in range(10):
        r = await client.get(f"{UPSTREAM}/peer")
        ports.append(r.json()["port"])
    return {"ports": ports}


@app.get("/refused")
async def refused(port: int):
    try:
        await fastcore.http.get(f"http://127.0.0.1:{port}/nothing-here")
    except fastcore.http.HTTPError as e:
        return failure(e)
    return {"error": None}


@app.get("/timeout")
async def timeout(ms: int, limit: float, use_client: bool = False):
    url = f"{UPSTREAM}/slow?ms={ms}"
    try:
        if use_client:
            await fastcore.http.Client(timeout=limit).get(url)
        else:
            await fastcore.http.get(url, timeout=limit)
    except TimeoutError as e:  # the builtin: fastcore.http.TimeoutError subclasses it
        return failure(e)
    return {"error": None}


@app.get("/https")
async def https():
    try:
        await fastcore.http.get("https://127.0.0.1:1/secure")
    except ValueError as e:
        return failure(e)
    return {"error": None}


@app.get("/text")
async def text():
    r = await fastcore.http.get(f"{UPSTREAM}/latin1")
    return {"text": r.text, "encoding": r.encoding}


@app.get("/by-name")
async def by_name():
    """A host name instead of an address: resolved (from /etc/hosts) before connecting."""
    r = await fastcore.http.get(UPSTREAM.replace("127.0.0.1", "localhost") + "/json")
    return {"status": r.status_code, "json": r.json(), "host": r.url}


@app.get("/hang/{tag}")
async def hang(tag: str):
    """Waits on an upstream that never answers, until the client goes away."""
    r = await fastcore.http.get(f"{UPSTREAM}/hold?tag={tag}")
    return r.json()

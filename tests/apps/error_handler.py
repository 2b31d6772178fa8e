"""The core's error-handler contract: `error_handler(exc, raw_request)`, sync or returning a
coroutine (tests/test_dispatch.py). The app's handler is replaced by one that reports what it
was given."""
import fastcore
from fastcore import JSONResponse, Request, Response


class Teapot(Exception):
    """Answered by a coroutine that suspends before it returns."""


class Broken(Exception):
    """Answered by a coroutine that fails."""


class App(fastcore.FastCore):
    def _handle_error(self, exc, raw):
        if isinstance(exc, Teapot):
            return self._teapot(exc, raw)
        if isinstance(exc, Broken):
            return self._broken()
        if isinstance(exc, KeyError):
            return object()
        if isinstance(exc, IndexError):
            return "not a response"  # JSON-able: sent as JSON, like a handler's return value
        return JSONResponse({
            "error": repr(exc),
            "type": type(raw).__name__,
            "method": raw.method,
            "path": raw.raw_path,
            "query": raw.query_string,
            "route": raw.route,
            "path_params": raw.path_params,
            "header": dict(raw.headers).get("x-probe"),
        }, status_code=418)

    async def _teapot(self, exc, raw):
        await fastcore.sleep(0.01)
        body = await raw.read_body() if raw.method == "POST" else b""
        return JSONResponse({"async": True, "error": str(exc), "path": raw.raw_path, "body": body.decode()},
                            status_code=418)

    async def _broken(self):
        await fastcore.sleep(0)
        raise RuntimeError("the error handler itself failed")


app = App()


@app.get("/plain")
def plain():
    raise ValueError("no params")


@app.get("/items/{item_id:int}")
def with_params(item_id: int):
    raise ValueError(f"item {item_id}")


@app.get("/request/{name}")
def with_request(name: str, request: Request):
    raise ValueError(f"name {name}")


@app.get("/async/{name}")
async def async_suspended(name: str):
    await fastcore.sleep(0.01)
    raise ValueError(f"async {name}")


@app.get("/teapot/{name}")
async def teapot(name: str):
    raise Teapot(name)


@app.post("/teapot-body")
async def teapot_body():
    await fastcore.sleep(0.01)
    raise Teapot("with body")


@app.get("/teapot-sync")
def teapot_sync():
    raise Teapot("sync")


@app.get("/broken")
async def broken():
    raise Broken()


@app.get("/lookup")
def lookup():
    raise IndexError("x")


@app.get("/unsendable-error-result")
def unsendable():
    raise KeyError("x")


@app.get("/unsendable-result")
def unsendable_result():
    return Response("x", headers={"bad name": "y"})

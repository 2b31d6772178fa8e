"""Handler failures: exceptions, HTTPException, unserialisable values, Rust panics (tests/test_server.py)."""
import logging
import threading

import fastcore
from fastcore import HTTPException, Request, Response
from fastcore._core import PanicProbe

app = fastcore.FastCore()
log = logging.getLogger("tests.apps.faults")


class Opaque:
    """Nothing knows how to serialise this."""


@app.get("/ok")
def ok(request: Request):
    return {"ok": True, "client_port": request.client[1]}


@app.get("/boom/{marker}")
def boom(marker: str):
    raise RuntimeError(f"kaboom {marker}")


@app.get("/boom-query")
def boom_query(marker: str):
    raise ValueError(f"bad value {marker}")


@app.get("/zero/{n}")
def zero(n: int):
    return {"ratio": 1 / n}


@app.get("/teapot/{marker}")
def teapot(marker: str):
    raise HTTPException(status_code=418, detail=f"I'm a teapot {marker}", headers={"X-Tea": "earl grey"})


@app.get("/missing-item/{item_id}")
def missing_item(item_id: int):
    raise HTTPException(status_code=404, detail="Item not found")


@app.get("/default-detail")
def default_detail():
    raise HTTPException(status_code=403)


@app.get("/structured-detail")
def structured_detail():
    raise HTTPException(status_code=409, detail={"code": "conflict", "ids": [1, 2]})


@app.get("/unserialisable/{marker}")
def unserialisable(marker: str):
    log.info("returning an Opaque for %s", marker)
    return {"marker": marker, "value": Opaque()}


@app.get("/bare-object")
def bare_object():
    return object()


@app.get("/set-of-objects")
def set_of_objects():
    return {"items": {Opaque()}}


@app.get("/nan")
def nan():
    return {"value": float("nan")}


@app.get("/self-referential")
def self_referential():
    loop: list = []
    loop.append(loop)
    return loop


@app.get("/tuple-key")
def tuple_key():
    return {(1, 2): "tuple keys are not JSON"}


@app.get("/header-injection")
def header_injection():
    return Response("x", headers={"X-Evil": "a\r\nSet-Cookie: pwned=1"})


@app.get("/bad-status")
def bad_status():
    return Response("x", status_code=42)


@app.get("/panic")
def panic():
    return PanicProbe()


@app.get("/panic-with-request")
def panic_with_request(request: Request):
    return PanicProbe()


@app.get("/panic-async")
async def panic_async():
    """Suspends first, so the panic happens in the future that drives the suspended handler
    (src/dispatch/serve.rs: Pending::finish after src/runtime/stepper.rs: drive), not on its first step."""
    await fastcore.sleep(0.001)
    return PanicProbe()


@app.get("/panic-in-step")
async def panic_in_step():
    """Panics inside a step of the suspended coroutine: PyO3 turns the Rust panic into a
    PanicException on its way out of `panic()` and back into a panic when the stepper
    (src/runtime/stepper.rs) takes the exception, so it unwinds through the stepper itself."""
    await fastcore.sleep(0.001)
    PanicProbe().panic()


@app.get("/slow-ok/{marker}/{seconds}")
async def slow_ok(marker: str, seconds: float):
    log.warning("slow-ok %s suspended", marker)
    await fastcore.sleep(seconds)
    return {"slept": seconds}


@app.post("/echo-size")
def echo_size(request: Request):
    return {"size": len(request.body_bytes)}


@app.get("/thread")
def thread():
    return {"thread": threading.get_ident()}


@app.get("/panic-awaitable")
async def panic_awaitable():
    """Awaits a Rust future that panics while the stepper polls it (src/runtime/stepper.rs)."""
    await PanicProbe().panic_awaitable()
    return {"never": True}


@app.get("/panic-awaitable-in-gather")
async def panic_awaitable_in_gather():
    """The panicking future as one child of fastcore.gather, beside one that would succeed."""
    await fastcore.gather(PanicProbe().panic_awaitable(), fastcore.sleep(0.01))
    return {"never": True}


@app.get("/panic-awaitable-in-task")
async def panic_awaitable_in_task():
    """The panicking future awaited inside an asyncio task the handler awaits."""
    import asyncio

    async def child():
        await PanicProbe().panic_awaitable()
    await asyncio.create_task(child())
    return {"never": True}

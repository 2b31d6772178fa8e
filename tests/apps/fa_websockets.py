"""WebSocket routes written against FastAPI's API (tests/test_websockets.py serves this module on
fastcore, and compares with FastAPI's own TestClient where FastAPI is installed).

`/events` is the side channel: handlers record what happened to them (a disconnect's code,
a `finally` that ran), and the tests read it over HTTP.
"""
from typing import Annotated

from fastapi import (APIRouter, Cookie, Depends, FastAPI, Header, Query, WebSocket, WebSocketDisconnect,
                     WebSocketException, status)
from fastapi.responses import JSONResponse

app = FastAPI()
events: list[str] = []


@app.get("/events")
def read_events(clear: bool = False):
    out = list(events)
    if clear:
        events.clear()
    return out


@app.websocket("/echo")
async def echo(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                events.append(f"echo disconnect {message['code']}")
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])
    finally:
        events.append("echo finally")


@app.websocket("/json")
async def json_echo(websocket: WebSocket):
    await websocket.accept()
    async for data in websocket.iter_json():
        await websocket.send_json({"got": data})


@app.websocket("/wait")
async def wait(websocket: WebSocket):
    """Receives until the client goes; records how."""
    await websocket.accept()
    try:
        await websocket.receive_text()
    except WebSocketDisconnect as exc:
        events.append(f"wait disconnect {exc.code} {exc.reason}")
    finally:
        events.append("wait finally")


@app.websocket("/server-close")
async def server_close(websocket: WebSocket, code: int = 4001, reason: str = "bye"):
    await websocket.accept()
    await websocket.send_text("closing")
    await websocket.close(code=code, reason=reason)


@app.websocket("/reject")
async def reject(websocket: WebSocket):
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION)


@app.websocket("/protocols")
async def protocols(websocket: WebSocket):
    offered = websocket.headers.get("sec-websocket-protocol", "")
    chosen = "b" if "b" in [p.strip() for p in offered.split(",")] else None
    await websocket.accept(subprotocol=chosen, headers=[(b"x-room", b"lobby")])
    await websocket.send_json({"offered": offered, "chosen": chosen})
    await websocket.close()


@app.websocket("/info/{room}")
async def info(websocket: WebSocket, room: str):
    await websocket.accept()
    await websocket.send_json({
        "room": room,
        "path_params": websocket.path_params,
        "query": dict(websocket.query_params),
        "cookie": websocket.cookies.get("session"),
        "header": websocket.headers.get("x-token"),
        "scheme": websocket.url.scheme,
        "path": websocket.url.path,
        "client_is_tuple": len(websocket.client) == 2,
    })
    await websocket.close()


async def token_dependency(x_token: Annotated[str, Header()]):
    if x_token != "secret":
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason="bad token")
    return x_token


async def tracked():
    events.append("dependency enter")
    try:
        yield "resource"
    finally:
        events.append("dependency exit")


async def socket_path(websocket: WebSocket):
    return websocket.url.path


@app.websocket("/items/{item_id}")
async def items(websocket: WebSocket, item_id: int, q: Annotated[int, Query()],
                token: Annotated[str, Depends(token_dependency)],
                resource: Annotated[str, Depends(tracked)],
                path: Annotated[str, Depends(socket_path)],
                session: Annotated[str | None, Cookie()] = None):
    await websocket.accept()
    await websocket.send_json({"item_id": item_id, "q": q, "token": token, "session": session,
                               "resource": resource, "path": path})
    await websocket.close()


@app.websocket("/raises-after-accept")
async def raises_after_accept(websocket: WebSocket):
    await websocket.accept()
    raise WebSocketException(code=4003, reason="nope")


router = APIRouter(prefix="/router")


@router.websocket("/echo/{name}")
async def router_echo(websocket: WebSocket, name: str):
    await websocket.accept()
    text = await websocket.receive_text()
    await websocket.send_text(f"{name}: {text}")
    await websocket.close()


app.include_router(router, prefix="/v1")


@app.websocket("/deny")
async def deny(websocket: WebSocket):
    response = JSONResponse({"detail": "no entry"}, status_code=401, headers={"x-reason": "token"})
    await websocket.send_denial_response(response)


@app.websocket("/deny-asgi")
async def deny_asgi(websocket: WebSocket):
    await websocket.send({"type": "websocket.http.response.start", "status": 429,
                          "headers": [(b"retry-after", b"3"), (b"content-type", b"text/plain")]})
    await websocket.send({"type": "websocket.http.response.body", "body": b"slow ", "more_body": True})
    await websocket.send({"type": "websocket.http.response.body", "body": b"down"})


sub = FastAPI()


@sub.websocket("/echo/{name}")
async def mounted_echo(websocket: WebSocket, name: str):
    await websocket.accept()
    text = await websocket.receive_text()
    await websocket.send_json({"name": name, "text": text, "path": websocket.url.path})
    await websocket.close()


app.mount("/sub", sub)

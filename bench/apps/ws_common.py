"""The WebSocket echo of bench/ws.py, one `build()` for every framework: a text message in, the
same message out, until the client goes. `/plaintext` is the readiness probe the harness polls.
(No `from __future__ import annotations`: FastAPI resolves the `WebSocket` annotation as is.)"""


def build(FastAPI, WebSocket, WebSocketDisconnect, PlainTextResponse):  # noqa: N803 - the classes
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/plaintext", response_class=PlainTextResponse)
    def plaintext():
        return "Hello, World!"

    @app.websocket("/echo")
    async def echo(websocket: WebSocket):
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            pass

    return app

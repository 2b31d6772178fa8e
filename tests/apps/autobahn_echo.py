"""The echo server Autobahn's fuzzingclient tests (ci/autobahn.sh): every text message is sent
back as text and every binary one as binary, until the client goes."""
from fastcore import FastAPI, WebSocket

app = FastAPI()


@app.websocket("/")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])

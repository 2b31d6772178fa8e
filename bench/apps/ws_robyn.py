"""bench/ws.py's echo on Robyn, written with its WebSocket API (Rust channels; the socket is
accepted before the handler runs). Run as `python ws_robyn.py --processes 1 --workers 1`; the
port comes from ROBYN_PORT."""
from robyn import Robyn

app = Robyn(__file__)


@app.get("/plaintext")
def plaintext():
    return "Hello, World!"


@app.websocket("/echo")
async def echo(websocket):
    while True:
        await websocket.send_text(await websocket.receive_text())


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=8080)

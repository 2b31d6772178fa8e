"""fastcore-only WebSocket routes (tests/test_websockets.py): a chat room that broadcasts across
worker threads through `fastcore.Queue`, and an echo for many concurrent sockets.

Each chat socket owns a `fastcore.Queue` (safe to share across workers) in a process-wide
registry; a forwarding task (`fastcore.spawn`, on the socket's own worker) sends what arrives in
it. A message from any socket is put in every queue, so it reaches sockets on every worker.
"""
import os
import threading
import time
from pathlib import Path

from fastcore import FastAPI, Queue, WebSocket, WebSocketDisconnect, spawn

app = FastAPI()
rooms: dict[int, Queue] = {}
threads_seen: dict[int, int] = {}  # chat socket -> worker thread serving it
registry = threading.Lock()


@app.get("/chat/members")
def members():
    with registry:
        return {"members": len(rooms), "threads": sorted(set(threads_seen.values()))}


@app.websocket("/chat")
async def chat(websocket: WebSocket):
    await websocket.accept()
    inbox = Queue()
    key = id(inbox)
    with registry:
        rooms[key] = inbox
        threads_seen[key] = threading.get_ident()

    async def forward():
        while True:
            await websocket.send_text(await inbox.get())

    forwarder = spawn(forward())
    try:
        await websocket.send_text(f"joined {threading.get_ident()}")
        async for text in websocket.iter_text():
            if text.startswith("/hold "):  # blocks this socket's worker thread: new connections go to another
                time.sleep(float(text.split()[1]))
                continue
            with registry:
                inboxes = list(rooms.values())
            for queue in inboxes:
                queue.put_nowait(text)
    finally:
        with registry:
            rooms.pop(key, None)
            threads_seen.pop(key, None)
        forwarder.cancel()


@app.websocket("/echo")
async def echo(websocket: WebSocket):
    await websocket.accept()
    async for data in websocket.iter_bytes():
        await websocket.send_bytes(data)


@app.websocket("/until-shutdown")
async def until_shutdown(websocket: WebSocket):
    """Waits for a message that never comes; records (in $FASTCORE_TEST_DIR/ws-shutdown) how it ended."""
    record = Path(os.environ["FASTCORE_TEST_DIR"]) / "ws-shutdown"
    await websocket.accept()
    try:
        await websocket.send_text("ready")
        await websocket.receive_text()
    except WebSocketDisconnect as exc:
        with record.open("a") as f:
            f.write(f"disconnect {exc.code}\n")
    finally:
        with record.open("a") as f:
            f.write("finally\n")

"""bench/ws.py's echo on fastcore: the same code as ws_fastapi.py, imports renamed."""
from fastcore import FastAPI, WebSocket, WebSocketDisconnect
from fastcore.responses import PlainTextResponse

from ws_common import build

app = build(FastAPI, WebSocket, WebSocketDisconnect, PlainTextResponse)

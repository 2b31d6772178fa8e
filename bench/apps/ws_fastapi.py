"""bench/ws.py's echo on FastAPI (served by uvicorn and by Granian)."""
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse

from ws_common import build

app = build(FastAPI, WebSocket, WebSocketDisconnect, PlainTextResponse)

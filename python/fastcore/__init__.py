"""fastcore: FastAPI-style handlers served by a Rust HTTP core, made for free-threaded Python.

    import fastcore

    app = fastcore.FastCore()

    @app.get("/")
    def hello():
        return {"message": "Hello, World!"}
"""
from . import _core
from . import status
from .applications import FastAPI, FastCore
from .concurrency import Event, Lock, Queue, Semaphore, Task, gather, sleep, spawn, timeout, to_thread, wait_for
from .encoders import jsonable
from .exceptions import HTTPException, RequestValidationError, WebSocketException
from .background import BackgroundTasks
from .datastructures import UploadFile
from .param_functions import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from .datastructures import UploadFile
from .requests import Request
from .responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from .routing import APIRouter
from .server import serve
from .websockets import WebSocket, WebSocketDisconnect
from . import http

__version__ = _core.__version__
_core.configure(Response, jsonable)

__all__ = [
    "APIRouter",
    "WebSocketException",
    "status",
    "BackgroundTasks",
    "UploadFile",
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Path",
    "Query",
    "Security",
    "Event",
    "UploadFile",
    "Lock",
    "Queue",
    "Semaphore",
    "FastAPI",
    "FastCore",
    "HTMLResponse",
    "HTTPException",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Task",
    "gather",
    "serve",
    "sleep",
    "spawn",
    "timeout",
    "to_thread",
    "wait_for",
    "WebSocket",
    "WebSocketDisconnect",
]

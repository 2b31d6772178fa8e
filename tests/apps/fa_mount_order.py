"""Routes and mounts whose paths overlap, declared in an order that decides who answers
(tests/test_mount_order.py): Starlette's router tries them in declaration order, so a mount
declared before a route takes the route's paths."""
import os

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.staticfiles import StaticFiles

FILES = os.path.dirname(os.path.abspath(__file__))
LOG: list[str] = []  # what the background tasks did


def build_sub() -> FastAPI:
    sub = FastAPI(openapi_url=None)

    @sub.get("/x")
    def sub_x():
        return {"from": "sub /x"}

    @sub.get("/items")
    def sub_items():
        return {"from": "sub /items"}

    @sub.get("/boom")
    def boom():
        raise RuntimeError("raised in a mounted app")

    @sub.get("/bg")
    def bg(background: BackgroundTasks):
        background.add_task(LOG.append, "handler")
        return {"from": "sub /bg"}

    @sub.post("/posted")
    def sub_posted():
        return {"from": "sub POST /posted"}

    @sub.post("/echo")
    async def sub_echo(request: Request):
        return {"from": "sub async /echo", "body": (await request.body()).decode()}

    @sub.post("/sum")
    def sub_sum(numbers: list[int]):
        return {"from": "sub sync /sum", "sum": sum(numbers)}

    return sub


def build(app: FastAPI) -> FastAPI:
    @app.get("/log")
    def log():
        return sorted(LOG)

    @app.get("/api/early")
    def early():
        return {"from": "route declared before the mount"}

    @app.get("/api/posted")
    def get_posted():
        return {"from": "GET route declared before the mount"}

    app.mount("/api", build_sub())

    @app.get("/api/x")
    def late():
        return {"from": "route declared after the mount"}

    # Declared after the mount, which takes their paths: a request's body is read (or left to
    # the handler) as the mounted app's handler wants, not as these would.
    @app.post("/api/echo")
    def late_echo(numbers: list[int]):
        return {"from": "never reached: sync route declared after the mount"}

    @app.post("/api/sum")
    async def late_sum(request: Request):
        return {"from": "never reached: async route declared after the mount"}

    @app.get("/api/late-only")
    def late_only():
        return {"from": "never reached"}

    @app.get("/{section}/items")
    def section_items(section: str):
        return {"from": "route with a parameter", "section": section}

    @app.get("/other")
    def other():
        return {"from": "a route no mount overlaps"}

    app.mount("/files", StaticFiles(directory=FILES))

    @app.get("/files/report")
    def report():
        return {"from": "never reached: the files mount takes it"}

    @app.get("/filesx")
    def filesx():
        return {"from": "not under the mount"}

    return app


app = build(FastAPI())
wrapped = FastAPI()


@wrapped.middleware("http")
async def tag(request: Request, call_next):
    response = await call_next(request)
    response.headers["x-mw"] = "yes"
    if request.url.path == "/api/bg":  # a mount's response given a background task of its own
        tasks = BackgroundTasks()
        tasks.add_task(LOG.append, "middleware")
        response.background = tasks
    return response


build(wrapped)

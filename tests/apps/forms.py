"""Form routes for tests/test_formparsers.py, written once for fastcore and for FastAPI.

`build(App, Request)` defines the routes on either framework's classes, so the test can send
the same requests to FastAPI (its TestClient) and to fastcore (a real server) and compare;
`app` is the fastcore instance. The sync routes exist on fastcore only (FastAPI has no sync
`request.form()`); they read the form with `fastcore.formparsers.parse_form`.
"""
import hashlib
import os
from typing import Any

import fastcore
from fastcore import Request as FastcoreRequest


async def describe(form: Any) -> list[list[Any]]:
    """A form as JSON: [name, value] for fields, [name, filename, content_type, size,
    sha256, first bytes, headers] for files."""
    out: list[list[Any]] = []
    for name, value in form.multi_items():
        if isinstance(value, str):
            out.append([name, value])
            continue
        data = await value.read()
        out.append([name, value.filename, value.content_type, value.size, hashlib.sha256(data).hexdigest(),
                    data[:32].decode("latin-1"), [list(h) for h in value.headers.items()]])
    return out


def build(App: Any, Request: Any) -> Any:
    app = App()

    @app.post("/async")
    async def form_async(request: Request):
        return await describe(await request.form())

    @app.post("/async/limits")
    async def form_limits(request: Request):
        q = request.query_params
        limits = {k: int(q[k]) for k in ("max_files", "max_fields", "max_part_size") if k in q}
        return await describe(await request.form(**limits))

    @app.post("/async/ctx")
    async def form_ctx(request: Request):
        async with request.form() as form:
            files = [v for _, v in form.multi_items() if not isinstance(v, str)]
            described = await describe(form)
        return {"form": described, "closed": [f.file.closed for f in files]}

    @app.post("/async/twice")
    async def form_twice(request: Request):
        first = await request.form()
        second = await request.form()
        return {"same": first is second, "form": await describe(second)}

    @app.post("/async/spill")
    async def form_spill(request: Request):
        """Where each file part lives: in memory, or in an unlinked file on disk."""
        form = await request.form()
        out = {}
        for name, value in form.multi_items():
            if isinstance(value, str):
                continue
            rolled = bool(getattr(value.file, "_rolled", False))
            where = os.readlink(f"/proc/self/fd/{value.file.fileno()}") if rolled else None
            data = await value.read()
            out[name] = {"rolled": rolled, "where": where, "size": value.size, "read": len(data),
                         "sha256": hashlib.sha256(data).hexdigest()}
        await form.close()
        return out

    return app


app = build(fastcore.FastCore, FastcoreRequest)


@app.post("/sync")
def form_sync(request: FastcoreRequest):
    from fastcore.formparsers import parse_form

    form = parse_form(request._raw)
    out: list[list[Any]] = []
    for name, value in form.multi_items():
        if isinstance(value, str):
            out.append([name, value])
            continue
        data = value.file.read()
        out.append([name, value.filename, value.content_type, value.size, hashlib.sha256(data).hexdigest(),
                    data[:32].decode("latin-1"), [list(h) for h in value.headers.items()]])
    return out


@app.post("/sync/limits")
def form_sync_limits(request: FastcoreRequest):
    from fastcore.formparsers import parse_form

    q = request.query_params
    limits = {k: int(q[k]) for k in ("max_files", "max_fields", "max_part_size") if k in q}
    form = parse_form(request._raw, **limits)
    return [[k, v if isinstance(v, str) else v.filename] for k, v in form.multi_items()]


@app.get("/ping")
def ping():
    return {"pong": True}


if __name__ == "__main__":
    # python -m tests.apps.forms PORT MAX_BODY: the same app with a body limit (the CLI has no flag)
    import logging
    import sys

    logging.basicConfig(level="INFO", format="%(levelname)-8s %(name)s: %(message)s", stream=sys.stderr)
    fastcore.serve(app, "127.0.0.1", int(sys.argv[1]), threads=1, max_body=int(sys.argv[2]))

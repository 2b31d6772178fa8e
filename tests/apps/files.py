"""FileResponse (tests/test_files.py). `/file` sends the file named by the query string with the
options it gives, from fastcore; `starlette_app()` builds the same responses with Starlette, for
the comparison tests (GIL venv only)."""
import json
import os
import time

import fastcore
from fastcore import Request
from fastcore.background import BackgroundTask
from fastcore.responses import FileResponse

app = fastcore.FastCore()
finished: dict[str, float] = {}


def options(query) -> dict:
    """FileResponse keyword arguments from the query string (`opts` is JSON)."""
    opts = json.loads(query.get("opts", "{}"))
    if "stat_size" in opts:  # a stat_result claiming another size than the file's
        st = os.stat(query["path"])
        opts["stat_result"] = os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid,
                                              opts.pop("stat_size"), st.st_atime, st.st_mtime, st.st_ctime))
    return opts


def record(name: str) -> None:
    finished[name] = time.time()


@app.api_route("/file", methods=["GET", "HEAD", "POST"])
def send_file(request: Request):
    query = request.query_params
    opts = options(query)
    if "background" in opts:
        opts["background"] = BackgroundTask(record, opts["background"])
    return FileResponse(query["path"], **opts)


@app.get("/finished/{name}")
def was_finished(name: str):
    return {"finished": finished.get(name)}


def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import FileResponse as StarletteFileResponse
    from starlette.routing import Route

    def endpoint(request):
        opts = options(request.query_params)
        opts.pop("method", None)
        return StarletteFileResponse(request.query_params["path"], **opts)

    return Starlette(routes=[Route("/file", endpoint, methods=["GET", "HEAD", "POST"])])

"""An app served through `fastcore.serve(..., max_body=...)`, the body limit set from Python (the CLI's
`--max-body` is tested in tests/test_limits.py).

    python -m tests.apps.limited PORT MAX_BODY
"""
import logging
import sys

import fastcore
from fastcore import Request

app = fastcore.FastCore()


@app.post("/upload")
def upload(request: Request):
    return {"size": len(request.body_bytes)}


@app.get("/ping")
def ping():
    return {"pong": True}


if __name__ == "__main__":
    logging.basicConfig(level="INFO", format="%(levelname)-8s %(name)s: %(message)s", stream=sys.stderr)
    port, max_body = int(sys.argv[1]), int(sys.argv[2])
    fastcore.serve(app, "127.0.0.1", port, threads=1, max_body=max_body)

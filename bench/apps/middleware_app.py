"""JSON hello with the middleware `MIDDLEWARE` names (bench/middleware.sh): `none`, `native`
(CORSMiddleware + GZipMiddleware, done in Rust) or `python` (one pass-through
`@app.middleware("http")`). With `none` it runs on builds from before middleware existed."""
import os

import fastcore

app = fastcore.FastCore()
kind = os.environ.get("MIDDLEWARE", "none")
if kind == "native":
    from fastcore.middleware.cors import CORSMiddleware
    from fastcore.middleware.gzip import GZipMiddleware

    app.add_middleware(CORSMiddleware, allow_origins=["https://example.org"], allow_credentials=True)
    app.add_middleware(GZipMiddleware)
elif kind == "python":
    @app.middleware("http")
    async def passthrough(request, call_next):
        return await call_next(request)


@app.get("/")
def hello():
    return {"message": "Hello, World!"}

"""bench/api.py's app on FastAPI (served by uvicorn, uvloop + httptools)."""
import fastapi

from api_common import build

app = build(fastapi)

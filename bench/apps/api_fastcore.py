"""bench/api.py's app on fastcore: the same code as api_fastapi.py, another import."""
import fastcore

from api_common import build

app = build(fastcore)

"""fastcore serving $STATIC_DIR under /static (bench/static.py): no Python per request."""
import os

from fastcore import FastCore
from fastcore.staticfiles import StaticFiles

app = FastCore(openapi_url=None)
app.mount("/static", StaticFiles(directory=os.environ["STATIC_DIR"]), name="static")

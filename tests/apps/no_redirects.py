"""An app whose router has redirect_slashes off (tests/test_redirects.py)."""
import fastcore
from fastcore._core import Router

app = fastcore.FastCore()
app.router = Router(app._handle_error, redirect_slashes=False)


@app.get("/items")
def items():
    return {"items": True}

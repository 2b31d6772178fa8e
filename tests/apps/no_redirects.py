"""An app with redirect_slashes off (tests/test_redirects.py)."""
import fastcore

app = fastcore.FastAPI(redirect_slashes=False)


@app.get("/items")
def items():
    return {"items": True}

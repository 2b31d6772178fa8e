"""`FastAPI(debug=True)` (tests/test_faults.py): unhandled exceptions answer with their traceback,
plain text or an HTML page by the Accept header; HTTPException and handled ones are unchanged."""
from fastapi import FastAPI, HTTPException


class Handled(Exception):
    pass


app = FastAPI(debug=True)


@app.exception_handler(Handled)
async def handled(request, exc: Handled):
    from fastapi.responses import JSONResponse

    return JSONResponse({"handled": str(exc)}, status_code=409)


def inner(marker: str) -> None:
    raise RuntimeError(f"debug <boom> {marker}")


@app.get("/boom/{marker}")
def boom(marker: str):
    inner(marker)


@app.get("/boom-async/{marker}")
async def boom_async(marker: str):
    inner(marker)


@app.get("/handled")
def raise_handled():
    raise Handled("by the app")


@app.get("/teapot")
def teapot():
    raise HTTPException(418, "short and stout")

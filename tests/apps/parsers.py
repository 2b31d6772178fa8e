"""What a handler sees of the query string and the Cookie header (tests/test_properties.py)."""
import fastcore
from fastcore import Request

app = fastcore.FastCore()


@app.get("/echo")
def echo(request: Request):
    return {"query": request.query_params.multi_items(), "cookies": request.cookies}


@app.get("/echo-async")
async def echo_async(request: Request):
    return {"query": request.query_params.multi_items(), "cookies": request.cookies}

"""A small service written purely with FastAPI idioms; tests/test_porting.py runs it unchanged on
FastAPI and, with the import renamed, on fastcore, and compares every answer."""
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int, q: str | None = None):
    return {"item_id": item_id, "q": q}


@app.get("/async/{name}")
async def read_async(name: str):
    return {"name": name}

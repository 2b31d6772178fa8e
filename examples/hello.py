"""The smallest app: what the benchmarks serve (bench/hello.sh). `make demo` serves examples/notes/."""
from pydantic import BaseModel

import fastcore

app = fastcore.FastCore()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.get("/")
def hello():
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext():
    return fastcore.PlainTextResponse("Hello, World!")


@app.get("/users/{user_id}")
def read_user(user_id: int, q: str | None = None):
    return {"user_id": user_id, "q": q}


@app.post("/items", response_model=Item, status_code=201)
def create_item(item: Item):
    return item


@app.get("/async")
async def hello_async():
    return {"message": "Hello, World!"}


@app.get("/slow/{ms}")
async def slow(ms: int):
    # Suspends this request only: the worker serves others while the Rust timer runs.
    await fastcore.sleep(ms / 1000)
    return {"slept_ms": ms}

"""fastcore: the scenarios as a user would write them (see common.py for the routes)."""
import fastcore
from fastcore import Request

from common import HELLO, PAYLOAD, SLEEP_S, TEXT, UPSTREAM, Item, cpu_work

app = fastcore.FastCore()


@app.get("/plaintext")
def plaintext():
    return fastcore.PlainTextResponse(TEXT)


@app.get("/")
def hello():
    return HELLO


@app.get("/async")
async def hello_async():
    return HELLO


@app.get("/users/{user_id}")
def read_user(user_id: int, q: str | None = None):
    return {"user_id": user_id, "q": q}


@app.post("/items", response_model=Item, status_code=201)
def create_item(item: Item):
    return item


@app.get("/json10k")
def json10k():
    return PAYLOAD


@app.get("/sleep")
async def sleep():
    await fastcore.sleep(SLEEP_S)
    return HELLO


@app.get("/fanout")
async def fanout():
    a, b = await fastcore.gather(fastcore.http.get(UPSTREAM), fastcore.http.get(UPSTREAM))
    return {"upstream": [a.json(), b.json()]}


@app.post("/upload")
async def upload(request: Request):
    body = await request.body()
    return {"size": len(body)}


# --- thread scaling (bench/harness.py scaling) -------------------------------------------------

@app.get("/cpu")
def cpu():
    return {"total": cpu_work()}


# --- memory per suspended request (bench/harness.py memory) ------------------------------------
# /park requests wait on one shared event until /release sets it. The run uses one worker
# thread, so the plain counter needs no lock.
_release = fastcore.Event()
_parked = 0


@app.get("/park")
async def park():
    global _parked
    _parked += 1
    await _release.wait()
    return HELLO


@app.get("/parked")
def parked():
    return {"parked": _parked}


@app.get("/release")
def release():
    _release.set()
    return {"released": _parked}

"""The two routes bench/profile.sh samples: the same JSON hello, sync and async."""
import fastcore

app = fastcore.FastCore()


@app.get("/sync")
def hello_sync():
    return {"message": "Hello, World!"}


@app.get("/async")
async def hello_async():
    return {"message": "Hello, World!"}

"""Routing, HTTP/1.1 behaviour and the Request object (tests/test_routing.py, test_requests.py, test_http.py)."""
import fastcore
from fastcore import Request

app = fastcore.FastCore()


@app.api_route("/", methods=["GET", "HEAD"])  # FastAPI serves HEAD only where declared
def root():
    return {"route": "root"}


@app.get("/items")
def items():
    return {"route": "items"}


@app.get("/users/me")
def read_me():
    return {"route": "me"}


@app.api_route("/users/{user_id}", methods=["GET", "HEAD"])  # FastAPI serves HEAD only where declared
def read_user(user_id: int):
    return {"user_id": user_id, "type": type(user_id).__name__}


@app.get("/prices/{price}")
def read_price(price: float):
    return {"price": price, "type": type(price).__name__}


@app.get("/names/{name}")
def read_name(name: str):
    return {"name": name, "type": type(name).__name__}


@app.api_route("/files/{rest:path}", methods=["GET", "HEAD"])  # FastAPI serves HEAD only where declared
def read_file(rest: str):
    return {"rest": rest}


@app.get("/orgs/{org}/repos/{repo_id}")
def read_repo(org: str, repo_id: int):
    return {"org": org, "repo_id": repo_id}


@app.get("/things/{thing_id}")
def get_thing(thing_id: int):
    return {"method": "GET", "thing_id": thing_id}


@app.post("/things/{thing_id}")
def post_thing(thing_id: int):
    return {"method": "POST", "thing_id": thing_id}


@app.put("/things/{thing_id}")
def put_thing(thing_id: int):
    return {"method": "PUT", "thing_id": thing_id}


@app.patch("/things/{thing_id}")
def patch_thing(thing_id: int):
    return {"method": "PATCH", "thing_id": thing_id}


@app.delete("/things/{thing_id}")
def delete_thing(thing_id: int):
    return {"method": "DELETE", "thing_id": thing_id}


@app.post("/only-post")
def only_post():
    return {"method": "POST"}


@app.get("/only-get")
def only_get():
    return {"method": "GET"}


@app.api_route("/multi", methods=["GET", "POST"])
def multi(request: Request):
    return {"method": request.method}


@app.get("/client")
def client(request: Request):
    host, port = request.client
    return {"host": host, "port": port}


@app.api_route("/sized/{n}", methods=["GET", "HEAD"])  # FastAPI serves HEAD only where declared
def sized(n: int):
    return "x" * n


@app.api_route("/inspect/{tail:path}", methods=["GET", "POST", "PUT", "DELETE"])
def inspect_request(tail: str, request: Request):
    return {
        "tail": tail,
        "method": request.method,
        "url": str(request.url),
        "path": request.path,
        "query": request.query_params.multi_items(),
        "query_last": dict(request.query_params),
        "header_tags": request.headers.getlist("X-Tag"),
        "user_agent": request.headers.get("USER-AGENT"),
        "latin1": request.headers.get("x-latin1"),
        "cookies": request.cookies,
        "client": list(request.client),
        "http_version": request.http_version,
        "body": request.body_bytes.decode("latin-1"),
        "body_len": len(request.body_bytes),
        "path_params": request.path_params,
    }

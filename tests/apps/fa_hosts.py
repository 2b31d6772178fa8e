"""TrustedHostMiddleware and HTTPSRedirectMiddleware as FastAPI apps use them
(tests/test_hosts_middleware.py)."""
from fastapi import FastAPI
from fastapi.middleware.httpsredirect import HTTPSRedirectMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware

app = FastAPI()
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.org", "www.example.net"])


@app.get("/where")
def where():
    return {"ok": True}


app_no_www = FastAPI()
app_no_www.add_middleware(TrustedHostMiddleware, allowed_hosts=["www.example.net"], www_redirect=False)


@app_no_www.get("/where")
def no_www_where():
    return {"ok": True}


app_https = FastAPI()
app_https.add_middleware(HTTPSRedirectMiddleware)


@app_https.get("/where")
def https_where():
    return {"ok": True}

"""OpenAPI for fastcore apps, FastAPI's `fastapi.openapi` layout.

- `utils`: `get_openapi(...)`, the document read from the route plans;
- `fields`: the schema fields and pydantic's JSON schemas of them;
- `models`: the document's key order;
- `docs`: the Swagger UI and ReDoc pages, served from assets shipped in the package.
"""

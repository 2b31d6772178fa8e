"""From a handler's signature to the arguments it is called with, FastAPI's `dependencies/` way.

- `models`: the per-route plan, plain data (what each parameter is and where it comes from);
- `analyze`: signature → plan, once per route when it is registered;
- `solve`: plan → keyword arguments, once per request (the generic walk);
- `straight`: that walk generated as straight-line code per route at start-up (what runs);
- `json_body`: which JSON bodies can be validated straight from their bytes.

`fastcore.routing` puts them together with response finishing.
"""

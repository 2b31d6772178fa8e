"""The demo service `make demo` serves: a notes API with a page (examples/notes/app.py)."""

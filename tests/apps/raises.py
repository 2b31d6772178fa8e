"""An app module that raises while being imported (not an ImportError)."""
raise RuntimeError("raises-at-import marker")

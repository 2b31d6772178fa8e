"""An app module whose import fails: `fastcore run tests.apps.broken:app` must say so."""
import fastcore
import tests.apps.this_module_does_not_exist  # noqa: F401

app = fastcore.FastCore()

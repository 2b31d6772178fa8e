"""`app` here is not a FastCore application."""
app = {"not": "an app"}

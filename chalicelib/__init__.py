"""The registry's domain, shared by the API Lambda (app.py) and every function in functions/."""

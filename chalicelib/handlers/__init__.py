"""The HTTP adapters: /v2/ (v2.py), /service/token (token.py) and Harbor's /api/v2.0/ (harbor/).
They parse requests, call services and render answers and errors (errors.py); no rule lives here."""

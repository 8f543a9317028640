"""Lambda handlers other than the HTTP API: thin, powertools-decorated, calling chalicelib."""

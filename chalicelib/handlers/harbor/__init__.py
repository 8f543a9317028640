"""Harbor's REST API (/api/v2.0): resources as in Harbor 2.6's swagger, authorized here."""

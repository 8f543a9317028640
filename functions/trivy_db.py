"""Daily (EventBridge schedule): puts a current trivy vulnerability DB into S3 for the scan worker."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import lambda_handler, logger
from chalicelib.scan import trivy


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    source = trivy.refresh_db()
    logger.info("trivy DB refreshed", extra={"source": source})
    return {"status": "ok", "source": source}

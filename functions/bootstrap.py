"""Run once after a deployment (make deploy invokes it): signing key, admin, project `library`."""

from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.observability import lambda_handler, logger


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    bootstrap.run()
    logger.info("bootstrap complete")
    return {"status": "ok"}

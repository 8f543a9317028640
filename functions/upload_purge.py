"""Upload purging, run daily by its schedule (infra/template.yaml, UploadPurgeFunction)."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import lambda_handler
from chalicelib.operations import uploads


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return uploads.purge(lambda: context.get_remaining_time_in_millis() / 1000)

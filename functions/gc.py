"""The garbage collection state machine's task function: one handler, the step named in the payload."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import lambda_handler
from chalicelib.operations import gc


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return gc.run_step(event, lambda: context.get_remaining_time_in_millis() / 1000)

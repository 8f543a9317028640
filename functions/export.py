"""The CVE export state machine's task function: one handler, the step named in the payload."""

from __future__ import annotations

from typing import Any

from chalicelib.export import tasks
from chalicelib.observability import lambda_handler


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return tasks.run(event)

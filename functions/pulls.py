"""The pull recorder: consumes the pull queue (SQS event source, in batches) and writes the pull
counts, pull times and audit records of each batch at once (chalicelib/registry/pulls.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import lambda_handler
from chalicelib.registry import pulls


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    failed = pulls.record({record["messageId"]: record["body"] for record in event.get("Records", [])})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

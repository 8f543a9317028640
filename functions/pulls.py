"""The pull recorder: writes the pull counts, pull times and audit records of many pulls at once
(chalicelib/registry/pulls.py), invoked by the pull queue (SQS event source, in batches); invoked each
minute by its schedule, it moves what runs that stopped halfway left."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import lambda_handler
from chalicelib.registry import pulls


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" not in event:  # the schedule
        return {"moved": pulls.move_stale_tallies()}
    failed = pulls.record({record["messageId"]: record["body"] for record in event["Records"]})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

"""The pull recorder: writes the pull counts, pull times and audit records of many pulls at once
(chalicelib/registry/pulls.py). Invoked each minute by its schedule, it empties the cache's pull
stream; invoked by the pull queue (SQS event source, in batches), it writes what came while the
cache was away."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import lambda_handler
from chalicelib.registry import pulls

# Left for the last batch of a scheduled run: a batch of 1,000 pulls takes a few seconds to write.
_MARGIN_MS = 15_000


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" not in event:  # the schedule
        written = pulls.flush(context.aws_request_id,
                              lambda: context.get_remaining_time_in_millis() > _MARGIN_MS)
        return {"written": written}
    failed = pulls.record({record["messageId"]: record["body"] for record in event["Records"]})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
